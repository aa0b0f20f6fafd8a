"""Links to self-service flows shown on the login and home pages, and the way back to a page
after the login.

Areas add their own with :func:`add_link`, so the login page needs no edit when a flow
arrives; the page only lists what is registered.

A page that needs a signed-in person (the console, the account pages, the registration of
services) sends a signed-out one to the login with :func:`remember_page`: the login, once
done (with its code, if the account has a second factor), ends on that page instead of the
home page. Only a page opened with GET under the area's own prefix (:func:`add_return_area`)
is remembered, in the session, and it is checked again on the way back.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app, request, session, url_for

from idp.sessions import AFTER_LOGIN

#: The longest page remembered for after the login (path and query).
LONGEST_PAGE = 500


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


def add_return_area(app: Flask, prefix: str) -> None:
    """Let pages under ``prefix`` (e.g. ``/manage``) be remembered for after the login."""
    app.extensions.setdefault("kleidi.return_areas", set()).add(prefix.rstrip("/"))


def returnable(target: str | None, prefix: str) -> bool:
    """True if ``target`` is a page of this site (:func:`local_path`) under ``prefix``,
    without dot segments (which a browser resolves to another path), printable ASCII and not
    too long."""
    if not target or len(target) > LONGEST_PAGE or not (target.isascii() and target.isprintable()):
        return False
    if local_path(target, default="") != target:
        return False
    path = urlsplit(target).path
    under = path == prefix or path.startswith(prefix + "/")
    return under and not {".", ".."} & set(path.split("/"))


def remember_page(prefix: str) -> None:
    """Remember this request's page for after the login if it is a GET of a page under
    ``prefix``; otherwise forget any page remembered before (the login then ends at home)."""
    query = request.query_string.decode("latin-1")
    here = quote(request.path) + (f"?{query}" if query else "")
    if request.method == "GET" and request.url_rule is not None and returnable(here, prefix):
        session[AFTER_LOGIN] = here
    elif AFTER_LOGIN in session:  # (a session with nothing to forget is not written)
        del session[AFTER_LOGIN]


def page_after_login() -> str | None:
    """The page remembered by :func:`remember_page`, once (it is forgotten), if it is still
    under an area that may be returned to."""
    page = session.pop(AFTER_LOGIN, None)
    areas = current_app.extensions.get("kleidi.return_areas", ())
    return page if any(returnable(page, prefix) for prefix in areas) else None
