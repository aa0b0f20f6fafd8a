"""The relying-party portal (/rp) in-process: who may register, what is checked, the states
and the owners' emails."""

from __future__ import annotations

import io

import pytest
from rp_support import attribute_fields, description, email_of, metadata, registration, rp_id_from
from saml_support import make_keypair

ENTITY = "https://library.example.org/shibboleth"
ACS = "https://library.example.org/Shibboleth.sso/SAML2/POST"
REASONS = {"eppn": "to match loans", "display_name": "to greet readers"}


@pytest.fixture
def admin(client, make_account, login):
    username, password = make_account(role="staff")
    login(client, username, password)
    return username


def _post(client, csrf, path, data, **kwargs):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return client.post(path, data={"csrf_token": csrf(page), **data}, **kwargs)


def _saml(client, csrf, xml, reasons=REASONS, action="submit", **fields):
    return _post(client, csrf, "/rp/new/saml", {
        "metadata_text": xml, **description(**fields), **attribute_fields(reasons),
        "action": action})


def _error(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index("(RP-") + 1:text.index("(RP-") + 7]


def test_a_saml_sp_is_registered_from_an_uploaded_file_and_submitted(client, csrf, admin,
                                                                     tmp_path, app, outbox):
    _key, cert = make_keypair(tmp_path, "library")
    xml = metadata(ENTITY, ACS, cert)
    answer = _post(client, csrf, "/rp/new/saml", {
        "metadata_file": (io.BytesIO(xml.encode()), "sp.xml"), "name_el": "", "name_en": "",
        "technical_contact": "", "security_contact": "", **attribute_fields(REASONS),
        "action": "submit"}, content_type="multipart/form-data")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    rp = registration(app, ENTITY)
    assert rp.state == "submitted" and rp.approved is None
    # The names and contacts came from the metadata's mdui and ContactPerson elements.
    assert rp.requested["names"] == {"el": "Βιβλιοθήκη", "en": "Library"}
    assert rp.requested["contacts"] == {"technical": "tech@sp.example.org",
                                        "security": "security@sp.example.org"}
    assert rp.requested["attributes"] == dict(sorted(REASONS.items()))
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Υποβλήθηκε: αναμένει τους διαχειριστές" in page and "to match loans" in page
    client.set_cookie("kleidi_lang", "en")
    assert "Submitted: waiting for the operators" in client.get(
        answer.headers["Location"]).get_data(as_text=True)
    mail = outbox.to(email_of(app, admin))
    assert len(mail) == 1 and "Βιβλιοθήκη" in mail[0]["subject"]
    assert ENTITY in mail[0]["body"]


@pytest.mark.parametrize("change, code", [
    (lambda xml: xml.replace("<md:SPSSODescriptor", "<md:Bogus/><md:SPSSODescriptor"), "RP-001"),
    (lambda xml: xml[:-10], "RP-001"),
    (lambda xml: xml.replace("https://library", "http://library"), "RP-002"),
])
def test_unusable_metadata_is_refused_with_its_code(client, csrf, admin, tmp_path, change, code):
    _key, cert = make_keypair(tmp_path, "library")
    answer = _saml(client, csrf, change(metadata(ENTITY, ACS, cert)))
    assert answer.status_code == 400 and _error(answer) == code


def test_a_short_rsa_key_is_refused(client, csrf, admin, tmp_path):
    _key, cert = make_keypair(tmp_path, "weak", bits=1024)
    answer = _saml(client, csrf, metadata(ENTITY, ACS, cert))
    assert _error(answer) == "RP-003"
    assert "Ένα κλειδί είναι πολύ αδύναμο" in answer.get_data(as_text=True)


def test_http_acs_on_loopback_is_allowed_outside_production(client, csrf, admin):
    answer = _saml(client, csrf, metadata("http://127.0.0.1:8080/sp", "http://127.0.0.1:8080/acs"))
    assert answer.status_code == 303


def test_names_contacts_and_reasons_are_required(client, csrf, admin):
    xml = metadata(ENTITY, ACS, mdui=False, contacts=False)
    answer = _saml(client, csrf, xml, name_el="", security_contact="")
    assert _error(answer) == "RP-006"
    answer = _saml(client, csrf, xml, reasons={"eppn": ""})
    assert _error(answer) == "RP-006"
    assert _saml(client, csrf, xml).status_code == 303
    assert _error(_saml(client, csrf, xml)) == "RP-004"


def test_students_may_not_register(client, csrf, make_account, login):
    login(client, *make_account())
    answer = client.get("/rp")
    assert answer.status_code == 403 and "RP-007" in answer.get_data(as_text=True)


def test_the_portal_asks_to_sign_in(client):
    assert client.get("/rp").headers["Location"].startswith("/login")


def _oidc(client, csrf, **settings):
    data = {"redirect_uris": "https://lab.example.org/cb", "auth_method": "client_secret_basic",
            **description(), **attribute_fields({"email": "to write"}), "action": "submit",
            **settings}
    return _post(client, csrf, "/rp/new/oidc", data)


@pytest.mark.parametrize("settings, code", [
    ({"redirect_uris": "http://lab.example.org/cb"}, "RP-002"),
    ({"redirect_uris": "https://lab.example.org/cb#x"}, "RP-002"),
    ({"redirect_uris": ""}, "RP-005"),
    ({"redirect_uris": "https://a.example.org/cb https://b.example.org/cb"}, "RP-005"),
    ({"auth_method": "private_key_jwt"}, "RP-005"),
    ({"auth_method": "private_key_jwt", "jwks": "{not json"}, "RP-005"),
    ({"auth_method": "private_key_jwt", "jwks_uri": "http://keys.example.org/jwks"}, "RP-005"),
    ({"backchannel_logout_uri": "http://lab.example.org/bc"}, "RP-002"),
])
def test_client_settings_are_checked(client, csrf, admin, settings, code):
    assert _error(_oidc(client, csrf, **settings)) == code


def test_a_client_secret_is_shown_once_and_kept_hashed(client, csrf, admin, app):
    answer = _oidc(client, csrf, redirect_uris="http://127.0.0.1:9/cb")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "μόνο αυτή τη φορά" in text
    assert answer.headers["Cache-Control"] == "no-store"
    secret = text.split('id="client-secret">')[1].split("<")[0]
    rp = registration(app, text.split('id="client-id">')[1].split("<")[0])
    assert rp.secret_hash and secret not in str(rp.requested) and rp.secret_hash != secret
    assert secret not in client.get(f"/rp/{rp.id}").get_data(as_text=True)


def test_a_public_client_with_pkce_has_no_secret(client, csrf, admin, app):
    answer = _oidc(client, csrf, auth_method="none")
    assert answer.status_code == 303  # no secret page
    with app.app_context():
        from idp.relying_parties import review
        rp = review.find(rp_id_from(answer.headers["Location"]))
        assert rp.secret_hash is None and rp.requested["settings"]["auth_method"] == "none"


def test_co_owners_see_and_edit_others_do_not(client, csrf, admin, app, make_account, login):
    rp_id = rp_id_from(_saml(client, csrf, metadata(ENTITY, ACS)).headers["Location"])
    colleague, password = make_account(role="faculty")
    page = client.get(f"/rp/{rp_id}")
    answer = client.post(f"/rp/{rp_id}/owners", data={"csrf_token": csrf(page),
                                                      "username": "nobody"})
    assert answer.status_code == 400 and "RP-009" in answer.get_data(as_text=True)
    client.post(f"/rp/{rp_id}/owners", data={"csrf_token": csrf(page), "username": colleague})
    assert colleague in client.get(f"/rp/{rp_id}").get_data(as_text=True)
    stranger = app.test_client()
    login(stranger, *make_account(role="staff"))
    assert stranger.get(f"/rp/{rp_id}").status_code == 404
    assert "RP-008" in stranger.get(f"/rp/{rp_id + 100}").get_data(as_text=True)
    other = app.test_client()
    login(other, colleague, password)
    assert other.get(f"/rp/{rp_id}").status_code == 200


@pytest.mark.settings(SAML_METADATA_CHECK_SECONDS=0)
def test_an_edit_of_an_active_sp_waits_for_review_and_the_approved_version_stays(
        client, csrf, admin, app, outbox):
    rp_id = rp_id_from(_saml(client, csrf, metadata(ENTITY, ACS)).headers["Location"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rp", "approve", str(rp_id), "--release", "eppn"])
    assert result.exit_code == 0, result.output
    assert registration(app, ENTITY).state == "active"
    page = client.get(f"/rp/{rp_id}/edit")
    answer = client.post(f"/rp/{rp_id}/edit", data={
        "csrf_token": csrf(page), "metadata_text": metadata(ENTITY, ACS), **description(),
        **attribute_fields({**REASONS, "email": "reminders"}), "action": "submit"})
    assert answer.status_code == 303
    rp = registration(app, ENTITY)
    assert rp.state == "submitted" and rp.approved["release"] == ["eppn"]
    with app.app_context():
        from idp.saml import directory
        assert directory.find(ENTITY).approved() == {"eppn"}
    result = runner.invoke(args=["rp", "reject", str(rp_id), "--reason", "email is not needed"])
    assert result.exit_code == 0, result.output
    page = client.get(f"/rp/{rp_id}").get_data(as_text=True)
    assert "email is not needed" in page and "η εγκεκριμένη έκδοση είναι σε χρήση" in page
    subjects = [m["subject"] for m in outbox.to(email_of(app, admin))]
    assert len(subjects) == 4 and "δεν εγκρίθηκε" in subjects[-1]
    assert "email is not needed" in outbox.to(email_of(app, admin))[-1]["body"]


def test_the_portal_is_linked_only_for_those_who_may_register(app, make_account, login):
    staff, student = app.test_client(), app.test_client()
    login(staff, *make_account(role="staff"))
    login(student, *make_account())
    assert 'href="/rp"' in staff.get("/").get_data(as_text=True)
    assert "Οι υπηρεσίες σας" in staff.get("/").get_data(as_text=True)
    assert 'href="/rp"' not in student.get("/").get_data(as_text=True)


@pytest.mark.settings(SAML_METADATA_CHECK_SECONDS=0)
def test_the_names_given_name_an_sp_whose_metadata_has_none(client, csrf, admin, app):
    xml = metadata(ENTITY, ACS, mdui=False)
    rp_id = rp_id_from(_saml(client, csrf, xml, name_el="Μαθήματα", name_en="Courses")
                       .headers["Location"])
    result = app.test_cli_runner().invoke(args=["rp", "approve", str(rp_id)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from idp.saml import directory
        assert directory.display_name(ENTITY, "el") == "Μαθήματα"
        assert directory.display_name(ENTITY, "en") == "Courses"
