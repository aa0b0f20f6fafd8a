"""Federation review at /manage/relying-parties: requested against approved attributes, the
release preview for a test person, approval with the release, rejection with a reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rp_support import email_of, metadata, registration

from idp import db
from idp.audit import AuditEvent
from idp.identity import accounts
from idp.relying_parties import registration as owners_side

ENTITY = "https://courses.example.org/sp"


@pytest.fixture
def submitted(app, make_account):
    owner, _ = make_account(role="faculty")
    with app.app_context():
        account = accounts.find_by_username(owner)
        rp, _secret = owners_side.create(
            account, "saml", {"metadata": metadata(ENTITY, "https://courses.example.org/acs")},
            {"eppn": "to enrol students", "display_name": "to show names",
             "email": "to send notices"}, {}, {})
        owners_side.submit(rp, account)
        db.session().commit()
        return rp.id, owner


@pytest.mark.settings(SAML_METADATA_CHECK_SECONDS=0)
def test_an_operator_previews_and_approves_a_release(app, make_operator, make_account, csrf,
                                                     submitted, outbox):
    rp_id, owner = submitted
    person, _ = make_account("maria")
    operator = make_operator("federation")
    client = operator.client(language="en")
    listing = client.get("/manage/relying-parties").get_data(as_text=True)
    assert "Waiting for review" in listing and "Library" in listing
    page = client.get(f"/manage/relying-parties/{rp_id}?person={person}&release=eppn"
                      "&release=display_name")
    text = page.get_data(as_text=True)
    assert "to enrol students" in text and "What maria would send" in text
    assert "maria@example.edu" in text and "Maria Papadopoulou" in text
    preview = text.split('id="preview"')[1].split("</table>")[0]
    assert "email" not in preview
    answer = client.post(f"/manage/relying-parties/{rp_id}/approve", data={
        "csrf_token": csrf(page), "release": ["eppn", "display_name"], "reason": "as asked"})
    assert answer.status_code == 303
    rp = registration(app, ENTITY)
    assert rp.state == "active" and rp.approved["release"] == ["display_name", "eppn"]
    with app.app_context():
        from idp.saml import directory
        assert directory.find(ENTITY).approved() == {"display_name", "eppn"}
        event = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event == "rp.approved")).one()
        assert event.actor == f"operator:{operator.username}" and event.detail["request_id"]
    assert outbox.to(email_of(app, owner))[-1]["subject"] == "Η υπηρεσία Βιβλιοθήκη εγκρίθηκε"


def test_a_rejection_needs_a_reason_and_reaches_the_owners(app, make_operator, csrf, submitted,
                                                           outbox):
    rp_id, owner = submitted
    client = make_operator("federation").client(language="el")
    page = client.get(f"/manage/relying-parties/{rp_id}")
    assert "Υποβλήθηκε: αναμένει τους διαχειριστές" in page.get_data(as_text=True)
    answer = client.post(f"/manage/relying-parties/{rp_id}/reject",
                         data={"csrf_token": csrf(page), "reason": ""})
    assert answer.status_code == 400
    answer = client.post(f"/manage/relying-parties/{rp_id}/reject",
                         data={"csrf_token": csrf(page), "reason": "no security contact"})
    assert answer.status_code == 303
    assert registration(app, ENTITY).state == "rejected"
    mail = outbox.to(email_of(app, owner))[-1]
    assert mail["subject"] == "Η υπηρεσία Βιβλιοθήκη δεν εγκρίθηκε" and "no security contact" in mail["body"]


def test_a_release_beyond_the_request_and_a_second_decision_are_refused(app, make_operator,
                                                                        csrf, submitted):
    rp_id, _owner = submitted
    client = make_operator("federation").client(language="en")
    page = client.get(f"/manage/relying-parties/{rp_id}")
    answer = client.post(f"/manage/relying-parties/{rp_id}/approve", data={
        "csrf_token": csrf(page), "release": ["eppn", "entitlement"]})
    assert answer.status_code == 400 and "RP-011" in answer.get_data(as_text=True)
    client.post(f"/manage/relying-parties/{rp_id}/approve",
                data={"csrf_token": csrf(page), "release": ["eppn"]})
    again = client.post(f"/manage/relying-parties/{rp_id}/reject",
                        data={"csrf_token": csrf(page), "reason": "late"})
    assert again.status_code == 409 and "RP-010" in again.get_data(as_text=True)
    unknown = client.get(f"/manage/relying-parties/{rp_id}?person=nobody")
    assert "RP-013" in unknown.get_data(as_text=True)


def test_other_operators_and_rp_admins_are_kept_out(app, make_operator, submitted):
    rp_id, _owner = submitted
    helpdesk = make_operator("helpdesk").client(language="en")
    assert helpdesk.get(f"/manage/relying-parties/{rp_id}").status_code == 403
