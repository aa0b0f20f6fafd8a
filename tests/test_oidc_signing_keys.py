"""Signing keys and their rollover, as a relying party caching the JWKS sees them."""

import stat
from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc import signing

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _sign(keys, alg):
    key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid}, {"sub": "x"}, key, [alg])


def test_initial_keys_publish_current_and_next_per_algorithm(tmp_path):
    signing.initialise(tmp_path, T0)
    jwks = signing.SigningKeys(tmp_path).published(T0)["keys"]
    assert sorted(k["alg"] for k in jwks) == ["ES256", "ES256", "RS256", "RS256"]
    assert all(k["kid"] and k["use"] == "sig" for k in jwks)
    assert not any("d" in k for k in jwks), "private parts must never be published"


def test_private_key_files_are_owner_only(tmp_path):
    signing.initialise(tmp_path, T0)
    for path in tmp_path.glob("oidc-*.jwk"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_next_key_is_published_before_it_signs(tmp_path):
    signing.initialise(tmp_path, T0)
    keys = signing.SigningKeys(tmp_path)
    cached_by_rp = KeySet.import_key_set(keys.published(T0))
    signing.rotate(tmp_path, T0 + timedelta(days=1), retain_seconds=3600)
    for alg in signing.ALGORITHMS:
        token = _sign(keys, alg)  # signed by the promoted key
        assert jwt.decode(token, cached_by_rp, algorithms=[alg]).claims["sub"] == "x"


def test_retired_key_published_until_its_tokens_expire(tmp_path):
    signing.initialise(tmp_path, T0)
    keys = signing.SigningKeys(tmp_path)
    old_kid = keys.signing_key("RS256").kid
    t1 = T0 + timedelta(days=1)
    signing.rotate(tmp_path, t1, retain_seconds=3600)
    assert keys.signing_key("RS256").kid != old_kid
    assert old_kid in {k["kid"] for k in keys.published(t1 + timedelta(minutes=59))["keys"]}
    assert old_kid not in {k["kid"] for k in keys.published(t1 + timedelta(hours=1))["keys"]}


def test_second_rotation_deletes_expired_retired_key_files(tmp_path):
    signing.initialise(tmp_path, T0)
    keys = signing.SigningKeys(tmp_path)
    old_kid = keys.signing_key("ES256").kid
    signing.rotate(tmp_path, T0 + timedelta(days=1), retain_seconds=60)
    signing.rotate(tmp_path, T0 + timedelta(days=2), retain_seconds=60)
    assert not (tmp_path / f"oidc-{old_kid}.jwk").exists()
    states = [e["state"] for e in signing._read_manifest(tmp_path) if e["alg"] == "ES256"]
    assert sorted(states) == ["current", "next", "retired"]


def test_missing_keys_fail_with_instructions(tmp_path):
    keys = signing.SigningKeys(tmp_path / "empty")
    try:
        keys.signing_key("RS256")
    except signing.MissingSigningKeys as exc:
        assert "kleidi keys rotate" in str(exc)
    else:
        raise AssertionError("expected MissingSigningKeys")
