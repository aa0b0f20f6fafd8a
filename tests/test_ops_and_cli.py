"""Operations: health endpoints, start-up checks and the kleidi command."""

import json

import pytest
import sqlalchemy as sa

from idp import config, create_app, db
from idp.identity.models import Account, RegistryRecord


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_and_store(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok",
                                   "checks": {"database": "ok", "store": "ok"}}


def test_readyz_fails_when_the_database_is_unreachable(base_settings, tmp_path):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    app = create_app({**base_settings, "DATABASE_URL": unreachable})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(config.ConfigurationError, match="KLEIDI_SECRET_KEY"):
        create_app({"ENV": "production", "KEYS_DIR": str(tmp_path),
                    "BASE_URL": "https://idp.example.edu"})


def test_production_refuses_to_start_without_signing_keys(tmp_path):
    with pytest.raises(config.ConfigurationError, match="saml-signing.key"):
        create_app({"ENV": "production", "KEYS_DIR": str(tmp_path), "SECRET_KEY": "x" * 40,
                    "PAIRWISE_SECRET": "y" * 40, "BASE_URL": "https://idp.example.edu"})


def test_settings_come_from_file_then_environment(tmp_path):
    path = tmp_path / "kleidi.toml"
    path.write_text('SCOPE = "upatras.gr"\nSESSION_IDLE_SECONDS = 100\n')
    loaded = config.load(environ={"KLEIDI_CONFIG": str(path), "KLEIDI_SESSION_IDLE_SECONDS": "200",
                                  "KLEIDI_INSTITUTION_DOMAINS": '["upatras.gr"]'})
    assert loaded["SCOPE"] == "upatras.gr"
    assert loaded["SESSION_IDLE_SECONDS"] == 200
    assert loaded["INSTITUTION_DOMAINS"] == ["upatras.gr"]


def test_development_generates_missing_keys(tmp_path, base_settings):
    create_app({**base_settings, "ENV": "development", "KEYS_DIR": str(tmp_path),
                "SECRET_KEY": "", "PAIRWISE_SECRET": ""})
    names = {p.name for p in tmp_path.iterdir()}
    assert {"secret_key", "pairwise_secret", "saml-signing.key", "saml-signing.crt"} <= names
    assert oct((tmp_path / "saml-signing.key").stat().st_mode)[-3:] == "600"


def test_demo_loads_the_registry_and_prints_working_accounts(app, login):
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.output.strip().splitlines()[-1])
    assert len(credentials) >= 3
    with app.app_context():
        records = db.session().scalars(sa.select(RegistryRecord)).all()
        students = [r for r in records if r.source_registry == "students"]
        staff = [r for r in records if r.source_registry == "hr"]
        assert len(students) >= 50 and len({r.department_id for r in students}) >= 3
        assert len(staff) >= 10 and len({r.role for r in staff}) >= 6
        assert any(r.ssn is None for r in students)
        assert any(r.ssn_country not in (None, "GR") for r in students)
    for item in credentials:
        client = app.test_client()
        assert login(client, item["username"], item["password"]).status_code == 303


def test_demo_twice_changes_nothing_but_passwords(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "--json"])
    with app.app_context():
        before = db.session().scalar(sa.select(sa.func.count()).select_from(Account))
    runner.invoke(args=["demo", "--json"])
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Account)) == before


def test_set_password_reads_standard_input(app, make_account, login):
    username, _ = make_account()
    result = app.test_cli_runner().invoke(args=["account", "set-password", username],
                                          input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output
    assert login(app.test_client(), username, "correct horse battery staple").status_code == 303


def test_set_password_for_an_unknown_account_fails(app):
    result = app.test_cli_runner().invoke(args=["account", "set-password", "ghost"], input="x\n")
    assert result.exit_code != 0 and "no account ghost" in result.output


def test_serve_refuses_several_workers_without_redis(monkeypatch, capsys):
    from idp import serve

    monkeypatch.delenv("KLEIDI_REDIS_URL", raising=False)
    assert serve.run("127.0.0.1", 5999, 4) == 2
    assert "KLEIDI_REDIS_URL" in capsys.readouterr().err
