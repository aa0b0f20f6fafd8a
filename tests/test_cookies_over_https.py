"""Cookies when the IdP is served over https: the session and device cookies carry the
"__Host-" prefix (Secure, Path=/, no Domain: no other host can set them), the session cookie is
SameSite=None for the SAML POST binding, the language cookie is Secure. Over plain http (the
development server) the names stay plain."""

import pytest

HTTPS = "https://localhost"


def _cookies(response) -> dict[str, list[str]]:
    """Set-Cookie headers by cookie name: their attributes, lower case (dates left out)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        attributes = []
        for part in rest.split(";")[1:]:
            part = part.strip().lower()
            key = part.split("=")[0]
            attributes.append(key if key in ("expires", "max-age") else part)
        found[name] = sorted(attributes)
    return found


@pytest.mark.settings(BASE_URL=HTTPS)
def test_cookie_names_and_flags_over_https(app, make_account, login):
    username, password = make_account()
    client = app.test_client()
    switched = client.get("/lang/en", base_url=HTTPS)
    assert _cookies(switched)["kleidi_lang"] == [
        "expires", "httponly", "max-age", "path=/", "samesite=lax", "secure"]
    signed_in = login(client, username, password, base_url=HTTPS)
    cookies = _cookies(signed_in)
    assert set(cookies) == {"__Host-kleidi_session", "__Host-kleidi_device"}
    assert cookies["__Host-kleidi_session"] == ["httponly", "path=/", "samesite=none", "secure"]
    assert cookies["__Host-kleidi_device"] == [
        "expires", "httponly", "max-age", "path=/", "samesite=lax", "secure"]
    assert client.get("/", base_url=HTTPS).status_code == 200
    assert client.get_cookie("kleidi_session") is None


@pytest.mark.settings(BASE_URL=HTTPS)
def test_the_session_cookie_is_deleted_as_secure_over_https(app, make_account, login, csrf):
    username, password = make_account()
    client = app.test_client()
    login(client, username, password, base_url=HTTPS)
    page = client.get("/logout", base_url=HTTPS)
    out = client.post("/logout", data={"csrf_token": csrf(page)}, base_url=HTTPS,
                      headers={"Referer": f"{HTTPS}/logout"})
    deleted = [h for h in out.headers.getlist("Set-Cookie") if h.startswith("__Host-kleidi_session=")]
    assert deleted and "Secure" in deleted[0] and "Max-Age=0" in deleted[0]
    assert "Domain" not in deleted[0]
    assert client.get("/", base_url=HTTPS).status_code == 302


def test_plain_names_over_http(app, make_account, login):
    username, password = make_account()
    client = app.test_client()
    assert "secure" not in _cookies(client.get("/lang/en"))["kleidi_lang"]
    cookies = _cookies(login(client, username, password))
    assert set(cookies) == {"kleidi_session", "kleidi_device"}
    assert cookies["kleidi_session"] == ["httponly", "path=/", "samesite=lax"]
