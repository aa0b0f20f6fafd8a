"""Single Logout across SPs, with an SP that never answers."""

import pytest
from lxml import html
from saml_sp import path_and_query, sso

pytest_plugins = ("saml_fixtures",)


@pytest.fixture
def three_sps(make_sp, make_account, login, client, csrf):
    username, password = make_account()
    login(client, username, password)
    sps = [make_sp(host) for host in ("one.example.org", "two.example.org", "three.example.org")]
    auths = [sso(client, sp, csrf) for sp in sps]
    assert all(auth.is_authenticated() for auth in auths)
    return list(zip(sps, auths, strict=True))


def frames(page):
    return [frame.get("src") for frame in html.fromstring(page.get_data()).iter("iframe")]


def test_logout_propagates_and_tolerates_an_sp_that_never_answers(three_sps, client):
    (origin, auth), (answering, _), (silent, _) = three_sps
    page = client.get(path_and_query(origin.logout_redirect(auth.get_nameid(), None, "bye")))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'http-equiv="refresh"' in body
    sources = frames(page)
    assert len(sources) == 2

    to_answering = client.get(sources[0])
    errors, answer = answering.handle_logout_message(to_answering.headers["Location"])
    assert errors == []
    confirmed = client.get(path_and_query(answer))
    assert confirmed.status_code == 200 and "✔" in confirmed.get_data(as_text=True)
    assert confirmed.headers["X-Frame-Options"] == "SAMEORIGIN"

    to_silent = client.get(sources[1])  # the request leaves; no answer ever comes back
    assert to_silent.headers["Location"].startswith(silent.sls)

    summary = client.get(f"/saml/slo/finish/{sources[0].split('/')[-2]}")
    rows = html.fromstring(summary.get_data()).xpath("//table//tr/td")
    texts = [cell.text_content().strip() for cell in rows]
    assert texts[0] == answering.entity_id and texts[2] == silent.entity_id
    assert [rows[1].get("class"), rows[3].get("class")] == ["done", "silent"]
    link = html.fromstring(summary.get_data()).xpath("//a[@class='button']/@href")[0]
    errors, _ = origin.handle_logout_message(link)
    assert errors == []
    assert "PartialLogout" in _status_codes(link)


def test_logout_with_every_sp_answering_is_complete(three_sps, client):
    (origin, auth), *others = three_sps
    page = client.get(path_and_query(origin.logout_redirect(auth.get_nameid(), None)))
    for source, (sp, _) in zip(frames(page), others, strict=True):
        errors, answer = sp.handle_logout_message(client.get(source).headers["Location"])
        assert errors == []
        client.get(path_and_query(answer))
    summary = client.get(f"/saml/slo/finish/{frames(page)[0].split('/')[-2]}")
    link = html.fromstring(summary.get_data()).xpath("//a[@class='button']/@href")[0]
    assert origin.handle_logout_message(link)[0] == []
    assert "PartialLogout" not in _status_codes(link)


def test_idp_session_is_over_after_logout(three_sps, client):
    (origin, auth), *_ = three_sps
    client.get(path_and_query(origin.logout_redirect(auth.get_nameid(), None)))
    again = client.get(path_and_query(origin.login_redirect()))
    assert again.status_code == 302 and "/login" in again.headers["Location"]


def test_logout_for_someone_else_is_not_honoured(three_sps, client):
    (origin, _auth), *_ = three_sps
    response = client.get(path_and_query(origin.logout_redirect("not-this-person", None)))
    errors, _ = origin.handle_logout_message(response.headers["Location"])
    assert "logout_not_success" in errors
    still = client.get(path_and_query(origin.login_redirect()))
    assert still.status_code == 200  # the IdP session was kept


def _status_codes(url: str) -> str:
    import base64
    import zlib

    from saml_sp import query_of

    raw = base64.b64decode(query_of(url)["SAMLResponse"])
    return zlib.decompress(raw, -15).decode()


def test_logout_started_at_the_idp_tells_every_sp(three_sps, client, csrf):
    confirm = client.get("/saml/logout")
    body = confirm.get_data(as_text=True)
    assert all(sp.entity_id in body for sp, _auth in three_sps)
    assert client.post("/saml/logout", data={}).status_code == 400  # no CSRF token, nothing ends
    page = client.post("/saml/logout", data={"csrf_token": csrf(confirm)})
    sources = frames(page)
    assert len(sources) == 3
    for source, (sp, _auth) in zip(sources, three_sps, strict=True):
        errors, answer = sp.handle_logout_message(client.get(source).headers["Location"])
        assert errors == []
        client.get(path_and_query(answer))
    summary = client.get(f"/saml/slo/finish/{sources[0].split('/')[-2]}")
    cells = html.fromstring(summary.get_data()).xpath("//table//tr/td[2]/@class")
    assert cells == ["done", "done", "done"]
    assert not html.fromstring(summary.get_data()).xpath("//a[@class='button']")
    again = client.get(path_and_query(three_sps[0][0].login_redirect()))
    assert again.status_code == 302 and "/login" in again.headers["Location"]


def test_the_idp_logout_page_also_tells_every_sp(three_sps, client, csrf):
    confirm = client.get("/logout")
    page = client.post("/logout", data={"csrf_token": csrf(confirm)})
    sources = frames(page)
    assert len(sources) == 3
    for source, (sp, _auth) in zip(sources, three_sps, strict=True):
        errors, _answer = sp.handle_logout_message(client.get(source).headers["Location"])
        assert errors == []
    assert client.get("/").status_code == 302
