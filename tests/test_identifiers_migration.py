"""The migration to identifiers of one case, on a database with mixed-case AcademicIDs (SQLite,
or PostgreSQL when KLEIDI_DATABASE_URL is set): every person keeps, byte for byte, what
relying parties already have of them; new people are lower case throughout; and AcademicIDs
are unique regardless of case. The upgraded policies of saml_0002 and oidc_0002 too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from conftest import DATABASE_URL, _login, close_store
from oidc_support import code_flow, id_token_claims
from saml_sp import IndependentSP, sso
from sqlalchemy.engine import make_url

from idp import attributes, create_app, db, migrate
from idp.identity import accounts, identifiers, sync
from idp.identity.models import Account, Person
from idp.oidc import clients

SECRET = "test pairwise secret"
#: AcademicIDs as issued before (mixed case); the first two are equal but for case.
BEFORE = {"alice": "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "bob": "abcdefghijklmnopqrstuvwxyz012345",
          "carol": "00000000000000000000000000000042", "dave": "ZZZZYYYYXXXXWWWWVVVVUUUUTTTTSSSS"}
PERSON = sa.table("person", *(sa.column(n) for n in (
    "id", "academic_id", "given_name_el", "family_name_el", "given_name_en", "family_name_en",
    "created_at")))
ACCOUNT = sa.table("account", *(sa.column(n) for n in (
    "id", "person_id", "username", "domain", "kind", "status", "must_change_password",
    "session_epoch", "created_at", "updated_at")))
CLIENT = sa.table("oidc_client", *(sa.column(n) for n in (
    "client_id", "name", "secret_hash", "auth_method", "sector", "id_token_alg",
    "refresh_tokens", "created_at")), *(sa.column(n, sa.JSON) for n in (
        "redirect_uris", "post_logout_redirect_uris", "scopes")))
POLICY = sa.table("saml_release_policy", sa.column("attributes", sa.JSON), *(sa.column(n) for n in (
    "entity_id", "allow_unsolicited", "sign_response", "encrypt_assertions",
    "require_signed_requests", "updated_at")))


def pairwise_before(academic_id: str, sector: str) -> str:
    """The pairwise value as released before the migration: the code of that time, frozen."""
    digest = hmac.new(SECRET.encode(), f"{sector}\n{academic_id}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")


@pytest.fixture(scope="module")
def old_database(tmp_path_factory):
    """A database of its own, to be filled as the previous version left it."""
    if not DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('migration') / 'kleidi.sqlite3'}"
        return
    server = make_url(DATABASE_URL)
    name = f"kleidi_migration_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def migrated(old_database, keys_dir):
    """Settings of an app on the old database, filled, then upgraded to every head."""
    settings = {"ENV": "testing", "DATABASE_URL": old_database, "KEYS_DIR": str(keys_dir),
                "SECRET_KEY": "k", "PAIRWISE_SECRET": SECRET, "BASE_URL": "http://localhost",
                "SERVER_NAME": "localhost", "STORE_PREFIX": f"kleidi-test:{uuid.uuid4().hex}:"}
    app = create_app(settings)
    with app.app_context():
        with db.engine().begin() as connection:
            config = migrate.alembic_config(connection)
            for revision in ("0001_foundations", "saml_0001", "oidc_0001"):
                command.upgrade(config, revision)
            _fill(connection)
        migrate.upgrade()
        db.dispose()
    return settings


def _fill(connection) -> None:
    now = datetime.now(UTC)
    for username, academic_id in BEFORE.items():  # in this order: alice first, then bob
        person_id = connection.execute(PERSON.insert().values(
            academic_id=academic_id, given_name_el="Α", family_name_el="Β",
            given_name_en="A", family_name_en="B", created_at=now
        ).returning(PERSON.c.id)).scalar_one()
        connection.execute(ACCOUNT.insert().values(
            person_id=person_id, username=username, domain="example.edu",
            kind="personal", status="active", must_change_password=False, session_epoch=0,
            created_at=now, updated_at=now))
    connection.execute(POLICY.insert().values(
        entity_id="https://old.example.org/sp", attributes=None, allow_unsolicited=False,
        sign_response=False, encrypt_assertions=True, require_signed_requests=False,
        updated_at=now))
    connection.execute(CLIENT.insert().values(
        client_id="old-client", name="", secret_hash="0" * 64, auth_method="client_secret_basic",
        redirect_uris=[], post_logout_redirect_uris=[], scopes=["openid"], sector="rp",
        id_token_alg="RS256", refresh_tokens=True, created_at=now))


@pytest.fixture
def app(migrated):
    """An app on the migrated database (the suite's own database is not this one)."""
    app = create_app(migrated)
    yield app
    with app.app_context():
        db.dispose()
    close_store(app)


def person_of(username: str) -> Person:
    return db.session().scalar(sa.select(Person).join(Account).where(
        Account.username == username))


def account_of(username: str) -> Account:
    return db.session().scalar(sa.select(Account).where(Account.username == username))


def test_academic_ids_are_lower_case_and_the_released_ones_kept(app):
    with app.app_context():
        people = {name: person_of(name) for name in BEFORE}
        for name, person in people.items():
            assert person.academic_id == person.academic_id.lower()
            assert person.released_academic_id == BEFORE[name]
        assert people["alice"].academic_id == BEFORE["alice"].lower()
        assert people["bob"].academic_id not in (BEFORE["bob"], BEFORE["alice"].lower())


@pytest.mark.parametrize("username", list(BEFORE))
def test_relying_parties_see_the_same_identifiers_as_before(app, username):
    with app.test_request_context():
        account = account_of(username)
        values = attributes.person_attributes(account)
        assert values["subject_id"] == values["eduperson_unique_id"] == [
            f"{BEFORE[username]}@example.edu"]
        assert values["schgr_ac_person_id"] == [BEFORE[username]]
        for sector in ("https://sp.example.org/shibboleth", "rp.example.org"):
            assert attributes.pairwise_unique(account, sector) == pairwise_before(
                BEFORE[username], sector)


def test_a_saml_sp_gets_the_same_persistent_name_id(app, tmp_path):
    with app.app_context():
        accounts.set_password(account_of("alice"), "a long test password", actor="test")
        db.session().commit()
    client = app.test_client()
    metadata_dir = tmp_path / "metadata"
    metadata_dir.mkdir()
    app.config.update(METADATA_DIR=str(metadata_dir), SAML_METADATA_CHECK_SECONDS=0)
    sp = IndependentSP("old-sp.example.org", client.get("/saml/metadata").get_data(as_text=True),
                       tmp_path)
    (metadata_dir / "sp.xml").write_text(sp.metadata())
    _login(client, "alice", "a long test password")
    auth = sso(client, sp, None)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_nameid() == pairwise_before(BEFORE["alice"], sp.entity_id)


def test_an_oidc_client_gets_the_same_sub(app):
    with app.app_context():
        accounts.set_password(account_of("dave"), "another test password", actor="test")
        client_row, secret = clients.add_client(redirect_uris=["https://rp.example.org/callback"])
        db.session().commit()
        client_id = client_row.client_id
    client = app.test_client()
    tokens, _params, _back = code_flow(client, _login, app, username="dave",
                                       password="another test password", client_id=client_id,
                                       secret=secret)
    claims = id_token_claims(client, tokens["id_token"])
    assert claims["sub"] == pairwise_before(BEFORE["dave"], "rp.example.org")


def test_people_created_after_it_are_lower_case_throughout(app):
    with app.test_request_context():
        person = Person(academic_id=identifiers.new_academic_id())
        db.session().add(person)
        db.session().flush()
        account = Account(person_id=person.id, username="erin", domain="example.edu")
        db.session().add(account)
        db.session().commit()
        values = attributes.person_attributes(account)
        assert person.released_academic_id is None
        for value in (*values["subject_id"], attributes.pairwise_unique(account, "rp")):
            assert value == value.lower()


def test_two_academic_ids_equal_but_for_case_cannot_exist(app):
    insert = sa.text("INSERT INTO person (academic_id, given_name_el, family_name_el, "
                     "given_name_en, family_name_en, created_at) "
                     "VALUES (:id, '', '', '', '', :now)")
    with app.app_context(), db.engine().connect() as connection:
        # alice's AcademicID is now BEFORE["alice"].lower(); the old spelling is refused
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(insert, {"id": BEFORE["alice"], "now": datetime.now(UTC)})


def test_existing_policies_sign_the_response_and_clients_accept_both_secret_methods(app):
    with app.app_context():
        row = db.session().execute(sa.text(
            "SELECT sign_response, sign_assertions FROM saml_release_policy")).one()
        assert tuple(map(bool, row)) == (True, True)
        client = clients.Client.from_row(clients.find("old-client"))
        assert client.check_endpoint_auth_method("client_secret_post", "token")
        assert client.check_endpoint_auth_method("client_secret_basic", "token")


def test_a_registry_feed_finds_each_person_by_the_academic_id_it_knows(app):
    """A feed's academicID names the person it always named, even bob, whose AcademicID now
    belongs to alice but for case."""
    with app.app_context():
        for name, before in BEFORE.items():
            assert sync.person_by_academic_id(before).id == person_of(name).id
        assert sync.person_by_academic_id(BEFORE["dave"].lower()).id == person_of("dave").id
