"""Operator commands validate like the web: the password policy, settings that cannot be read
(one line naming the setting, exit 2), and `kleidi init` run twice at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from private_services import private_postgres

from idp import config

KLEIDI = Path(sys.executable).parent / "kleidi"


def test_set_password_refuses_a_breached_password(app, make_account, login):
    username, password = make_account()
    runner = app.test_cli_runner()
    for weak, reason in (("password123", "list of common or leaked passwords"),
                         ("kx7#q", "too short: use at least 10 characters")):
        result = runner.invoke(args=["account", "set-password", username], input=weak + "\n")
        assert result.exit_code == 1
        assert reason in result.output
        assert weak not in result.output
    assert login(app.test_client(), username, password).status_code == 303
    assert login(app.test_client(), username, "password123").status_code == 200


def test_set_password_refuses_the_username_in_the_password(app, make_account):
    username, _password = make_account()
    result = app.test_cli_runner().invoke(args=["account", "set-password", username],
                                          input=f"{username}-and-more\n")
    assert result.exit_code == 1
    assert "must not contain your username" in result.output


def _kleidi(*arguments: str, **settings: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **{f"KLEIDI_{k}": v for k, v in settings.items()}}
    return subprocess.run([str(KLEIDI), *arguments], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("name", "value", "line"), [
    ("SESSION_IDLE_SECONDS", "half an hour",
     "KLEIDI_SESSION_IDLE_SECONDS must be a whole number, not 'half an hour'"),
    ("OUTBOX_INPROCESS_WORKER", "maybe", "KLEIDI_OUTBOX_INPROCESS_WORKER must be true or false"),
    ("INSTITUTION_DOMAINS", "example.edu", "KLEIDI_INSTITUTION_DOMAINS must be a JSON array"),
    ("DATABASE_URL", "postgres//db.example.edu", "KLEIDI_DATABASE_URL must be an SQLAlchemy URL"),
])
def test_a_setting_that_cannot_be_read_is_named_in_one_line(name, value, line, tmp_path):
    result = _kleidi("init", **{name: value, "ENV": "testing", "KEYS_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("kleidi: configuration error: " + line)
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_config_file_that_is_not_toml_is_named(tmp_path):
    path = tmp_path / "kleidi.toml"
    path.write_text("SCOPE = \n")
    with pytest.raises(config.ConfigurationError, match="KLEIDI_CONFIG: .* is not valid TOML"):
        config.load(environ={"KLEIDI_CONFIG": str(path)})


def test_numbers_with_a_fraction_are_read_as_numbers():
    loaded = config.load(environ={"KLEIDI_RECOVERY_IDENTIFY_MIN_SECONDS": "0.5"})
    assert loaded["RECOVERY_IDENTIFY_MIN_SECONDS"] == 0.5


def test_two_inits_at_once_both_succeed(keys_dir):
    with private_postgres() as postgres:
        env = {**os.environ, "KLEIDI_DATABASE_URL": postgres.url, "KLEIDI_ENV": "testing",
               "KLEIDI_KEYS_DIR": str(keys_dir), "KLEIDI_REDIS_URL": ""}
        runs = [subprocess.Popen([str(KLEIDI), "init"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [run.communicate(timeout=180) for run in runs]
        for run, (out, err) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, err
            assert "database ready" in out
            assert "Traceback" not in err
