"""An independent service provider for the tests: OneLogin's python3-saml, driven in-process.

It reads the IdP's published metadata, sends AuthnRequests and LogoutRequests over the
bindings python3-saml knows, and validates what the IdP answers with its own code (signature
with the metadata certificate, Destination, Audience, InResponseTo, time conditions).
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from lxml import html
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml_support import cert_body, make_keypair

from idp import db
from idp.saml import registrations

#: The security settings of the tests' SPs (``security=`` replaces them as a whole).
SECURITY = {
    "logoutRequestSigned": True, "logoutResponseSigned": True, "wantAssertionsSigned": True,
    "wantMessagesSigned": False, "signatureAlgorithm": C.RSA_SHA256, "digestAlgorithm": C.SHA256,
    "requestedAuthnContext": False, "rejectDeprecatedAlgorithm": True,
    "wantAttributeStatement": False,  # a release may be empty (SAML core 2.7.3)
}


class IndependentSP:
    """One python3-saml SP at https://<host>/, with its own keys in `folder`."""

    def __init__(self, host: str, idp_metadata: str, folder: Path, *, sign_requests=False,
                 want_encrypted=False, security: dict | None = None,
                 slo_binding: str = C.BINDING_HTTP_REDIRECT):
        self.host = host
        self.entity_id = f"https://{host}/metadata"
        self.acs = f"https://{host}/acs"
        self.sls = f"https://{host}/sls"
        self.key, self.cert = make_keypair(folder, host)
        self.sign_requests = sign_requests
        self.want_encrypted = want_encrypted
        self.security = security  # replaces the whole section: None keeps the tests' own
        self.slo_binding = slo_binding
        self.idp = OneLogin_Saml2_IdPMetadataParser.parse(idp_metadata)
        self.idp_post = OneLogin_Saml2_IdPMetadataParser.parse(
            idp_metadata, required_sso_binding=C.BINDING_HTTP_POST)
        self.last_request_id = None
        self.auth = None

    def settings(self, idp: dict | None = None) -> dict:
        settings = {
            "strict": True, "debug": False,
            "sp": {
                "entityId": self.entity_id,
                "assertionConsumerService": {"url": self.acs, "binding": C.BINDING_HTTP_POST},
                "singleLogoutService": {"url": self.sls, "binding": self.slo_binding},
                "NameIDFormat": C.NAMEID_PERSISTENT,
                "x509cert": cert_body(self.cert), "privateKey": self.key.read_text(),
            },
            "security": self.security if self.security is not None else {
                **SECURITY, "authnRequestsSigned": self.sign_requests,
                "wantAssertionsEncrypted": self.want_encrypted},
        }
        return OneLogin_Saml2_IdPMetadataParser.merge_settings(settings, idp or self.idp)

    def metadata(self) -> str:
        """The SP's metadata as python3-saml publishes it (for the IdP's metadata folder)."""
        auth = OneLogin_Saml2_Auth(self._request({}), self.settings())
        return auth.get_settings().get_sp_metadata().decode()

    def _request(self, post: dict, get: dict | None = None, path: str = "/acs") -> dict:
        return {"https": "on", "http_host": self.host, "script_name": path,
                "get_data": get or {}, "post_data": post}

    # -- SSO ------------------------------------------------------------------------------

    def login_redirect(self, relay_state="", force_authn=False, is_passive=False) -> str:
        """The URL (HTTP-Redirect binding) the browser is sent to."""
        self.auth = OneLogin_Saml2_Auth(self._request({}), self.settings())
        url = self.auth.login(return_to=relay_state or None, force_authn=force_authn,
                              is_passive=is_passive)
        self.last_request_id = self.auth.get_last_request_id()
        return url

    def login_post(self, relay_state="") -> tuple[str, dict]:
        """(SSO URL, form fields) for the HTTP-POST binding, signed by python3-saml if asked."""
        settings = OneLogin_Saml2_Auth(self._request({}),
                                       self.settings(self.idp_post)).get_settings()
        request = OneLogin_Saml2_Authn_Request(settings)
        xml = request.get_xml()
        if self.sign_requests:
            xml = OneLogin_Saml2_Utils.add_sign(xml, self.key.read_text(), self.cert.read_text(),
                                                sign_algorithm=C.RSA_SHA256,
                                                digest_algorithm=C.SHA256)
        self.last_request_id = request.get_id()
        fields = {"SAMLRequest": base64.b64encode(xml if isinstance(xml, bytes) else xml.encode())
                  .decode()}
        if relay_state:
            fields["RelayState"] = relay_state
        return self.idp_post["idp"]["singleSignOnService"]["url"], fields

    def accept(self, page: str | bytes, *, unsolicited=False) -> OneLogin_Saml2_Auth:
        """Feed the IdP's POST-binding page to the ACS; return the processed python3-saml auth."""
        action, fields = post_form(page)
        assert action == self.acs, action
        self.auth = OneLogin_Saml2_Auth(self._request(fields), self.settings())
        self.auth.process_response(request_id=None if unsolicited else self.last_request_id)
        return self.auth

    # -- SLO ------------------------------------------------------------------------------

    def logout_redirect(self, name_id: str, session_index: str | None, relay_state="") -> str:
        auth = OneLogin_Saml2_Auth(self._request({}), self.settings())
        url = auth.logout(return_to=relay_state or None, name_id=name_id,
                          session_index=session_index, name_id_format=C.NAMEID_PERSISTENT)
        self.last_request_id = auth.get_last_request_id()
        return url

    def handle_logout_message(self, url: str) -> tuple[list[str], str | None]:
        """Process a LogoutRequest or LogoutResponse the IdP redirected to; (errors, answer URL)."""
        parts = urlsplit(url)
        assert f"https://{parts.netloc}{parts.path}" == self.sls, url
        get = dict(parse_qsl(parts.query, keep_blank_values=True))
        auth = OneLogin_Saml2_Auth(self._request({}, get, "/sls"), self.settings())
        answer = auth.process_slo(request_id=self.last_request_id,
                                  delete_session_cb=lambda: None)
        return auth.get_errors(), answer


    def handle_posted_logout_request(self, message: str) -> tuple[list[str], str | None]:
        """A LogoutRequest the IdP sent by the HTTP-POST binding (python3-saml processes only
        the Redirect binding's): its XML signature checked against the IdP's metadata
        certificate, then processed as python3-saml would; (errors, answer URL)."""
        xml = base64.b64decode(message)
        idp = self.idp["idp"]
        certificate = idp.get("x509cert") or idp["x509certMulti"]["signing"][0]
        if not OneLogin_Saml2_Utils.validate_sign(xml, cert=certificate,
                                                  xpath="/samlp:LogoutRequest/ds:Signature"):
            return ["the LogoutRequest's signature does not verify"], None
        get = {"SAMLRequest": OneLogin_Saml2_Utils.deflate_and_base64_encode(xml)}
        auth = OneLogin_Saml2_Auth(self._request({}, get, "/sls"), self.settings())
        answer = auth.process_slo(delete_session_cb=lambda: None)
        return auth.get_errors(), answer


def post_form(page: str | bytes) -> tuple[str, dict]:
    """The action and hidden fields of the (first) form on an HTML page."""
    form = html.fromstring(page).forms[0]
    return form.action, {i.name: i.value for i in form.inputs if i.name and i.type == "hidden"}


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def set_policy(app, entity_id, **settings):
    with app.app_context():
        registrations.set_policy(entity_id, **settings)
        db.session().commit()


def follow(client, response, csrf=None, consent="accept"):
    """Follow redirects inside the IdP; answer the consent screen if it shows."""
    while response.status_code in (302, 303):
        response = client.get(path_and_query(response.headers["Location"]))
        if "/consent/" in response.request.path and csrf is not None:
            response = client.post(response.request.path, data={
                "csrf_token": csrf(response), "decision": consent})
    return response


def sso(client, sp, csrf, relay_state="", **options):
    """SP-initiated SSO over HTTP-Redirect with the client's session; the SP's result."""
    page = follow(client, client.get(path_and_query(sp.login_redirect(relay_state, **options))),
                  csrf)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return sp.accept(page.get_data())
