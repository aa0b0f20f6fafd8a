"""Security headers on every response: the content security policy, framing, transport.

Every page is framed by nobody (``frame-ancestors 'none'``), loads its styles, images, fonts
and scripts from this site only, and runs an inline script only if it carries the nonce of
its response (:func:`nonce`, e.g. the SAML POST-binding page that submits itself). A page
that needs more says so for its own response with :func:`allow` (the SAML logout page frames
the services it logs out of; the frames inside it may be framed by this site).

``form-action`` is left open on purpose: a login form's answer is a chain of redirects that
ends at whichever relying party asked (an OIDC redirect_uri, a SAML ACS), and browsers apply
``form-action`` to every hop of it. ``Strict-Transport-Security`` is sent only when BASE_URL
is https.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g

#: The policy of every response; :func:`allow` replaces a directive for one response.
POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def nonce() -> str:
    """This response's script nonce (made on first use; the policy then allows it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def allow(directive: str, *sources: str) -> None:
    """Replace ``directive`` of this response's policy with ``sources``.

    Extension point for pages that need more than the default: only a page whose content
    requires it may widen its own policy, never the policy of other pages.
    """
    g.setdefault("csp_changes", {})[directive] = " ".join(sources)


_DEFAULT = "; ".join(f"{name} {value}" for name, value in POLICY.items())


def policy() -> str:
    """The content security policy of the current response."""
    if "csp_changes" not in g and "csp_nonce" not in g:
        return _DEFAULT
    directives = {**POLICY, **g.get("csp_changes", {})}
    if "csp_nonce" in g:
        directives["script-src"] += f" 'nonce-{g.csp_nonce}'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


#: Headers that are the same on every response.
_FIXED = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"))


def _secure(response):
    """Add the headers. Views never set them themselves (they call :func:`allow`): they are
    added, not replaced, which costs half as much on every response (the token endpoint's)."""
    add = response.headers.add
    add("Content-Security-Policy", policy())
    framed_by_self = g.get("csp_changes", {}).get("frame-ancestors") == "'self'"
    add("X-Frame-Options", "SAMEORIGIN" if framed_by_self else "DENY")
    for name, value in _FIXED:
        add(name, value)
    config = current_app.config
    if config["BASE_URL"].startswith("https://"):
        add("Strict-Transport-Security", f"max-age={config['HSTS_SECONDS']}")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
