"""db.read, the reads on every answer to a relying party: the rows SQLAlchemy Core would give,
on either database, whatever the statement (what the driver cannot give alone, SQLAlchemy runs)."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from idp import consent, db
from idp.identity import accounts
from idp.identity.models import Account

ACCOUNT = sa.bindparam("account_id")
STATEMENTS = {
    "dates, a boolean, text": sa.select(
        Account.id, Account.must_change_password, Account.expires_at, Account.alumni_since,
        Account.status).where(Account.id == ACCOUNT),
    "JSON": sa.select(consent.Consent.attribute_names).where(
        consent.Consent.account_id == ACCOUNT),
    "a function SQLAlchemy names": sa.select(sa.func.count(Account.id), sa.func.max(Account.id))
    .where(Account.id == ACCOUNT),
    "a numeric": sa.select(sa.cast(Account.id, sa.Numeric(10, 2)).label("amount"))
    .where(Account.id == ACCOUNT),
    "a repeated name": sa.select(Account.id, Account.person_id.label("id")).where(
        Account.id == ACCOUNT),
    "a keyword for a name": sa.select(Account.id.label("from")).where(Account.id == ACCOUNT),
    "text": sa.select(sa.text("1 AS one")).where(Account.id == ACCOUNT),
    "a list of values": sa.select(Account.id).where(
        Account.id.in_(sa.bindparam("ids", expanding=True)), Account.id == ACCOUNT),
    "a parameter with spaces in its name": sa.select(Account.id).where(
        Account.id == sa.bindparam("account id")),
    "nothing found": sa.select(Account.id).where(Account.id == -ACCOUNT),
}


@pytest.mark.parametrize("name", STATEMENTS)
def test_read_gives_the_rows_sqlalchemy_gives(app, make_account, name):
    username, _ = make_account(must_change_password=True,
                               expires_at=datetime(2027, 9, 30, 21, 0, tzinfo=UTC),
                               alumni_since=date(2026, 10, 1))
    with app.app_context():
        account = accounts.find_by_username(username)
        consent.grant(account, "https://sp.example.org", ["eppn", "display_name"])
        db.session().commit()
        params = {"account_id": account.id, "ids": [account.id], "account id": account.id}
        statement = STATEMENTS[name]
        wanted = {key: value for key, value in params.items()
                  if key in {bind.key for bind in _binds(statement)}}
        expected = db.session().connection().execute(statement, wanted).all()
        found = db.read(statement, **wanted)
    assert [tuple(row) for row in found] == [tuple(row) for row in expected]
    assert [row._fields for row in found] == [row._fields for row in expected]
    if name == "dates, a boolean, text":
        [row] = found
        assert row.must_change_password is True and row.alumni_since == date(2026, 10, 1)
        assert row.expires_at.replace(tzinfo=UTC) == datetime(2027, 9, 30, 21, 0, tzinfo=UTC)


def _binds(statement):
    return [element for element in sa.sql.visitors.iterate(statement)
            if isinstance(element, sa.sql.elements.BindParameter)]


def test_read_sees_what_the_session_has_not_committed(app, make_account):
    username, _ = make_account()
    with app.app_context():
        account = accounts.find_by_username(username)
        account.status = "disabled"  # pending: flushed before the read, never committed
        [row] = db.read(STATEMENTS["dates, a boolean, text"], account_id=account.id)
        assert row.status == "disabled"
        db.session().rollback()
        [row] = db.read(STATEMENTS["dates, a boolean, text"], account_id=account.id)
        assert row.status == "active"
