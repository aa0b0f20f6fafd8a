"""Greek and English: the language comes from the cookie, else the browser, else Greek."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale

from idp.config import ROOT

LANGUAGES = ("el", "en")


def select_locale() -> str:
    """The request's language: an explicit choice (g.locale, set by protocols from
    ui_locales), then the language cookie, then the browser's preference, then Greek."""
    if g.get("locale") in LANGUAGES:
        return g.locale
    chosen = request.cookies.get(current_app.config["LANGUAGE_COOKIE_NAME"])
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "el"


def remember(response, language: str) -> None:
    """Keep ``language`` in the language cookie (Secure over https, like every cookie)."""
    config = current_app.config
    response.set_cookie(config["LANGUAGE_COOKIE_NAME"], language, httponly=True, samesite="Lax",
                        secure=config["BASE_URL"].startswith("https://"),
                        max_age=config["LANGUAGE_COOKIE_SECONDS"])


def catalogue_dirs() -> str:
    """Every area's catalogue folder under translations/, for Flask-Babel."""
    return ";".join(str(path) for path in sorted((ROOT / "translations").iterdir())
                    if path.is_dir())


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "el")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = catalogue_dirs()
    Babel(app, locale_selector=select_locale)
    app.add_template_global(get_locale)


def compiled() -> bool:
    """True when every catalogue has its compiled .mo next to it."""
    return all(po.with_suffix(".mo").exists()
               for po in Path(ROOT / "translations").glob("*/*/LC_MESSAGES/*.po"))
