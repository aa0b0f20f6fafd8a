"""Web SSO against an independent SP (python3-saml), over both bindings."""

import pytest
from saml_sp import IndependentSP, path_and_query, post_form

from idp.saml import registrations
from idp import db

RELEASE = ["pairwise_id", "eppn", "display_name", "scoped_affiliation"]


@pytest.fixture
def idp(app, tmp_path):
    folder = tmp_path / "metadata"
    folder.mkdir()
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    return app


def add_sp(app, client, tmp_path, host, release=RELEASE, **options):
    sp = IndependentSP(host, client.get("/saml/metadata").get_data(as_text=True), tmp_path,
                       **options)
    (tmp_path / "metadata" / f"{host}.xml").write_text(sp.metadata())
    with app.app_context():
        registrations.set_policy(sp.entity_id, attributes=release)
        db.session().commit()
    return sp


def through_consent(client, response, csrf):
    """Follow redirects; accept the consent screen if it shows; return the final page."""
    while response.status_code in (302, 303):
        response = client.get(path_and_query(response.headers["Location"]))
        if "/consent/" in response.request.path:
            response = client.post(response.request.path, data={
                "csrf_token": csrf(response), "decision": "accept"})
    return response


def test_sp_initiated_redirect_with_existing_session(idp, client, tmp_path, make_account, login, csrf):
    sp = add_sp(idp, client, tmp_path, "sp1.example.org")
    username, password = make_account()
    login(client, username, password)
    page = through_consent(client, client.get(path_and_query(sp.login_redirect("rs-1"))), csrf)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()
    print(auth.get_attributes(), auth.get_nameid())
