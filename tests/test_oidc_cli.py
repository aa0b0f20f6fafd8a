"""``kleidi client add`` and ``kleidi keys rotate``."""

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from oidc_support import code_flow

from idp import cli, create_app, keys
from idp.oidc import clients, signing, tokens


def _add(app, *args):
    return app.test_cli_runner().invoke(args=["client", "add", "--json", *args])


def test_client_add_speaks_text_without_json(app):
    result = app.test_cli_runner().invoke(args=["client", "add", "--name", "E-class",
                                                "--redirect-uri", "https://rp.example.org/a"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("client registered\n  client_id: ")
    assert "client_secret: " in result.output and "{" not in result.output


def test_client_add_prints_id_and_secret_once_and_stores_a_hash(app):
    result = _add(app, "--redirect-uri", "https://rp.example.org/a",
                  "--redirect-uri", "https://rp.example.org/b", "--name", "E-class",
                  "--scope", "openid", "--scope", "eduperson")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    with app.app_context():
        row = clients.find(out["client_id"])
        assert row.redirect_uris == ["https://rp.example.org/a", "https://rp.example.org/b"]
        assert row.scopes == ["openid", "eduperson"] and row.sector == "rp.example.org"
        assert out["client_secret"] not in json.dumps(
            {c.name: str(getattr(row, c.name)) for c in row.__table__.columns})
        assert row.secret_hash == tokens.digest(out["client_secret"])


def test_public_client_has_no_secret(app):
    out = json.loads(_add(app, "--public", "--redirect-uri", "http://127.0.0.1:8080/cb").output)
    assert "client_secret" not in out and out["token_endpoint_auth_method"] == "none"


def test_private_key_jwt_client_needs_keys(app, tmp_path):
    refused = _add(app, "--auth-method", "private_key_jwt", "--redirect-uri",
                   "https://rp.example.org/cb")
    assert refused.exit_code != 0 and "jwks" in refused.output.lower()
    path = tmp_path / "jwks.json"
    key = ECKey.generate_key("P-256", private=True)
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    ok = _add(app, "--auth-method", "private_key_jwt", "--jwks", str(path),
              "--redirect-uri", "https://rp.example.org/cb")
    assert ok.exit_code == 0 and "client_secret" not in json.loads(ok.output)


def test_bad_redirect_uris_are_refused(app):
    for uri in ("http://rp.example.org/cb", "https://rp.example.org/cb#x", "rp.example.org"):
        result = _add(app, "--redirect-uri", uri)
        assert result.exit_code != 0, uri
    several_hosts = _add(app, "--redirect-uri", "https://a.example.org/cb",
                         "--redirect-uri", "https://b.example.org/cb")
    assert several_hosts.exit_code != 0 and "--sector" in several_hosts.output


def test_keys_rotate_signs_with_the_published_next_key(app, client, login, make_account,
                                                       tmp_path):
    app.config["KEYS_DIR"] = str(tmp_path)
    signing.initialise(tmp_path, datetime.now(UTC))
    app.extensions["kleidi.oidc.keys"] = signing.SigningKeys(tmp_path)
    cached = KeySet.import_key_set(client.get("/oidc/jwks").get_json())
    next_kids = {e["kid"] for e in signing._read_manifest(tmp_path) if e["state"] == "next"}
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "retired" in result.output
    out = json.loads(_add(app, "--redirect-uri", "https://rp.example.org/callback",
                          "--id-token-alg", "ES256").output)
    username, password = make_account()
    token, _, _ = code_flow(client, login, app, username=username, password=password,
                            client_id=out["client_id"], secret=out["client_secret"])
    decoded = jwt.decode(token["id_token"], cached, algorithms=["ES256"])  # the RP's old cache
    assert decoded.header["kid"] in next_kids and decoded.header["alg"] == "ES256"


def test_production_refuses_to_serve_without_keys_but_rotate_creates_them(base_settings,
                                                                          tmp_path):
    keys.ensure_dev_keys(tmp_path)  # the SAML key pairs, which production requires too
    settings = {**base_settings, "ENV": "production", "BASE_URL": "https://idp.example.edu",
                "KEYS_DIR": str(tmp_path), "SMTP_URL": "smtp://127.0.0.1:1",
                "SMS_HTTP_URL": "https://sms.example.edu/send", "MFA_SECRET_KEY": "test mfa key"}
    with pytest.raises(signing.MissingSigningKeys, match="kleidi keys rotate"):
        create_app(settings)
    env = {f"KLEIDI_{name}": str(settings[name]) for name in (
        "ENV", "BASE_URL", "KEYS_DIR", "DATABASE_URL", "REDIS_URL", "SECRET_KEY",
        "PAIRWISE_SECRET", "SMTP_URL", "SMS_HTTP_URL", "MFA_SECRET_KEY")}
    result = CliRunner().invoke(cli.main, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert sorted(e["state"] for e in signing._read_manifest(tmp_path)) == [
        "current", "current", "next", "next"]
    create_app(settings)  # now it starts


def test_purge_deletes_only_grants_that_ended_long_ago(app, client, login, make_account, clock):
    username, password = make_account()
    out = json.loads(_add(app, "--redirect-uri", "https://rp.example.org/callback").output)
    old, _, _ = code_flow(client, login, app, username=username, password=password,
                          client_id=out["client_id"], secret=out["client_secret"])
    clock.advance(app.config["OIDC_REFRESH_ABSOLUTE_SECONDS"]
                  + app.config["OIDC_GRANT_RETENTION_SECONDS"] + 60)
    fresh, _, _ = code_flow(client, login, app, username=username, password=password,
                            client_id=out["client_id"], secret=out["client_secret"])
    result = app.test_cli_runner().invoke(args=["oidc", "purge"])
    assert result.exit_code == 0 and result.output.startswith("1 ended")
    with app.app_context():
        assert tokens.find_refresh_token(old["refresh_token"]) is None
        assert tokens.find_refresh_token(fresh["refresh_token"]) is not None
