"""Fixtures of the SAML tests: an IdP app with its own metadata folder, independent SPs."""

from __future__ import annotations

import pytest
from saml_sp import IndependentSP, path_and_query

from idp import db
from idp.saml import registrations

RELEASE = ["pairwise_id", "eppn", "display_name", "scoped_affiliation"]


@pytest.fixture
def saml_app(app, tmp_path):
    """The app with SP metadata read from a temporary folder, re-read on every request."""
    folder = tmp_path / "metadata"
    folder.mkdir()
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    return app


@pytest.fixture
def make_sp(saml_app, client, tmp_path):
    """``make_sp(host, release=..., **options)``: an SP whose metadata is in METADATA_DIR."""

    def make(host: str, release=RELEASE, metadata_extra: str = "", **options) -> IndependentSP:
        sp = IndependentSP(host, client.get("/saml/metadata").get_data(as_text=True),
                           tmp_path, **options)
        xml = sp.metadata()
        if metadata_extra:
            xml = xml.replace("<md:SPSSODescriptor", metadata_extra + "<md:SPSSODescriptor", 1)
        (tmp_path / "metadata" / f"{host}.xml").write_text(xml)
        if release is not None:
            set_policy(saml_app, sp.entity_id, attributes=release)
        return sp

    return make


def set_policy(app, entity_id, **settings):
    with app.app_context():
        registrations.set_policy(entity_id, **settings)
        db.session().commit()


def follow(client, response, csrf=None, consent="accept"):
    """Follow redirects inside the IdP; answer the consent screen if it shows."""
    while response.status_code in (302, 303):
        response = client.get(path_and_query(response.headers["Location"]))
        if "/consent/" in response.request.path and csrf is not None:
            response = client.post(response.request.path, data={
                "csrf_token": csrf(response), "decision": consent})
    return response


def sso(client, sp, csrf, relay_state="", **options):
    """SP-initiated SSO over HTTP-Redirect with the client's session; the SP's result."""
    page = follow(client, client.get(path_and_query(sp.login_redirect(relay_state, **options))),
                  csrf)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return sp.accept(page.get_data())
