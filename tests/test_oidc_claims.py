"""Who the relying party is told the person is: pairwise sub, claims by scope, userinfo."""

from oidc_support import code_flow, id_token_claims, register

from idp import db
from idp.identity import accounts
from idp.identity.models import Person


def _flow(app, client, login, person, rp, **extra):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1], **extra)
    return token


def _academic_id(app, username):
    with app.app_context():
        account = accounts.find_by_username(username)
        return db.session().get(Person, account.person_id).academic_id


def test_sub_is_pairwise_per_sector_and_stable(app, client, login, make_account):
    person = make_account()
    one = register(app, redirect_uris=["https://rp.example.org/callback"])
    same_sector = register(app, redirect_uris=["https://rp.example.org/callback"])
    other_sector = register(app, redirect_uris=["https://rp.example.org/callback"],
                            sector="eclass.example.edu")
    first = id_token_claims(client, _flow(app, client, login, person, one)["id_token"])["sub"]
    later = app.test_client()  # another browser, another login
    again = id_token_claims(later, _flow(app, later, login, person, one)["id_token"])["sub"]
    shared = id_token_claims(client, _flow(app, client, login, person, same_sector)[
        "id_token"])["sub"]
    apart = id_token_claims(client, _flow(app, client, login, person, other_sector)[
        "id_token"])["sub"]
    assert first == again == shared
    assert apart != first
    academic_id = _academic_id(app, person[0])
    assert academic_id not in first and academic_id.lower() not in first.lower()


def test_two_people_get_different_subs(app, client, login, make_account):
    rp = register(app)
    a = id_token_claims(client, _flow(app, client, login, make_account(), rp)["id_token"])
    b_client = app.test_client()
    b = id_token_claims(b_client, _flow(app, b_client, login, make_account(), rp)["id_token"])
    assert a["sub"] != b["sub"]


def test_userinfo_by_header_and_by_form_body(app, client, login, make_account):
    person = make_account()
    rp = register(app)
    token = _flow(app, client, login, person, rp)
    by_header = client.get("/oidc/userinfo",
                           headers={"Authorization": "Bearer " + token["access_token"]})
    by_post = client.post("/oidc/userinfo", headers={
        "Authorization": "Bearer " + token["access_token"]})
    by_body = client.post("/oidc/userinfo", data={"access_token": token["access_token"]})
    assert by_header.status_code == by_post.status_code == by_body.status_code == 200
    assert by_header.get_json() == by_post.get_json() == by_body.get_json()
    assert by_header.headers["Cache-Control"] == "no-store"
    claims = by_header.get_json()
    assert claims["sub"] == id_token_claims(client, token["id_token"])["sub"]
    assert claims["email"] == f"{person[0]}@example.edu" and claims["email_verified"] is True
    assert "eduperson_affiliation" not in claims  # not asked for


def test_userinfo_without_token_or_with_a_bad_one(client):
    missing = client.get("/oidc/userinfo")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].lower().startswith(
        "bearer")
    assert client.get("/oidc/userinfo", headers={"Authorization": "Bearer nope"}
                      ).status_code == 401


def test_only_approved_scopes_are_released(app, client, login, make_account):
    person = make_account()
    rp = register(app, scopes=["openid", "email"])
    token = _flow(app, client, login, person, rp, scope="openid email profile eduperson")
    assert token["scope"] == "openid email"
    claims = client.get("/oidc/userinfo",
                        headers={"Authorization": "Bearer " + token["access_token"]}).get_json()
    assert set(claims) == {"sub", "email", "email_verified"}
    assert "name" not in id_token_claims(client, token["id_token"])


def test_eduperson_and_schac_claims_follow_mission_names(app, client, login, make_account):
    person = make_account(role="faculty", registration=None)
    rp = register(app)
    token = _flow(app, client, login, person, rp, scope="openid eduperson schac")
    claims = client.get("/oidc/userinfo",
                        headers={"Authorization": "Bearer " + token["access_token"]}).get_json()
    assert claims["eduperson_principal_name"] == f"{person[0]}@example.edu"
    assert claims["eduperson_unique_id"].endswith("@example.edu")
    assert "faculty@example.edu" in claims["eduperson_scoped_affiliation"]
    assert claims["schac_home_organization"] == "example.edu"
    assert "schac_personal_unique_code" not in claims  # faculty have no student number
