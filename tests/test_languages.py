"""Everything a person reads exists in Greek and English, and every error code is documented."""

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from idp.config import ROOT
from idp.errors import CATALOGUE

METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}


def _source_messages() -> dict[str, str]:
    found = {}
    for folder in ("idp", "selfservice", "manage", "templates"):
        for filename, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, METHODS, keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.do"}},
        ):
            for text in message if isinstance(message, tuple) else (message,):
                if text:
                    found[text] = f"{folder}/{filename}"
    return found


def _greek() -> dict[str, str]:
    translated = {}
    for path in sorted((ROOT / "translations").glob("*/el/LC_MESSAGES/messages.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    translated[key] = message.string
    return translated


def test_every_message_has_a_greek_translation():
    greek = _greek()
    missing = sorted(f"{where}: {text!r}" for text, where in _source_messages().items()
                     if text not in greek)
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_every_error_code_is_documented_in_both_languages(app):
    docs = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for code in CATALOGUE:
        rows = [line for line in docs.splitlines() if line.startswith(f"| {code} ")]
        assert rows, f"{code} is not in docs/errors.md"
        assert re.search(r"[α-ωΑ-Ω]", rows[0]) and re.search(r"[a-z]{3}", rows[0]), code


def _user_pages(app) -> list[str]:
    """Every page a person can open without parameters (protocol and JSON endpoints aside)."""
    skip = ("/static", "/healthz", "/readyz", "/metrics", "/lang", "/.well-known", "/saml",
            "/oidc", "/jwks", "/brand.css", "/favicon.ico",
            "/manage",  # operators only: tests/test_manage_*.py render each in both languages
            "/rp")  # staff and faculty only: tests/test_rp_*.py render them in both languages
    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(skip)
        and not rule.rule.endswith(".json")
    )


#: Where a page sends a person instead of rendering, (signed out, signed in); a page not
#: listed must render (200) when signed in, and render or send to the login page when not.
REDIRECTS = {
    "/": ("/login", None),
    "/login/second-factor": ("/login", "/login"),
    "/account/second-factor/recovery-codes": ("/login", "/account/second-factor"),
    "/account/second-factor/remove": ("/login", "/account/second-factor"),
    "/account/second-factor/setup": ("/login", "/account/second-factor"),
    "/apply/submitted": ("/apply/", "/apply/"),  # only right after applying
}


def _expected(path: str, signed_in: bool) -> str | None:
    """The path the page is meant to redirect to, or None when it must render itself."""
    signed_out_target, signed_in_target = REDIRECTS.get(path, (None, None))
    return signed_in_target if signed_in else signed_out_target


ENGLISH = re.compile(r"\b(the|you|your|and|to|of|in|is|are|not)\b")

#: Pages the self-service promises (README, docs): losing one of them is a failure.
PROMISED = {"/login", "/logout", "/activate/", "/recovery", "/account", "/account/password",
            "/account/contacts", "/account/second-factor"}


def test_every_page_renders_in_greek_and_in_english(app, make_account, login):
    assert PROMISED <= set(_user_pages(app)), PROMISED - set(_user_pages(app))
    username, password = make_account()
    for signed_in in (False, True):
        client = app.test_client()
        if signed_in:
            login(client, username, password)
        for path in _user_pages(app):
            pages = {}
            for lang in ("el", "en"):
                client.set_cookie("kleidi_lang", lang, domain="localhost")
                response = client.get(path)
                target = _expected(path, signed_in)
                if response.status_code in (302, 303) and target is None and not signed_in:
                    target = "/login"  # a page for signed-in people only
                if target is not None:
                    assert response.status_code in (302, 303), (path, signed_in, response.status_code)
                    location = response.headers["Location"]
                    assert location.split("?")[0].removeprefix("http://localhost") == target, \
                        (path, signed_in, location)
                    response = client.get(location)
                assert response.status_code == 200, (path, signed_in, lang, response.status_code)
                body = response.get_data(as_text=True)
                assert f'<html lang="{lang}">' in body, (path, lang)
                pages[lang] = _main(body)
            assert re.search(r"[α-ωά-ώ]{4}", pages["el"]), f"{path} has no Greek text"
            assert ENGLISH.search(pages["en"]), f"{path} has no English text"
            assert pages["el"] != pages["en"], f"{path} is the same in both languages"


def test_an_unknown_page_is_the_coded_not_found_page_in_both_languages(client):
    for lang, title in (("el", "Η σελίδα δεν βρέθηκε"), ("en", "Page not found")):
        client.set_cookie("kleidi_lang", lang, domain="localhost")
        response = client.get("/no-such-page")
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and title in body and "GEN-001" in body


def _main(body: str) -> str:
    """The page's own content, without the shared header (which names both languages)."""
    return body.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def test_greek_is_the_default_and_the_browser_is_heard(client):
    greek = client.get("/login").get_data(as_text=True)
    assert '<html lang="el">' in greek and "<h1>Σύνδεση</h1>" in greek
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.get_data(as_text=True)
