"""TOTP secrets are encrypted at rest and bound to their account; recovery codes are stored
as keyed hashes; neither appears in the log or the audit trail."""

import logging

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from mfa_helpers import account, enrol

from idp import db
from idp.audit import AuditEvent
from idp.mfa import totp
from idp.mfa.models import RecoveryCode, TotpAuthenticator


def _dump(app) -> str:
    """Every row of the second-factor and audit tables, as text."""
    with app.app_context():
        rows = []
        for model in (TotpAuthenticator, RecoveryCode, AuditEvent):
            for row in db.session().scalars(sa.select(model)):
                rows.append(repr({c.name: getattr(row, c.name) for c in model.__table__.columns}))
        return "\n".join(rows)


def test_secrets_and_codes_are_not_stored_or_logged_in_clear(app, clock, make_account, caplog):
    caplog.set_level(logging.DEBUG)
    username, _password = make_account()
    secret, codes = enrol(app, clock, username)
    stored = _dump(app)
    logged = caplog.text
    for value in [secret, *codes, *(c.replace("-", "") for c in codes)]:
        assert value not in stored and value.lower() not in stored.lower()
        assert value not in logged
    with app.app_context():
        row = db.session().scalar(sa.select(TotpAuthenticator))
        assert totp.unseal(row.account_id, row.secret_sealed) == secret


def test_a_sealed_secret_cannot_be_moved_to_another_account(app, clock, make_account):
    username, _password = make_account()
    enrol(app, clock, username)
    with app.app_context():
        row = db.session().scalar(sa.select(TotpAuthenticator))
        with pytest.raises(InvalidTag):
            totp.unseal(row.account_id + 1, row.secret_sealed)


def test_a_new_set_of_recovery_codes_replaces_the_old(app, clock, make_account):
    username, _password = make_account()
    _secret, old = enrol(app, clock, username)
    with app.test_request_context():
        new = totp.new_recovery_codes(account(username))
        db.session().commit()
        assert not totp.use_recovery_code(account(username), old[0])
        assert totp.use_recovery_code(account(username), new[0])
        assert not totp.use_recovery_code(account(username), new[0])
        assert totp.recovery_codes_left(account(username)) == 9


def test_an_unconfirmed_enrolment_expires(app, clock, make_account):
    username, _password = make_account()
    with app.test_request_context():
        totp.begin_enrolment(account(username))
        db.session().commit()
    clock.advance(15 * 60 + 1)
    with app.test_request_context():
        assert totp.enrolment_secret(account(username)) is None
        assert totp.authenticator(account(username)) is None


def test_production_refuses_to_start_without_the_mfa_key(base_settings, tmp_path):
    from idp import create_app, keys
    from idp.config import ConfigurationError

    keys.ensure_dev_keys(tmp_path)
    settings = {**base_settings, "ENV": "production", "BASE_URL": "https://idp.example.edu",
                "KEYS_DIR": str(tmp_path), "MFA_SECRET_KEY": ""}
    with pytest.raises(ConfigurationError, match="MFA_SECRET_KEY"):
        create_app(settings)
    assert not (tmp_path / "mfa_secret_key").exists()  # never generated in production
