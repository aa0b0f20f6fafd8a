"""The pysaml2 Server of this IdP, built from the configuration and the current set of SPs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

from idp.saml import crypto, directory_source, response, vocabulary

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
#: path of each endpoint under /saml, per binding
ENDPOINTS = {
    "single_sign_on_service": {BINDING_HTTP_REDIRECT: "/saml/sso/redirect",
                               BINDING_HTTP_POST: "/saml/sso/post"},
    "single_logout_service": {BINDING_HTTP_REDIRECT: "/saml/slo/redirect",
                              BINDING_HTTP_POST: "/saml/slo/post"},
}


class IdentityProvider(Server):
    """pysaml2's Server, signing and encrypting in-process (idp.saml.crypto)."""

    def __init__(self, config: IdPConfig, data_encryption: str):
        super().__init__(config=config)
        self.sec = crypto.security_context(self.config, data_encryption)
        self.config.attribute_converters = [vocabulary.converter()]

    # This IdP answers neither AssertionIDRequest nor AuthnQuery (no such endpoint): saying so
    # stops pysaml2 from keeping every assertion it issues in an in-memory dict for the life
    # of the Server, which grew the process (and the garbage collector's work) per response.
    def support_AssertionIDRequest(self):
        return False

    def support_AuthnQuery(self):
        return False


def entity_id() -> str:
    config = current_app.config
    return config["SAML_ENTITY_ID"] or f"{config['BASE_URL']}/saml/metadata"


def endpoint_url(service: str, binding: str) -> str:
    return current_app.config["BASE_URL"] + ENDPOINTS[service][binding]


def key_path(name: str, extension: str) -> str:
    return str(Path(current_app.config["KEYS_DIR"]) / f"saml-{name}.{extension}")


def decryption_keys() -> list[str]:
    """Every private key the IdP decrypts with (an SP's EncryptedID), the current one first.

    What an SP encrypted for a key the IdP still publishes, or published until lately, must
    open: a key rollover lists each such key here, and callers try them in turn.
    """
    return [key_path("encryption", "key")]


def server() -> IdentityProvider:
    """The Server (rebuilt when the keys change; SPs are looked up in idp.saml.directory)."""
    return _cached("server", lambda: IdentityProvider(
        _config(), current_app.config["SAML_DATA_ENCRYPTION"]))


def signer() -> response.Signer:
    """The signing key, parsed once, and its certificate (re-read when the key files change)."""
    return _cached("signer", _signer)


def _cached(name: str, make):
    """`make()`, rebuilt when the key files change; the files are looked at no more often
    than the metadata (SAML_METADATA_CHECK_SECONDS)."""
    cache = current_app.extensions.setdefault("kleidi.saml.server", {})
    cached = cache.get(name)
    now = time.monotonic()
    if cached is not None and now - cached[2] < current_app.config["SAML_METADATA_CHECK_SECONDS"]:
        return cached[1]
    folder = current_app.config["KEYS_DIR"]
    # os.stat on plain strings: pathlib's parsing cost more than the four stat calls
    version = tuple(os.stat(os.path.join(folder, f"saml-{n}.{e}")).st_mtime_ns
                    for n in ("signing", "encryption") for e in ("key", "crt"))
    if cached is None or cached[0] != version:
        cached = (version, make(), now)
    cache[name] = (version, cached[1], now)
    return cached[1]


def _signer() -> response.Signer:
    """The signing key and its certificate, read as a pair: a rollover (idp.saml.signing_keys)
    replaces one file and then the other, and a response must never name a certificate that
    does not verify it."""
    for _attempt in range(5):
        with open(key_path("signing", "crt"), "rb") as handle:
            pem = handle.read()
        with open(key_path("signing", "key"), "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):  # the responses say RSA-SHA256
            raise ValueError(f"{key_path('signing', 'key')}: the SAML signing key must be RSA")
        certified = x509.load_pem_x509_certificate(pem).public_key()
        if certified.public_numbers() == key.public_key().public_numbers():
            body = b"".join(line for line in pem.splitlines()
                            if line and not line.startswith(b"-----"))
            return response.Signer(key=key, certificate=body.decode("ascii"))
        time.sleep(0.05)  # caught between the two files of a rollover: read them again
    raise ValueError(f"{key_path('signing', 'key')} does not match {key_path('signing', 'crt')}")


def _config() -> IdPConfig:
    config = IdPConfig()
    config.load({
        "entityid": entity_id(),
        "crypto_backend": "XMLSecurity",  # never used: IdentityProvider replaces it
        "key_file": key_path("signing", "key"), "cert_file": key_path("signing", "crt"),
        "encryption_keypairs": [{"key_file": key_path("encryption", "key"),
                                 "cert_file": key_path("encryption", "crt")}],
        "metadata": {},  # its one source, the directory, is attached below
        "accepted_time_diff": current_app.config["SAML_CLOCK_SKEW_SECONDS"],
        "service": {"idp": {
            "endpoints": {service: [(endpoint_url(service, b), b) for b in bindings]
                          for service, bindings in ENDPOINTS.items()},
            "signing_algorithm": RSA_SHA256, "digest_algorithm": SHA256,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
            "want_authn_requests_signed": False,  # checked by idp.saml.intake, per SP
        }},
    })
    directory_source.attach(config.metadata)
    return config
