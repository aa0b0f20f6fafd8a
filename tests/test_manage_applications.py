"""The account office's pages (/manage/applications): the list, an application with the HR
registry's match or mismatch, and approve, reject, verify and hand over through the same
core functions as the command line, audited with the operator as actor."""

import re

import pytest
import sqlalchemy as sa
from application_support import CONTRACTOR, EMAIL, FACULTY, apply, handover_code, serial_and_secret

from idp import db
from idp.audit import AuditEvent
from idp.identity.models import RegistryRecord

CODE = re.compile(r'<strong class="code">([A-Z2-9-]+)</strong>')


def _applied(client, outbox, details=CONTRACTOR):
    apply(client, details)
    return serial_and_secret(outbox, details["email"])[0]


def _post(office, serial, action, csrf, **data):
    page = office.get("/login")  # the session's CSRF token (a decided application has no form)
    return office.post(f"/manage/applications/{serial}/{action}",
                       data={"csrf_token": csrf(page), **data})


@pytest.mark.parametrize("language, texts", [
    ("el", ["Αιτήσεις", "Υποβλήθηκε", "Συμβασιούχος"]),
    ("en", ["Applications", "Submitted", "Contractor"]),
])
def test_the_office_lists_applications(app, client, outbox, make_operator, language, texts):
    serial = _applied(client, outbox)
    office = make_operator("office").client(language=language)
    page = office.get("/manage/applications").get_data(as_text=True)
    assert serial in page and all(text in page for text in texts)
    assert serial not in office.get("/manage/applications?status=rejected").get_data(
        as_text=True)


def test_the_whole_office_work_on_the_pages(app, client, outbox, make_operator, csrf):
    serial = _applied(client, outbox)
    office = make_operator("office").client(language="en")
    shown = office.get(f"/manage/applications/{serial}").get_data(as_text=True)
    assert "The HR registry has no record of this applicant." in shown
    assert _post(office, serial, "approve", csrf, note="checked").status_code == 303
    refused = _post(office, serial, "verify", csrf, document_kind="id_card",
                    number="AK123456", evidence="solemn_declaration")
    assert refused.status_code == 400 and "APPLY-006" in refused.get_data(as_text=True)
    verified = office.post(f"/manage/applications/{serial}/verify", data={
        "csrf_token": csrf(office.get(f"/manage/applications/{serial}")),
        "document_kind": "id_card", "number": "AK123456",
        "evidence": ["solemn_declaration", "role_certificate"]})
    assert verified.status_code == 303
    sheet = _post(office, serial, "hand-over", csrf)
    text = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and "nalexiou" in text
    assert CODE.search(text).group(1) == handover_code(outbox)
    assert sheet.headers["Cache-Control"] == "no-store"
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event.like("application.%"), AuditEvent.actor.like("operator:%"))
            .order_by(AuditEvent.id)).all()
        assert [e.event for e in events] == ["application.account_created",
                                             "application.verified", "application.handed_over"]
        assert all(e.detail["serial"] == serial and e.detail["request_id"] for e in events)
        assert events[0].detail["reason"] == "checked"
    assert len(outbox.to(EMAIL)) == 4


def test_the_office_sees_the_hr_mismatch(app, client, outbox, make_operator):
    with app.app_context():
        db.session().add(RegistryRecord(
            source_registry="hr", registration_id="HR00077", first_name_el="Ελένη",
            last_name_el="Γεωργίου", father_first_name_el="Κώστας", role="staff"))
        db.session().commit()
    serial = _applied(client, outbox, FACULTY)
    page = make_operator("office").client(language="en").get(
        f"/manage/applications/{serial}").get_data(as_text=True)
    assert "HR record HR00077, but it differs in: role." in page


@pytest.mark.parametrize("language, title", [("el", "Απαιτείται αιτιολογία"),
                                             ("en", "A reason is required")])
def test_refusals_show_their_code_on_the_page(app, client, outbox, make_operator, csrf,
                                              language, title):
    serial = _applied(client, outbox)
    office = make_operator("office").client(language=language)
    early = _post(office, serial, "hand-over", csrf)
    assert early.status_code == 409 and "APPLY-004" in early.get_data(as_text=True)
    blank = _post(office, serial, "reject", csrf, reason=" ")
    assert blank.status_code == 400 and title in blank.get_data(as_text=True)
    assert "APPLY-012" in blank.get_data(as_text=True)
    assert _post(office, serial, "reject", csrf, reason="no contract").status_code == 303
    twice = _post(office, serial, "approve", csrf)
    assert twice.status_code == 409 and "APPLY-003" in twice.get_data(as_text=True)
    assert outbox.to(EMAIL)[-1]["subject"] == f"Η αίτηση {serial} απορρίφθηκε"


def test_other_operators_cannot_open_the_office(app, client, outbox, make_operator):
    serial = _applied(client, outbox)
    helpdesk = make_operator("helpdesk").client(language="en")
    response = helpdesk.get(f"/manage/applications/{serial}")
    assert response.status_code == 403 and "MANAGE-003" in response.get_data(as_text=True)


@pytest.mark.parametrize("language, texts", [
    ("el", ["Αιτήσεις", "Νέος σύνδεσμος ορισμού κωδικού"]),
    ("en", ["Applications", "A new set-password link is sent by handing the account over"]),
])
def test_the_persons_page_lists_their_applications(app, client, outbox, make_operator, csrf,
                                                   language, texts):
    serial = _applied(client, outbox)
    office = make_operator("office").client(language="en")
    assert _post(office, serial, "approve", csrf, note="checked").status_code == 303
    helpdesk = make_operator("helpdesk", "office").client(language=language)
    page = helpdesk.get("/manage/people/nalexiou").get_data(as_text=True)
    assert f'href="/manage/applications/{serial}"' in page
    assert all(text in page for text in texts)
