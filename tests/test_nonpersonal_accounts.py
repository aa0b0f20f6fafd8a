"""Non-personal accounts: requested by faculty and heads of units from their account page,
approved by the account office, owned by a personal account whose owner sets the password;
only email and mailing lists; never a sign-in to another relying party."""

import json

import pytest
import sqlalchemy as sa
from oidc_support import auth_params, register, sign_in_and_authorize

from idp import db
from idp.audit import AuditEvent
from idp.identity import accounts, nonpersonal, services
from idp.identity.models import Account


@pytest.fixture
def faculty(make_account):
    return make_account("kprof", role="faculty", external_email="k.prof@example.org")


def _request(client, csrf, username="physics-lab", purpose="the lab's mailbox"):
    page = client.get("/account/nonpersonal")
    return client.post("/account/nonpersonal", data={"csrf_token": csrf(page), "username": username,
                                                     "purpose": purpose})


def _approve(app, make_operator, csrf, reason="head of lab confirmed"):
    console = make_operator("office").client(language="en")
    page = console.get("/manage/nonpersonal")
    [found] = nonpersonal_pending(app)
    assert "physics-lab" in page.get_data(as_text=True)
    return console.post(f"/manage/nonpersonal/{found}/approve",
                        data={"csrf_token": csrf(page), "reason": reason})


def nonpersonal_pending(app) -> list[int]:
    with app.app_context():
        return [r.id for r in nonpersonal.pending()]


LAB_PASSWORD = "a long lab passphrase 42"


def _owned(app, login, csrf, faculty, password=LAB_PASSWORD):
    owner = app.test_client()
    login(owner, *faculty)
    page = owner.get("/account/nonpersonal/physics-lab/password")
    return owner, owner.post("/account/nonpersonal/physics-lab/password", data={
        "csrf_token": csrf(page), "new": password, "repeat": password})


def test_request_approval_password_and_sign_in(app, faculty, login, csrf, make_operator, outbox):
    client = app.test_client()
    client.set_cookie("kleidi_lang", "en", domain="localhost")
    login(client, *faculty)
    assert "Non-personal accounts" in client.get("/").get_data(as_text=True)
    sent = _request(client, csrf)
    assert "went to the account office" in sent.get_data(as_text=True)
    assert "waiting for the account office" in client.get("/account/nonpersonal").get_data(as_text=True)
    assert _approve(app, make_operator, csrf).status_code == 303
    [mail] = outbox.to("k.prof@example.org")
    assert mail["subject"] == "The non-personal account physics-lab was approved"
    assert "Set its password from your account page" in mail["body"]
    _owner, done = _owned(app, login, csrf, faculty)
    assert "Ο νέος κωδικός του physics-lab ισχύει." in done.get_data(as_text=True)
    with app.app_context():
        account = accounts.find_by_username("physics-lab")
        owner = accounts.find_by_username("kprof")
        assert account.kind == "nonpersonal" and account.person_id == owner.person_id
        assert services.enabled(account) == ["email", "mailing_lists"]
        assert "vpn" in services.enabled(owner)
        assert nonpersonal.owner_username(account) == "kprof"
        events = {e.event: e for e in db.session().scalars(sa.select(AuditEvent))}
        assert events["nonpersonal.approved"].detail["reason"] == "head of lab confirmed"
        assert events["password.set"].actor == "owner:kprof"
    signed = login(app.test_client(), "physics-lab", "a long lab passphrase 42")
    assert signed.status_code == 303


def test_a_non_personal_account_signs_in_to_no_federated_relying_party(
        app, faculty, login, csrf, make_operator):
    _request_and_approve(app, faculty, login, csrf, make_operator)
    rp = register(app)
    browser = app.test_client()
    browser.set_cookie("kleidi_lang", "el", domain="localhost")
    response = sign_in_and_authorize(browser, login, "physics-lab", "a long lab passphrase 42",
                                     auth_params(rp[0]))
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "MANAGE-008" in body
    assert "Ένας μη προσωπικός λογαριασμός δεν μπορεί να συνδεθεί εδώ" in body


def test_the_relying_party_of_its_email_service_accepts_it(app, faculty, login, csrf,
                                                           make_operator):
    rp = register(app)
    app.config["SERVICES"]["email"]["relying_parties"] = [rp[0]]
    _request_and_approve(app, faculty, login, csrf, make_operator)
    response = sign_in_and_authorize(app.test_client(), login, "physics-lab",
                                     "a long lab passphrase 42", auth_params(rp[0]))
    assert response.status_code in (302, 303) and "code=" in response.location


def _request_and_approve(app, faculty, login, csrf, make_operator):
    client = app.test_client()
    login(client, *faculty)
    _request(client, csrf)
    _approve(app, make_operator, csrf)
    _owned(app, login, csrf, faculty)


def test_a_student_may_not_request_one(app, make_account, login, csrf):
    student = make_account(role="undergraduate")
    client = app.test_client()
    client.set_cookie("kleidi_lang", "en", domain="localhost")
    login(client, *student)
    page = client.get("/account/nonpersonal")
    assert "Request a non-personal account" not in page.get_data(as_text=True)
    assert "Non-personal accounts" not in client.get("/").get_data(as_text=True)
    token = csrf(client.get("/account/password"))
    refused = client.post("/account/nonpersonal", data={"csrf_token": token,
                                                        "username": "my-lab", "purpose": "x"})
    assert refused.status_code == 403 and "MANAGE-009" in refused.get_data(as_text=True)
    assert nonpersonal_pending(app) == []


@pytest.mark.parametrize("name,lang,message", [
    ("kprof", "en", "This name is taken. Choose another."),
    ("Ab", "el", "Χρησιμοποιήστε 4 έως 32 πεζά λατινικά γράμματα")])
def test_a_taken_or_malformed_name_is_refused_on_the_form(app, faculty, login, csrf, name, lang,
                                                          message):
    client = app.test_client()
    client.set_cookie("kleidi_lang", lang, domain="localhost")
    login(client, *faculty)
    refused = _request(client, csrf, username=name)
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)


def test_only_the_owner_sets_the_password(app, faculty, make_account, login, csrf, make_operator):
    _request_and_approve(app, faculty, login, csrf, make_operator)
    other = make_account(role="faculty")
    client = app.test_client()
    login(client, *other)
    response = client.get("/account/nonpersonal/physics-lab/password")
    assert response.status_code == 404 and "MANAGE-011" in response.get_data(as_text=True)


def test_a_decided_request_cannot_be_decided_again(app, faculty, login, csrf, outbox):
    client = app.test_client()
    client.set_cookie("kleidi_lang", "el", domain="localhost")
    login(client, *faculty)
    _request(client, csrf)
    [found] = nonpersonal_pending(app)
    runner = app.test_cli_runner()
    listed = json.loads(runner.invoke(args=["nonpersonal", "list", "--json"]).output)
    assert [(e["username"], e["owner"]) for e in listed] == [("physics-lab", "kprof")]
    rejected = runner.invoke(args=["nonpersonal", "reject", str(found), "--reason", "use a list"])
    assert rejected.exit_code == 0, rejected.output
    again = runner.invoke(args=["nonpersonal", "approve", str(found)])
    assert again.exit_code == 1 and "MANAGE-010" in again.output
    body = client.get("/account/nonpersonal").get_data(as_text=True)
    assert "use a list" in body
    [mail] = outbox.to("k.prof@example.org")  # in Greek: the language of the last sign-in
    assert mail["subject"] == "Ο μη προσωπικός λογαριασμός physics-lab δεν εγκρίθηκε"
    assert "Η αιτιολογία: use a list" in mail["body"]
    with app.app_context():
        assert accounts.find_by_username("physics-lab") is None


def test_non_personal_accounts_are_not_limited_to_one_per_person(ctx, app):
    """(The database's side: the one-personal-account index leaves non-personal ones out.)"""
    from idp.identity import identifiers
    from idp.identity.models import Affiliation, Person

    person = Person(academic_id=identifiers.new_academic_id())
    db.session().add(person)
    db.session().flush()
    db.session().add(Affiliation(person_id=person.id, role="faculty", source_registry="hr"))
    owner = Account(person_id=person.id, username="owner1", domain="example.edu", status="active")
    db.session().add(owner)
    db.session().flush()
    for name in ("lab-one", "lab-two"):
        nonpersonal.request(owner, name, "a unit's mailbox")
    for found in nonpersonal.pending():
        nonpersonal.approve(found.id, actor="test", reason="")
    db.session().commit()
    kinds = db.session().scalars(sa.select(Account.kind).where(Account.person_id == person.id))
    assert sorted(kinds) == ["nonpersonal", "nonpersonal", "personal"]
