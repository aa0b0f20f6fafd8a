"""The HTTP-Redirect and HTTP-POST bindings: reading what arrives, sending what leaves."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from urllib.parse import unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from flask import current_app, make_response, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from saml2 import BINDING_HTTP_REDIRECT

from idp import headers
from idp.saml import hardening

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
SAML_PARAMETERS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")


def query_pieces(raw_query: str) -> dict[str, str]:
    """The raw (still URL-encoded) values of the SAML parameters of a query string.

    The signature of the Redirect binding covers the octets as sent, so they are kept as they
    are; a SAML parameter given twice is refused rather than guessed at.
    """
    pieces: dict[str, str] = {}
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name in SAML_PARAMETERS:
            if name in pieces:
                raise hardening.UnsafeMessage("malformed", f"{name} given twice")
            pieces[name] = value
    return pieces


def verify_query_signature(pieces: dict[str, str], kind: str, certificates) -> bool:
    """Check the Redirect binding's signature (SAML bindings 3.4.4.1) with `certificates`."""
    sigalg = unquote_plus(pieces.get("SigAlg", ""))
    hardening.check_redirect_algorithm(sigalg)
    signed = "&".join(f"{name}={pieces[name]}" for name in (kind, "RelayState", "SigAlg")
                      if name in pieces).encode("ascii")
    try:
        signature = base64.b64decode(unquote_plus(pieces.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError):
        return False
    digest = _HASHES[sigalg.rsplit("-", 1)[1]]()
    return any(_verify(cert, signature, signed, digest) for cert in certificates)


def _verify(body: str, signature: bytes, signed: bytes, digest) -> bool:
    public_key = x509.load_der_x509_certificate(base64.b64decode(body)).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed, padding.PKCS1v15(), digest)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed, ec.ECDSA(digest))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def decode(binding: str, value: str, max_bytes: int) -> bytes:
    """The XML of a SAMLRequest/SAMLResponse parameter, decoded per binding, size-bounded."""
    if binding == BINDING_HTTP_REDIRECT:
        return hardening.decode_redirect(value, max_bytes)
    data = hardening.decode_post(value, max_bytes)
    if len(data) > max_bytes:
        raise hardening.UnsafeMessage("too-large", f"{len(data)} bytes")
    return data


def encoded(xml: str) -> str:
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


@lru_cache(maxsize=8)
def _texts(lang: str) -> tuple[str, str, str]:
    """The page's texts in `lang`, the current request's language (translations are fixed for
    the life of the process, and looking them up cost as much as rendering the page)."""
    return (_("Continue to the service"), _("You are being sent back to the service."),
            _("Continue"))


def post_page(destination: str, kind: str, xml: str, relay_state: str | None = None):
    """The HTTP-POST binding page: a form that sends `xml` to `destination` (no JS needed)."""
    # The template is rendered directly, with its texts given: Flask's context processors and
    # the template-side gettext calls cost twice the rendering itself.
    lang = str(get_locale())
    title, text, button = _texts(lang)
    page = current_app.jinja_env.get_template("saml/post.html").render(
        lang=lang, title=title, text=text, button=button,
        stylesheet=url_for("static", filename="kleidi.css"),
        destination=destination, kind=kind, message=encoded(xml), relay_state=relay_state,
        nonce=headers.nonce())
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
