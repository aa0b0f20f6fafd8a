"""Activation over HTTP, as a newcomer does it: every path of the uregister procedure."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import csrf_token
from stdnum import luhn

from idp import db
from idp.audit import AuditEvent
from idp.identity import identifiers
from idp.identity.models import Account, Affiliation, Person, RegistryRecord

PASSWORD = "a quiet walk by the sea"


def amka_for(born: date, serial: str = "0042") -> str:
    body = born.strftime("%d%m%y") + serial
    return body + luhn.calc_check_digit(body)


def submit(client, url: str, data: dict, query: str = ""):
    page = client.get(url + query)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(url + query, data={"csrf_token": csrf_token(page), **data})


def start(client) -> str:
    response = submit(client, "/activate/", {"role": "student"})
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[0]


def identify(client, flow: str, registration: str, **fields):
    data = {"registration_id": registration, "mobile": "", "email": "", "tin": "",
            "tin_country": "GR", **fields}
    response = submit(client, f"{flow}/identify", data)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"{flow}/pin")
    return response


def enter_pin(client, flow: str, pin: str):
    return submit(client, f"{flow}/pin", {"pin": pin, "action": "verify"})


def finish(client, flow: str, *, consent: bool = True, password: str = PASSWORD):
    consent_fields = {"consent_mobile": "y", "consent_email": "y"} if consent else {}
    response = submit(client, f"{flow}/review", consent_fields)
    assert response.headers["Location"].endswith(f"{flow}/password")
    response = submit(client, f"{flow}/password",
                      {"password": password, "confirmation": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"])


def activate(client, outbox, registration: str, *, contact=("mobile", "+306912345678"),
             tin: str = "", tin_country: str = "GR"):
    """Walk up to the PIN; the flow URL and the response to the PIN."""
    flow = start(client)
    identify(client, flow, registration, **{contact[0]: contact[1]}, tin=tin,
             tin_country=tin_country)
    return flow, enter_pin(client, flow, outbox.last_pin())


def username_on(page) -> str:
    return re.search(r'class="username">(\d+)<', page.get_data(as_text=True)).group(1)


def snapshot(row) -> SimpleNamespace:
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.columns})


def stored(app, username: str):
    """The account, its person and their affiliations, as plain values."""
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        return (snapshot(account), snapshot(account.person),
                [snapshot(a) for a in account.person.affiliations])


def test_login_page_links_to_activation(client):
    body = client.get("/login").get_data(as_text=True)
    assert 'href="/activate/"' in body


def test_student_with_amka_in_registry(app, client, outbox, make_registry_record, login):
    amka = amka_for(date(2004, 3, 9))
    make_registry_record(ssn=amka, ssn_country="GR")
    flow, response = activate(client, outbox, "00012345")
    sms = outbox.to("+306912345678")
    assert [m["channel"] for m in sms] == ["sms"] and "15" in sms[0]["body"]
    assert response.headers["Location"].endswith(f"{flow}/review")  # no AMKA step
    review = client.get(f"{flow}/review").get_data(as_text=True)
    assert "Νικολάου" in review and "151200012345" in review
    done = finish(client, flow)
    assert done.status_code == 200 and username_on(done) == "151200012345"
    account, person, affiliations = stored(app, "151200012345")
    assert account.status == "active" and account.domain == "upnet.example.edu"
    assert account.mobile == "+306912345678" and account.external_email == "eleni.n@example.org"
    assert person.amka == amka and len(person.academic_id) == 32
    assert [(a.role, a.registration_id) for a in affiliations] == [("undergraduate", "00012345")]
    assert login(client, "151200012345", PASSWORD).status_code == 303


def test_student_without_amka_enters_it(app, client, outbox, make_registry_record):
    make_registry_record()
    flow, response = activate(client, outbox, "00012345", contact=("email", "Eleni.N@example.org"))
    assert outbox.messages[-1]["channel"] == "email"
    assert response.headers["Location"].endswith(f"{flow}/amka")
    bad = submit(client, f"{flow}/amka", {"amka": "09030400421"})
    assert bad.status_code == 400 and "Δεν είναι έγκυρος ΑΜΚΑ" in bad.get_data(as_text=True)
    amka = amka_for(date(2004, 3, 9))
    assert submit(client, f"{flow}/amka", {"amka": amka}).status_code == 303
    done = finish(client, flow, consent=False)
    account, person, _ = stored(app, username_on(done))
    assert person.amka == amka and account.mobile is None and account.external_email is None


def test_student_with_foreign_ssn(app, client, outbox, make_registry_record):
    make_registry_record()
    flow, _ = activate(client, outbox, "00012345")
    response = submit(client, f"{flow}/amka", {"kind": "foreign", "ssn": "cy123456789",
                                               "ssn_country": "CY"}, query="?other=1")
    assert response.status_code == 303
    _, person, _ = stored(app, username_on(finish(client, flow)))
    assert (person.amka, person.foreign_ssn, person.foreign_ssn_country) == (
        None, "CY123456789", "CY")


def test_student_with_ehic(app, client, outbox, make_registry_record):
    make_registry_record()
    flow, _ = activate(client, outbox, "00012345")
    short = submit(client, f"{flow}/amka", {"kind": "ehic", "ehic": "1234"}, query="?other=1")
    assert short.status_code == 400
    response = submit(client, f"{flow}/amka", {"kind": "ehic", "ehic": "8030 0000 0012 3456 7890"},
                      query="?other=1")
    assert response.status_code == 303
    _, person, _ = stored(app, username_on(finish(client, flow)))
    assert person.ehic == "80300000001234567890"


@pytest.mark.parametrize(("tin", "country", "ok"), [
    ("090000045", "GR", True), ("", "GR", False), ("094014201", "GR", False),
    ("090000045", "CY", False)])
def test_afm_in_registry_must_match_with_country(app, client, outbox, make_registry_record,
                                                  tin, country, ok):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)), tin="090000045", tin_country="GR")
    flow, response = activate(client, outbox, "00012345", tin=tin, tin_country=country)
    if ok:
        assert response.headers["Location"].endswith(f"{flow}/review")
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "ACT-002" in body and "Γραμματεία" in body
    assert client.get(f"{flow}/review").status_code == 403  # the flow is over
    with app.app_context():
        event = db.session().scalars(sa.select(AuditEvent)
                                     .where(AuditEvent.event == "activation.refused")).one()
        assert event.detail["code"] == "ACT-002"


def test_transferring_student_keeps_academic_id(app, client, outbox, make_registry_record,
                                                login):
    amka = amka_for(date(2004, 3, 9))
    make_registry_record(registration="00000007", department="1521", ssn=amka)
    with app.app_context():
        person = Person(academic_id=identifiers.new_academic_id(), amka=amka)
        db.session().add(person)
        db.session().flush()
        old = db.session().scalar(sa.select(RegistryRecord))
        old.person_id = person.id
        db.session().add(Affiliation(person_id=person.id, role="undergraduate",
                                     department_id="1521", registration_id="00000007",
                                     source_registry="students", registry_record_id=old.id,
                                     status="active"))
        db.session().add(Account(person_id=person.id, username="152100000007", status="active",
                                 domain="upnet.example.edu"))
        db.session().commit()
        academic_id = person.academic_id
    make_registry_record(registration="00099999", department="1530", ssn=amka)
    flow, _ = activate(client, outbox, "00099999")
    account, person, affiliations = stored(app, username_on(finish(client, flow)))
    assert account.username == "153000099999" and person.academic_id == academic_id
    assert [(a.department_id, a.status) for a in affiliations] == [("1521", "ended"),
                                                                    ("1530", "active")]
    assert affiliations[0].valid_through is not None
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Person)) == 1
    assert login(client, "152100000007", PASSWORD).status_code == 200  # old name is gone


def test_linked_registry_record_reuses_the_person(app, client, outbox, make_registry_record):
    with app.app_context():
        person = Person(academic_id="KnownAcademicId0000000000000001")
        db.session().add(person)
        db.session().commit()
        person_id = person.id
    make_registry_record(person_id=person_id, ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    _, person, _ = stored(app, username_on(finish(client, flow)))
    assert person.academic_id == "KnownAcademicId0000000000000001"


def test_typed_amka_of_another_person_is_refused(app, client, outbox, make_registry_record):
    amka = amka_for(date(2004, 3, 9))
    with app.app_context():
        db.session().add(Person(academic_id=identifiers.new_academic_id(), amka=amka))
        db.session().commit()
    make_registry_record()
    flow, _ = activate(client, outbox, "00012345")
    response = submit(client, f"{flow}/amka", {"amka": amka})
    assert response.status_code == 409 and "ACT-005" in response.get_data(as_text=True)


def test_amka_must_match_birth_date(app, client, outbox, make_registry_record):
    make_registry_record()
    flow, _ = activate(client, outbox, "00012345")
    response = submit(client, f"{flow}/amka", {"amka": amka_for(date(2003, 3, 9))})
    assert response.status_code == 403 and "ACT-006" in response.get_data(as_text=True)


def test_already_activated(app, client, outbox, make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    finish(client, flow)
    _, again = activate(client, outbox, "00012345")
    assert again.status_code == 409 and "ACT-003" in again.get_data(as_text=True)


def test_inactive_student_is_refused(app, client, outbox, make_registry_record):
    make_registry_record(enrollment_status="graduated")
    _, response = activate(client, outbox, "00012345")
    assert response.status_code == 403 and "ACT-004" in response.get_data(as_text=True)


def test_password_policy_on_the_page(app, client, outbox, make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    submit(client, f"{flow}/review", {})
    for password, message in [("short", "at least 10"), ("1234567890", "common"),
                              ("nikolaou is my name", "your name"),
                              ("151200012345 ok then", "username")]:
        page = client.get(f"{flow}/password", headers={"Accept-Language": "en"})
        response = client.post(f"{flow}/password", data={
            "csrf_token": csrf_token(page), "password": password, "confirmation": password},
            headers={"Accept-Language": "en"})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Account)) == 0


def test_steps_cannot_be_skipped_or_shared(app, client, outbox, make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow = start(client)
    skipped = client.get(f"{flow}/password")
    assert skipped.status_code == 409 and "FLOW-003" in skipped.get_data(as_text=True)
    other_browser = app.test_client().get(f"{flow}/identify")
    assert other_browser.status_code == 404 and "FLOW-001" in other_browser.get_data(as_text=True)


def test_expired_flow(app, client, clock):
    flow = start(client)
    clock.advance(app.config["ACTIVATION_FLOW_SECONDS"] - 60)
    assert client.get(f"{flow}/identify").status_code == 200
    clock.advance(61)
    response = client.get(f"{flow}/identify")
    assert response.status_code == 410 and "FLOW-002" in response.get_data(as_text=True)


def test_audit_events_of_completion(app, client, outbox, make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    finish(client, flow)
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent.event)).all()
        assert "activation.completed" in events and "password.set" in events
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Affiliation)) == 1


def test_a_username_is_never_issued_to_another_person(app, client, outbox,
                                                      make_registry_record, make_account):
    make_account("151200012345")  # someone else already holds the name this record gives
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    _, response = activate(client, outbox, "00012345")
    assert response.status_code == 409 and "ACT-007" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Person)) == 1


def test_a_failure_during_completion_leaves_nothing_half_made(app, client, outbox,
                                                              make_registry_record,
                                                              monkeypatch):
    from selfservice.activation import completion

    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    submit(client, f"{flow}/review", {"consent_mobile": "y"})

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(completion.audit, "record", broken)
        with pytest.raises(RuntimeError, match="went away"):
            submit(client, f"{flow}/password", {"password": PASSWORD, "confirmation": PASSWORD})
    with app.app_context():
        for table in (Person, Account, Affiliation, AuditEvent):
            assert db.session().scalar(sa.select(sa.func.count()).select_from(table)) == 0
    response = submit(client, f"{flow}/password", {"password": PASSWORD,
                                                   "confirmation": PASSWORD})
    assert response.status_code == 303  # the flow is still at its password step


def test_every_step_speaks_english_when_asked(app, outbox, make_registry_record):
    make_registry_record()
    client = app.test_client()
    client.set_cookie(app.config["LANGUAGE_COOKIE_NAME"], "en")
    flow, _ = activate(client, outbox, "00012345")
    assert "valid 15 minutes, once" in outbox.messages[-1]["body"]  # the SMS too
    assert "Social security number" in client.get(f"{flow}/amka").get_data(as_text=True)
    other = client.get(f"{flow}/amka?other=1").get_data(as_text=True)
    assert "European Health Insurance Card" in other
    submit(client, f"{flow}/amka", {"amka": amka_for(date(2004, 3, 9))})
    assert "Check your data" in client.get(f"{flow}/review").get_data(as_text=True)
    submit(client, f"{flow}/review", {})
    assert "we recommend 15 or more" in client.get(f"{flow}/password").get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"mobile": "+306912345678", "email": "eleni.n@example.org"}, "όχι και τα δύο"),
    ({}, "Δώστε το κινητό ή το email"),
    ({"mobile": "2101234567"}, "Δεν είναι έγκυρος αριθμός κινητού"),  # a landline
    ({"email": "not-an-address"}, "Δεν είναι έγκυρη διεύθυνση email"),
    ({"mobile": "+306912345678", "tin": "123456789"}, "Δεν είναι έγκυρος ΑΦΜ"),
])
def test_identify_form_checks_identifiers(app, client, outbox, make_registry_record, fields,
                                          message):
    make_registry_record()
    flow = start(client)
    response = submit(client, f"{flow}/identify", {"registration_id": "00012345",
                                                   "tin_country": "GR", **fields})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert outbox.messages == []


@pytest.mark.settings(ACTIVATION_STARTS_PER_IP_HOUR=2)
def test_starts_per_address_are_limited(app, client):
    start(client)
    start(client)
    refused = submit(client, "/activate/", {"role": "student"})
    assert refused.status_code == 429 and "ACT-009" in refused.get_data(as_text=True)


def test_a_role_not_offered_is_refused(app, client):
    page = client.get("/activate/")
    response = client.post("/activate/", data={"csrf_token": csrf_token(page), "role": "alumnus"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Location" not in response.headers  # no flow begun
    assert 'class="field-error"' in body and 'name="role"' in body  # the choice is asked again
