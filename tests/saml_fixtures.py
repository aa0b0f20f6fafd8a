"""Fixtures of the SAML tests: an IdP app with its own metadata folder, independent SPs."""

from __future__ import annotations

import pytest
from saml_sp import IndependentSP, set_policy

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
