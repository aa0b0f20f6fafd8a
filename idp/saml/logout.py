"""Single Logout: an SP's LogoutRequest ends the IdP session and, front-channel, the others.

The page after the request embeds one frame per other SP of the session; each frame carries a
signed LogoutRequest to its SP and shows the SP's answer. The page moves on by itself after
SAML_LOGOUT_WAIT_SECONDS (a meta refresh, no JavaScript), so an SP that fails or never answers
only costs that wait; the summary lists which services confirmed, and its button carries the
LogoutResponse (Success, or PartialLogout) back to the SP that asked.
"""

from __future__ import annotations

import secrets

from flask import abort, current_app, redirect, render_template, request, session
from flask_babel import get_locale
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.saml import NameID
from saml2.samlp import STATUS_PARTIAL_LOGOUT, STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL

from idp import audit, db, sessions
from idp.errors import KleidiError
from idp.saml import bindings, intake, providers
from idp.saml import server as idp_server
from idp.saml.blueprint import bp
from idp.store import store

RSA_SHA256 = idp_server.RSA_SHA256


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
    known = (session.get("saml") or {}).get("sps", {})
    mine = known.get(origin.entity_id)
    if not mine or message.name_id is None or message.name_id.text != mine["name_id"]:
        return _answer_origin(received, STATUS_UNKNOWN_PRINCIPAL)
    lid = secrets.token_urlsafe(18)
    others = [{"sp": sp, **record} for sp, record in known.items() if sp != origin.entity_id]
    _put(f"saml:slo:{lid}", {"origin": origin.entity_id, "request": str(message),
                             "binding": received.binding, "relay_state": received.relay_state,
                             "others": others})
    account = sessions.current_account()
    if account is not None:
        audit.record("saml.logout", account=account, relying_party=origin.entity_id)
        db.session().commit()
    sessions.logout()
    if not others:
        return redirect(f"/saml/slo/finish/{lid}")
    return render_template("saml/logout.html", lid=lid, others=_named(others),
                           wait=current_app.config["SAML_LOGOUT_WAIT_SECONDS"])


@bp.get("/slo/propagate/<lid>/<int:index>")
def propagate(lid, index):
    """Inside a frame: send the LogoutRequest to one other SP of the session."""
    record = store().get(f"saml:slo:{lid}")
    if record is None or not 0 <= index < len(record["others"]):
        raise KleidiError("SAML-015")
    target = record["others"][index]
    idp = idp_server.server()
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        services = idp.metadata.single_logout_service(target["sp"], binding, "spsso")
        if services:
            return _send_request(idp, lid, index, target, binding, services[0]["location"])
    _put(f"saml:slo:{lid}:{index}", {"status": "unsupported"})
    return render_template("saml/logout_frame.html", status="unsupported")


def _send_request(idp, lid, index, target, binding, destination):
    name_id = NameID(format=target["format"], text=target["name_id"],
                     name_qualifier=idp_server.entity_id(), sp_name_qualifier=target["sp"])
    request_id, message = idp.create_logout_request(
        destination, target["sp"], name_id=name_id, sign=binding == BINDING_HTTP_POST,
        sign_alg=RSA_SHA256, digest_alg=idp_server.SHA256)
    _put(f"saml:slo-sent:{request_id}", {"lid": lid, "index": index, "sp": target["sp"]})
    _put(f"saml:slo:{lid}:{index}", {"status": "sent"})
    if binding == BINDING_HTTP_POST:
        return bindings.post_page(destination, "SAMLRequest", str(message))
    info = idp.apply_binding(binding, str(message), destination, sign=True, sigalg=RSA_SHA256)
    return redirect(dict(info["headers"])["Location"])


def _logout_response(binding: str, values):
    """An SP answering our LogoutRequest (inside its frame)."""
    try:
        root = intake.read_response(binding, values)
    except KleidiError:
        return render_template("saml/logout_frame.html", status="failed"), 400
    sent = store().consume(f"saml:slo-sent:{root.get('InResponseTo', '')}")
    if sent is None or providers.find(sent["sp"]) is None:
        return render_template("saml/logout_frame.html", status="failed"), 400
    if not intake.response_signature_ok(root, providers.find(sent["sp"]), binding, values) \
            or intake.issuer_of(root) != sent["sp"]:
        return render_template("saml/logout_frame.html", status="failed"), 400
    code = root.find(f"{{{intake.SAMLP}}}Status/{{{intake.SAMLP}}}StatusCode")
    ok = code is not None and code.get("Value") == STATUS_SUCCESS
    _put(f"saml:slo:{sent['lid']}:{sent['index']}", {"status": "done" if ok else "failed"})
    return render_template("saml/logout_frame.html", status="done" if ok else "failed")


@bp.get("/slo/finish/<lid>")
def finish(lid):
    """The summary page, whose button carries the LogoutResponse to the SP that asked."""
    record = store().consume(f"saml:slo:{lid}")
    if record is None:
        raise KleidiError("SAML-015")
    results = [(store().get(f"saml:slo:{lid}:{i}") or {}).get("status", "sent")
               for i in range(len(record["others"]))]
    results = ["silent" if status == "sent" else status for status in results]
    complete = all(status in ("done", "unsupported") for status in results)
    message = samlp.logout_request_from_string(record["request"])
    received = intake.Received(message, providers.find(record["origin"]), record["binding"],
                               record["relay_state"], True)
    answer = _answer_origin(received, STATUS_SUCCESS if complete else STATUS_PARTIAL_LOGOUT,
                            render=False)
    return render_template("saml/logout_done.html", answer=answer,
                           rows=list(zip(_named(record["others"]), results, strict=True)),
                           origin=received.provider.display_name(_lang()) if received.provider
                           else record["origin"])


def _answer_origin(received: intake.Received, status_code: str, render: bool = True):
    """The LogoutResponse to the requesting SP: a redirect, or a POST page."""
    if received.provider is None:
        abort(410)
    idp = idp_server.server()
    status = _status(status_code)
    binding = received.binding
    response = idp.create_logout_response(received.message, [binding], status=status,
                                          sign=binding == BINDING_HTTP_POST,
                                          sign_alg=RSA_SHA256, digest_alg=idp_server.SHA256)
    destination = idp.response_args(received.message, [binding])["destination"]
    if binding == BINDING_HTTP_POST:
        answer = {"post": destination, "message": bindings.encoded(str(response)),
                  "relay_state": received.relay_state}
    else:
        info = idp.apply_binding(binding, str(response), destination, received.relay_state or "",
                                 response=True, sign=True, sigalg=RSA_SHA256)
        answer = {"url": dict(info["headers"])["Location"]}
    if not render:
        return answer
    if "url" in answer:
        return redirect(answer["url"])
    return bindings.post_page(destination, "SAMLResponse", str(response), received.relay_state)


def _status(code: str):
    if code == STATUS_SUCCESS:
        return samlp.Status(status_code=samlp.StatusCode(value=STATUS_SUCCESS))
    top = samlp.STATUS_REQUESTER if code == STATUS_UNKNOWN_PRINCIPAL else STATUS_SUCCESS
    return samlp.Status(status_code=samlp.StatusCode(
        value=top, status_code=samlp.StatusCode(value=code)))


def _named(others: list[dict]) -> list[str]:
    return [(providers.find(o["sp"]).display_name(_lang()) if providers.find(o["sp"])
             else o["sp"]) for o in others]


def _lang() -> str:
    return str(get_locale())


def _put(key: str, value: dict) -> None:
    store().put(key, value, current_app.config["SAML_LOGOUT_TTL_SECONDS"])

