"""The console's gate: every /manage route (taken from the app's URL map, so a new one is
checked without an edit here) refuses whoever is not signed in, not an operator, without a
second factor (enrolled and used in this session), or without the route's role."""

import re

import pytest
import sqlalchemy as sa
from conftest import csrf_token
from mfa_helpers import enrol

from idp import db
from idp.audit import AuditEvent

#: The role each area of the console needs; a route under no prefix here is for admins only
#: (the default of the gate). A new area adds its prefix and role.
AREAS = {
    "/manage/people": "helpdesk",
    "/manage/accounts": "helpdesk",
    "/manage/nonpersonal": "office",
    "/manage/applications": "office",
    "/manage/relying-parties": "federation",
    "/manage/operators": "admin",
}
#: Routes that need another role than their area's.
ROUTES = {"/manage/people/<username>/names": ("office",), "/manage/people/<username>/extend": ("office",),
          "/manage/people": ("helpdesk", "office"), "/manage/people/<username>": ("helpdesk", "office")}
ROLES = ("office", "helpdesk", "federation", "admin")


def _routes(app) -> list[tuple[str, str, str]]:
    """(method, URL, rule) of every route under /manage, arguments filled with stand-ins."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule != "/manage" and not rule.rule.startswith("/manage/"):
            continue
        url = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x" + m.group(1),
                     rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url, rule.rule))
    return found


def _role_of(rule: str) -> str | None:
    if rule == "/manage":
        return None  # the index: any operator
    if rule in ROUTES:
        return ROUTES[rule]
    for prefix, role in AREAS.items():
        if rule == prefix or rule.startswith(prefix + "/"):
            return role
    return "admin"


def _call(client, method: str, url: str):
    token = csrf_token(client.get("/login"))
    return client.open(url, method=method, data={"csrf_token": token, "reason": "test",
                                                  "role": "helpdesk", "username": "x"})


def _operator_events() -> int:
    with db.engine().connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.actor.like("operator:%")))


def test_the_console_has_routes_and_each_is_known(app):
    rules = {rule for _m, _u, rule in _routes(app)}
    assert {"/manage", "/manage/operators", "/manage/operators/<username>/revoke", "/manage/people",
            "/manage/people/<username>", "/manage/people/<username>/disable",
            "/manage/nonpersonal/<int:request_id>/approve"} <= rules


def test_nobody_signed_out_reaches_any_console_route(app, client):
    for method, url, _rule in _routes(app):
        response = _call(client, method, url)
        assert response.status_code == 303, (method, url, response.status_code)
        assert response.headers["Location"].endswith("/login"), (method, url)
    with app.app_context():
        assert _operator_events() == 0


@pytest.mark.parametrize("lang,title", [("el", "Αυτή η σελίδα είναι για τους διαχειριστές"),
                                        ("en", "This page is for operators")])
def test_an_account_without_a_role_is_refused_everywhere(app, make_account, login, lang, title):
    username, password = make_account()
    client = app.test_client()
    client.set_cookie("kleidi_lang", lang, domain="localhost")
    login(client, username, password)
    for method, url, _rule in _routes(app):
        response = _call(client, method, url)
        body = response.get_data(as_text=True)
        assert response.status_code == 403 and "MANAGE-001" in body and title in body, (method, url)


@pytest.mark.parametrize("lang,text", [("el", "Ορίστε πρώτα δεύτερο παράγοντα"),
                                       ("en", "Set up a second factor first")])
def test_an_operator_without_a_second_factor_is_sent_to_enrol(app, make_operator, lang, text):
    admin = make_operator(*ROLES, second_factor=False)
    client = app.test_client()
    admin.sign_in(client, language=lang)
    for method, url, _rule in _routes(app):
        response = _call(client, method, url)
        body = response.get_data(as_text=True)
        assert response.status_code == 403 and "MANAGE-002" in body and text in body, (method, url)
        assert 'href="/account/second-factor"' in body
    with app.app_context():
        assert _operator_events() == 0


def test_a_session_without_the_code_is_asked_for_it_first(app, clock, make_operator):
    admin = make_operator(*ROLES, second_factor=False)
    client = app.test_client()
    admin.sign_in(client)  # password only: the app is enrolled after the session began
    enrol(app, clock, admin.username)
    for method, url, _rule in _routes(app):
        response = _call(client, method, url)
        assert response.status_code in (302, 303), (method, url, response.status_code)
        assert response.headers["Location"].endswith("/login/second-factor"), (method, url)
    with app.app_context():
        assert _operator_events() == 0


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_its_own_routes_only(app, make_operator, role):
    operator = make_operator(role)
    client = operator.client(language="en")
    for method, url, rule in _routes(app):
        needed = _role_of(rule)
        response = _call(client, method, url)
        body = response.get_data(as_text=True)
        refused = response.status_code == 403 and "MANAGE-003" in body
        allowed = needed is None or role == "admin" or role in (
            needed if isinstance(needed, tuple) else (needed,))
        assert refused != allowed, (role, method, url, response.status_code)
        assert not re.search(r"MANAGE-00[12]", body), (role, method, url)


def test_the_index_lists_only_the_areas_of_the_role(app, make_operator):
    admin, helpdesk = make_operator("admin"), make_operator("helpdesk")
    for lang, heading, roles in (("el", "Κονσόλα διαχειριστών", "Διαχειριστές"),
                                 ("en", "Operators' console", "Administrators")):
        body = admin.client(language=lang).get("/manage").get_data(as_text=True)
        assert heading in body and roles in body and admin.username in body
        assert 'href="/manage/operators"' in body
    body = helpdesk.client(language="en").get("/manage").get_data(as_text=True)
    assert "Your roles: Helpdesk" in body and 'href="/manage/operators"' not in body


def test_a_console_route_nobody_gave_a_role_is_for_admins_only(app, make_operator):
    from flask import Blueprint

    forgotten = Blueprint("forgotten", __name__)
    forgotten.add_url_rule("/manage/forgotten", "page", lambda: "reached")
    app.register_blueprint(forgotten)  # not through manage.register: no role declared
    office, admin = make_operator("office", "helpdesk", "federation"), make_operator("admin")
    refused = office.client(language="en").get("/manage/forgotten")
    assert refused.status_code == 403 and "MANAGE-003" in refused.get_data(as_text=True)
    assert app.test_client().get("/manage/forgotten").status_code == 303
    assert admin.client().get("/manage/forgotten").get_data(as_text=True) == "reached"


def test_an_area_outside_manage_cannot_be_registered(app):
    from flask import Blueprint

    import manage

    with pytest.raises(ValueError, match="under /manage/"):
        manage.register(app, Blueprint("elsewhere", __name__, url_prefix="/people"), role="helpdesk")


def test_the_role_is_read_on_every_request(app, make_operator):
    helpdesk = make_operator("helpdesk")
    client = helpdesk.client(language="en")
    assert client.get("/manage/people").status_code == 200
    done = app.test_cli_runner().invoke(args=["operator", "revoke", helpdesk.username, "helpdesk"])
    assert done.exit_code == 0
    refused = client.get("/manage/people")
    assert refused.status_code == 403 and "MANAGE-001" in refused.get_data(as_text=True)


def test_a_console_action_without_the_form_token_is_refused(app, make_operator, make_account):
    username, _ = make_account()
    client = make_operator("admin").client(language="en")
    refused = client.post(f"/manage/people/{username}/disable", data={"reason": "forged"})
    assert refused.status_code == 400 and "GEN-003" in refused.get_data(as_text=True)
    with app.app_context():
        assert _operator_events() == 0


def test_the_home_page_links_to_the_console_for_operators_only(app, make_operator, make_account,
                                                               login):
    helpdesk = make_operator("helpdesk")
    client = helpdesk.client(language="en")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/manage"' in home and "Operators' console" in home
    username, password = make_account()
    someone = app.test_client()
    login(someone, username, password)
    assert 'href="/manage"' not in someone.get("/").get_data(as_text=True)
    done = app.test_cli_runner().invoke(args=["operator", "revoke", helpdesk.username, "helpdesk"])
    assert done.exit_code == 0
    assert 'href="/manage"' not in client.get("/").get_data(as_text=True)


def test_a_console_page_reads_the_roles_once(app, make_operator):
    """The gate's answer serves the page's link to the console too: one query for the roles."""
    from flask import Blueprint, render_template_string

    links = Blueprint("links", __name__)
    links.add_url_rule("/manage/links", "page", lambda: render_template_string(
        "{% for link in selfservice_links(signed_in=True) %}{{ link.url }} {% endfor %}"))
    app.register_blueprint(links)
    client = make_operator("admin").client()
    asked = []

    def statement(_conn, _cursor, sql, *_):
        if "operator_role" in sql:
            asked.append(sql)

    with app.app_context():
        sa.event.listen(db.engine(), "before_cursor_execute", statement)
    try:
        page = client.get("/manage/links").get_data(as_text=True)
    finally:
        with app.app_context():
            sa.event.remove(db.engine(), "before_cursor_execute", statement)
    assert "/manage " in page and len(asked) == 1
