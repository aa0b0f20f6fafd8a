"""Audit records are written with the change they describe and logged only once it commits."""

from __future__ import annotations

import sqlalchemy as sa

from idp import audit, db
from idp.identity import accounts
from idp.identity.models import Account


def _events(name: str) -> list:
    return db.session().scalars(sa.select(audit.AuditEvent).where(
        audit.AuditEvent.event == name)).all()


def test_a_rolled_back_change_is_neither_recorded_nor_logged(app, make_account, caplog):
    username, _password = make_account()
    caplog.set_level("INFO", logger="kleidi.audit")
    caplog.clear()
    with app.test_request_context():
        account = accounts.find_by_username(username)
        accounts.disable(account, "test", actor="helpdesk")
        assert [r.msg for r in caplog.records if r.name == "kleidi.audit"] == []
        db.session().rollback()
        assert _events("account.disabled") == []
        assert db.session().get(Account, account.id).status == "active"
    assert [r for r in caplog.records if r.name == "kleidi.audit"] == []


def test_a_committed_change_is_logged_after_its_commit(app, make_account, caplog):
    username, _password = make_account()
    caplog.set_level("INFO", logger="kleidi.audit")
    caplog.clear()
    with app.test_request_context():
        account = accounts.find_by_username(username)
        accounts.disable(account, "left the university", actor="helpdesk")
        assert [r for r in caplog.records if r.name == "kleidi.audit"] == []
        db.session().commit()
        logged = [r for r in caplog.records if r.name == "kleidi.audit"]
        assert [r.msg for r in logged] == ["account.disabled"]
        assert logged[0].audit["actor"] == "helpdesk"
        assert len(_events("account.disabled")) == 1
