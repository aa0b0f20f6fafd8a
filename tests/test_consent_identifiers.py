"""The consent screen never shows the AcademicID or a value derived from it: it says what the
identifier is instead (SAML and OIDC share the screen)."""

import sqlalchemy as sa
from oidc_support import auth_params, browse, register
from saml_sp import follow, path_and_query

from idp import db
from idp.identity.models import Account, Person

pytest_plugins = ("saml_fixtures",)

EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
IDENTIFIERS = ["subject_id", "eduperson_unique_id", "schgr_ac_person_id", "pairwise_id", "eppn"]
SHARED = {"en": "A permanent identifier, the same at every service that receives it",
          "el": "Ένα μόνιμο αναγνωριστικό, το ίδιο σε κάθε υπηρεσία που το λαμβάνει"}
PAIRWISE = {"en": "A pseudonymous identifier for this service",
            "el": "Ένα ψευδωνυμικό αναγνωριστικό για αυτή την υπηρεσία"}


def academic_id(app, username: str) -> str:
    with app.app_context():
        return db.session().scalar(sa.select(Person.academic_id).join(Account).where(
            Account.username == username))


def test_saml_consent_names_the_identifiers_without_showing_them(saml_app, make_sp, client, csrf,
                                                                 make_account, login):
    username, password = make_account()
    login(client, username, password)
    sp = make_sp("ids.example.org", release=IDENTIFIERS)
    for lang in ("en", "el"):
        client.set_cookie("kleidi_lang", lang, domain="localhost")
        page = follow(client, client.get(path_and_query(sp.login_redirect())))
        assert "/consent/" in page.request.path
        body = page.get_data(as_text=True)
        assert academic_id(saml_app, username).lower() not in body.lower()
        assert body.count(SHARED[lang]) == 3 and body.count(PAIRWISE[lang]) == 1
        assert f"{username}@example.edu" in body  # other values are shown as they are
    auth = sp.accept(follow(client, client.get(path_and_query(sp.login_redirect())), csrf)
                     .get_data())
    derived = [value.split("@")[0] for name, values in auth.get_attributes().items()
               if name != EPPN for value in values]
    assert len(derived) == 4  # subject-id, eduPersonUniqueId, schGrAcPersonID, pairwise-id
    assert not any(value.lower() in body.lower() for value in derived)


def test_oidc_consent_does_not_show_the_eduperson_unique_id(app, client, make_account, login):
    username, password = make_account()
    client_id, _secret = register(app)
    login(client, username, password)
    page = browse(client, client.get("/oidc/authorize", query_string=auth_params(
        client_id, "x" * 43, scope="openid eduperson")), consent=None)
    body = page.get_data(as_text=True)
    assert 'name="decision"' in body
    assert academic_id(app, username).lower() not in body.lower()
    assert "Μοναδικό αναγνωριστικό" in body and SHARED["el"] in body
