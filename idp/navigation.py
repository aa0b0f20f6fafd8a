"""Links to self-service flows shown on the login and home pages.

Areas add their own with :func:`add_link`, so the login page needs no edit when a flow
arrives; the page only lists what is registered.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, url_for


def add_link(app: Flask, endpoint: str, label, *, signed_in: bool = False, order: int = 50,
             shown=None):
    """Show a link to ``endpoint`` on the login page (or, with ``signed_in``, the home page);
    with ``shown`` (a callable), only while ``shown()`` is true."""
    links = app.extensions.setdefault("kleidi.links", [])
    links.append((order, endpoint, label, signed_in, shown))
    links.sort(key=lambda item: item[0])


def links(signed_in: bool = False) -> list[dict]:
    return [
        {"url": url_for(endpoint), "label": label}
        for _order, endpoint, label, for_signed_in, shown
        in current_app.extensions.get("kleidi.links", [])
        if for_signed_in == signed_in and (shown is None or shown())
    ]


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under BASE_URL: never built from the request's Host
    header, which a client controls (published endpoints, token audiences)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (never another site: no open redirects)."""
    target = target or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def organization_name() -> str:
    from flask_babel import get_locale

    config = current_app.config
    lang = str(get_locale())
    return config["ORGANIZATION_NAME_EL"] if lang == "el" else config["ORGANIZATION_NAME_EN"]


def relying_party_name(relying_party: str, default: str | None = None) -> str:
    """The name of a relying party in the page's language (see :func:`idp.consent.display_name`)."""
    from flask_babel import get_locale

    from idp import consent

    return consent.display_name(relying_party, str(get_locale()), default)


def init_app(app: Flask) -> None:
    app.add_template_global(links, "selfservice_links")
    app.add_template_global(organization_name)
    app.add_template_global(relying_party_name)
