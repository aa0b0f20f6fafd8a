"""Single Logout: an SP's LogoutRequest (or the IdP's own logout page, /saml/logout) ends the
IdP session and, front-channel, the sessions at the other SPs.

The page after the request embeds one frame per other SP of the session; each frame carries a
signed LogoutRequest to its SP and shows the SP's answer. The page moves on by itself after
SAML_LOGOUT_WAIT_SECONDS (a meta refresh, no JavaScript), so an SP that fails or never answers
only costs that wait; the summary lists which services confirmed, and its button carries the
LogoutResponse (Success, or PartialLogout) back to the SP that asked.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_wtf import FlaskForm
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.s_utils import SamlException, UnsupportedBinding
from saml2.saml import NameID
from saml2.samlp import STATUS_PARTIAL_LOGOUT, STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL

from idp import audit, db, headers, sessions
from idp.errors import KleidiError
from idp.saml import bindings, directory, encrypted_id, intake
from idp.saml import server as idp_server
from idp.saml.blueprint import bp
from idp.store import store

RSA_SHA256 = idp_server.RSA_SHA256
ASYNC_SLO = "urn:oasis:names:tc:SAML:2.0:protocol:ext:async-slo"


@bp.route("/slo/redirect", methods=["GET"])
def slo_redirect():
    if "SAMLResponse" in request.args:
        return _logout_response(BINDING_HTTP_REDIRECT, request.args)
    return _logout_request(intake.receive("LogoutRequest", BINDING_HTTP_REDIRECT))


@bp.route("/slo/post", methods=["POST"])
def slo_post():
    if "SAMLResponse" in request.form:
        return _logout_response(BINDING_HTTP_POST, request.form)
    return _logout_request(intake.receive("LogoutRequest", BINDING_HTTP_POST))


def _logout_request(received: intake.Received):
    origin, message = received.provider, received.message
    mine = (session.get("saml") or {}).get("sps", {}).get(origin.entity_id)
    name_id = _name_id(received)
    asynchronous = _asynchronous(message)
    if not mine or name_id is None or name_id != mine["name_id"]:
        if asynchronous:  # the SP awaits no answer; this session is not the one it ended
            return redirect(url_for("login.signed_in"))
        return _answer_origin(received, STATUS_UNKNOWN_PRINCIPAL)
    return _end_session({"origin": origin.entity_id, "request": str(message),
                         "binding": received.binding, "relay_state": received.relay_state,
                         "asynchronous": asynchronous})


def _name_id(received: intake.Received) -> str | None:
    """The NameID the LogoutRequest names, decrypted with the IdP's keys if the SP encrypted
    it (SAML-016 when none of them opens it: the session is kept)."""
    message = received.message
    if message.encrypted_id is None:
        return message.name_id.text if message.name_id is not None else None
    element = received.root.find(f"{{{intake.SAML}}}EncryptedID")
    keys = [Path(path).read_bytes() for path in idp_server.decryption_keys()]
    try:
        return (encrypted_id.decrypt(element, keys).text or "").strip()
    except encrypted_id.Undecryptable as exc:
        raise KleidiError("SAML-016", issuer=received.provider.entity_id, reason=str(exc)) from exc


def _asynchronous(message) -> bool:
    """Whether the SP said it expects no LogoutResponse (SAML asynchronous SLO extension)."""
    extensions = message.extensions.extension_elements if message.extensions else []
    return any(e.tag == "Asynchronous" and e.namespace == ASYNC_SLO for e in extensions)


@bp.route("/logout", methods=["GET", "POST"])
def idp_logout():
    """Logout started here: end the session and tell every SP of it (CSRF-protected form)."""
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        return _end_session({"origin": None})
    if request.method == "POST":
        raise KleidiError("GEN-003")
    services = list((session.get("saml") or {}).get("sps", {}))
    return render_template("saml/logout_confirm.html", form=form,
                           services=_named([{"sp": sp} for sp in services]))


def logout_from_idp():
    """The IdP's own logout page: tell this session's SPs too (None when it has none)."""
    if not (session.get("saml") or {}).get("sps"):
        return None
    return _end_session({"origin": None})


class LogoutForm(FlaskForm):
    """Nothing but the CSRF token."""


def _end_session(record: dict):
    """Keep what finishing needs, end the IdP session, show the propagation page."""
    known = (session.get("saml") or {}).get("sps", {})
    record["others"] = [{"sp": sp, **entry} for sp, entry in known.items()
                        if sp != record["origin"]]
    lid = secrets.token_urlsafe(18)
    _put(f"saml:slo:{lid}", record)
    account = sessions.current_account()
    if account is not None:
        audit.record("saml.logout", account=account, relying_party=record["origin"])
        db.session().commit()
    sessions.logout()
    if not record["others"]:
        return redirect(url_for("saml.finish", lid=lid))
    headers.allow("frame-src", *_frame_sources(record["others"]))
    return render_template("saml/logout.html", lid=lid, others=_named(record["others"]),
                           wait=current_app.config["SAML_LOGOUT_WAIT_SECONDS"])


@bp.get("/slo/propagate/<lid>/<int:index>")
def propagate(lid, index):
    """Inside a frame: send the LogoutRequest to one other SP of the session."""
    record = store().get(f"saml:slo:{lid}")
    if record is None or not 0 <= index < len(record["others"]):
        raise KleidiError("SAML-015")
    target = record["others"][index]
    idp = idp_server.server()
    endpoints = _logout_services(idp, target["sp"])
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        services = endpoints.get(binding)
        if services:
            return _send_request(idp, lid, index, target, binding, services[0]["location"])
    _put(f"saml:slo:{lid}:{index}", {"status": "unsupported"})
    return _frame("unsupported")


def _send_request(idp, lid, index, target, binding, destination):
    name_id = NameID(format=target["format"], text=target["name_id"],
                     name_qualifier=idp_server.entity_id(), sp_name_qualifier=target["sp"])
    session_index = target.get("session_index")  # the SP ends only the session it names
    request_id, message = idp.create_logout_request(
        destination, target["sp"], name_id=name_id, sign=binding == BINDING_HTTP_POST,
        sign_alg=RSA_SHA256, digest_alg=idp_server.SHA256,
        session_indexes=[session_index] if session_index else None)
    _put(f"saml:slo-sent:{request_id}", {"lid": lid, "index": index, "sp": target["sp"]})
    _put(f"saml:slo:{lid}:{index}", {"status": "sent"})
    if binding == BINDING_HTTP_POST:
        return _framed(bindings.post_page(destination, "SAMLRequest", str(message)))
    info = idp.apply_binding(binding, str(message), destination, sign=True, sigalg=RSA_SHA256)
    return _framed(redirect(dict(info["headers"])["Location"]))


def _logout_response(binding: str, values):
    """An SP answering our LogoutRequest (inside its frame)."""
    try:
        root = intake.read_response(binding, values)
    except KleidiError:
        return _frame("failed", 400)
    sent = store().consume(f"saml:slo-sent:{root.get('InResponseTo', '')}")
    if sent is None or directory.find(sent["sp"]) is None:
        return _frame("failed", 400)
    if not intake.response_signature_ok(root, directory.find(sent["sp"]), binding, values) \
            or intake.issuer_of(root) != sent["sp"]:
        return _frame("failed", 400)
    code = root.find(f"{{{intake.SAMLP}}}Status/{{{intake.SAMLP}}}StatusCode")
    ok = code is not None and code.get("Value") == STATUS_SUCCESS
    _put(f"saml:slo:{sent['lid']}:{sent['index']}", {"status": "done" if ok else "failed"})
    return _frame("done" if ok else "failed")


@bp.get("/slo/finish/<lid>")
def finish(lid):
    """The summary page; its button carries the LogoutResponse to the SP that asked, if any."""
    record = store().consume(f"saml:slo:{lid}")
    if record is None:
        raise KleidiError("SAML-015")
    results = [(store().get(f"saml:slo:{lid}:{i}") or {}).get("status", "sent")
               for i in range(len(record["others"]))]
    results = ["silent" if status == "sent" else status for status in results]
    complete = all(status in ("done", "unsupported") for status in results)
    answer, origin = None, None
    provider = directory.find(record["origin"]) if record["origin"] else None
    if provider is not None and not record.get("asynchronous"):
        message = samlp.logout_request_from_string(record["request"])
        received = intake.Received(message, provider, record["binding"], record["relay_state"],
                                   True)
        answer = _answer(received, STATUS_SUCCESS if complete else STATUS_PARTIAL_LOGOUT)
        origin = provider.display_name(_lang())
    return render_template("saml/logout_done.html", answer=answer, origin=origin,
                           rows=list(zip(_named(record["others"]), results, strict=True)))


def _answer_origin(received: intake.Received, status_code: str):
    """Answer the requesting SP at once: a redirect, or a POST page."""
    answer = _answer(received, status_code)
    if answer is None:
        raise KleidiError("SAML-011", reason="the SP has no SingleLogoutService")
    if "url" in answer:
        return redirect(answer["url"])
    return bindings.post_page(answer["post"], "SAMLResponse", answer["xml"], answer["relay_state"])


def _answer(received: intake.Received, status_code: str) -> dict | None:
    """The LogoutResponse, over the binding of the request if the SP has it, else the other."""
    idp = idp_server.server()
    other = BINDING_HTTP_POST if received.binding == BINDING_HTTP_REDIRECT else BINDING_HTTP_REDIRECT
    endpoints = _logout_services(idp, received.provider.entity_id)
    for binding in (received.binding, other):
        if endpoints.get(binding):
            break
    else:
        return None
    response = str(idp.create_logout_response(
        received.message, [binding], status=_status(status_code),
        sign=binding == BINDING_HTTP_POST, sign_alg=RSA_SHA256, digest_alg=idp_server.SHA256))
    destination = idp.response_args(received.message, [binding])["destination"]
    if binding == BINDING_HTTP_POST:
        return {"post": destination, "xml": response, "message": bindings.encoded(response),
                "relay_state": received.relay_state}
    info = idp.apply_binding(binding, response, destination, received.relay_state or "",
                             response=True, sign=True, sigalg=RSA_SHA256)
    return {"url": dict(info["headers"])["Location"]}


def _logout_services(idp, entity_id: str) -> dict[str, list]:
    """The SP's SingleLogoutService endpoints by binding. Asked for one binding, pysaml2
    raises (and logs an error) when the SP has only others, as node-saml's POST-only SPs do."""
    try:
        return idp.metadata.single_logout_service(entity_id, None, "spsso") or {}
    except UnsupportedBinding:  # the SP has no SingleLogoutService at all
        return {}


def _status(code: str):
    if code == STATUS_SUCCESS:
        return samlp.Status(status_code=samlp.StatusCode(value=STATUS_SUCCESS))
    top = samlp.STATUS_REQUESTER if code == STATUS_UNKNOWN_PRINCIPAL else STATUS_SUCCESS
    return samlp.Status(status_code=samlp.StatusCode(
        value=top, status_code=samlp.StatusCode(value=code)))


def _named(others: list[dict]) -> list[str]:
    return [(directory.find(o["sp"]).display_name(_lang()) if directory.find(o["sp"])
             else o["sp"]) for o in others]


def _lang() -> str:
    return str(get_locale())


def _frame(status: str, code: int = 200):
    return _framed(make_response(render_template("saml/logout_frame.html", status=status), code))


def _framed(response):
    """Pages shown inside the logout page's frames may be framed by this site only."""
    headers.allow("frame-ancestors", "'self'")
    return response


def _frame_sources(others: list[dict]) -> list[str]:
    """The origins the logout page's frames go to: this site, then each SP's logout service."""
    idp = idp_server.server()
    origins = {"'self'"}
    for other in others:
        try:  # every binding: {binding: [service, ...]}
            by_binding = idp.metadata.single_logout_service(other["sp"], None, "spsso")
        except SamlException:  # no logout service (its frame says so), or the SP is gone
            continue
        for services in by_binding.values():
            for service in services:
                parts = urlsplit(service["location"])
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def _put(key: str, value: dict) -> None:
    store().put(key, value, current_app.config["SAML_LOGOUT_TTL_SECONDS"])

