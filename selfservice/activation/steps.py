"""Account activation (uregister) as a flow: each step checks, moves the flow, commits.

    role -> identify -> pin_sent -> (amka) -> review -> password -> done

The browser's Back button is part of the procedure: a person may return to a step already
passed (their details, the AMKA, the review) and send it again, which forgets what came after
it. The PIN step is never returned to (its PIN was used up): its page then shows the step the
flow is at.

The identify step answers the same whether or not the data match the registry: a PIN is
issued either way, but a message is written only when they match, and only to the registry's
own contact. Reasons for a refusal are shown only once the PIN has proved that the person
holds that contact; each refusal ends the flow with a coded error telling them to contact the
secretariat.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_babel import lazy_gettext as _l

from idp import audit, db, errors, flows, messaging
from idp.credentials import pins
from idp.credentials.password_policy import policy
from idp.identity.models import RegistryRecord
from idp.identity.usernames import UsernameError, staff_username, student_username
from idp.store import store
from selfservice.activation import completion, identity

KIND = PURPOSE = "activation"
ACTIVE_ENROLLMENT = {None, "", "active"}

#: The steps in order, and what a return to each forgets (None: everything but the role).
ORDER = ("role", "identify", "pin_sent", "amka", "review", "password", "done")
FORGET_ON_RETURN = {"identify": None, "amka": {"ssn", "consent_mobile", "consent_email"},
                    "review": {"consent_mobile", "consent_email"}}

flows.register_kind(KIND, initial="role", lifetime="ACTIVATION_FLOW_SECONDS", transitions={
    "role": {"identify"},
    "identify": {"pin_sent"},
    "pin_sent": {"pin_sent", "amka", "review", "identify"},
    "amka": {"review", "identify"},
    "review": {"password", "identify", "amka"},
    "password": {"done", "identify", "amka", "review"},
})

_SECRETARIAT = _l("Contact the secretariat of your department, who keep the student registry.")
errors.define("ACT-001", 403, _l("Your details could not be verified"),
              _l("The details you gave do not match the student registry. %(next)s",
                 next=_SECRETARIAT))
errors.define("ACT-002", 403, _l("The tax number (AFM) does not match"),
              _l("The registry holds a tax number (AFM) for you, and the one you gave, or "
                 "its country of issue, is different. %(next)s", next=_SECRETARIAT))
errors.define("ACT-003", 409, _l("Your account is already activated"),
              _l("An account already exists for this registration. If you forgot its "
                 "password, use \"Forgot your password?\" on the login page."))
errors.define("ACT-004", 403, _l("Your studies are not active"),
              _l("The registry does not list you as an active student, so no account can be "
                 "activated. %(next)s", next=_SECRETARIAT))
errors.define("ACT-005", 409, _l("This AMKA belongs to another person"),
              _l("The AMKA you gave is already registered to another person. %(next)s",
                 next=_SECRETARIAT))
errors.define("ACT-006", 403, _l("The AMKA does not match your date of birth"),
              _l("The AMKA you gave does not match the date of birth in the registry. "
                 "%(next)s", next=_SECRETARIAT))
errors.define("ACT-007", 409, _l("Your username cannot be issued"),
              _l("Your registry data do not fit the username pattern of the institution. "
                 "%(next)s", next=_SECRETARIAT))
errors.define("ACT-008", 404, _l("This kind of account cannot be activated here"),
              _l("Only the roles listed on the activation page can be activated online."))
errors.define("ACT-009", 429, _l("Too many activations started"),
              _l("Too many activations were started from your connection. Wait an hour and "
                 "try again."))


def refuse(flow: flows.Flow, code: str, **context) -> None:
    """End the flow for good (with an audit event) and show the coded error."""
    audit.record("activation.refused", actor="anonymous", code=code,
                 **{k: v for k, v in context.items() if k == "record"})
    flows.fail(flow, code)
    raise errors.KleidiError(code, **context)


def passed(flow: flows.Flow, step: str) -> bool:
    """True if the flow is past ``step`` (and not yet done)."""
    return flow.state != flows.DONE and ORDER.index(step) < ORDER.index(flow.state)


def can_return(flow: flows.Flow, step: str) -> bool:
    """True if the person may go back to ``step`` and send it again."""
    if step not in FORGET_ON_RETURN or not passed(flow, step):
        return False
    if step == "amka":  # shown only to those the registry holds no AMKA for
        record = _record(flow)
        return record is not None and not record.ssn
    return True


def return_to(flow: flows.Flow, step: str) -> None:
    """Move the flow back to ``step``, forgetting what later steps gathered (the caller
    then runs the step and commits)."""
    if flow.state == step:
        return
    if not can_return(flow, step):
        raise flows.IllegalTransition(flow, step)
    flows.advance(flow, step)
    forget = FORGET_ON_RETURN[step]
    if forget is None:
        flow.data, flow.subject = {"role": flow.data["role"]}, None
    else:
        flow.data = {key: value for key, value in flow.data.items() if key not in forget}


def begin(role: str, ip: str | None) -> flows.Flow:
    """A new activation for ``role``, within the per-address hourly limit of new flows."""
    config = current_app.config
    if role not in config["ACTIVATION_ROLES"]:
        raise errors.KleidiError("ACT-008", role=role)
    if ip and store().incr(f"activation:start:{ip}", 3600) > config["ACTIVATION_STARTS_PER_IP_HOUR"]:
        raise errors.KleidiError("ACT-009")
    flow = flows.start(KIND)
    flows.advance(flow, "identify", role=role)
    db.session().commit()
    return flow


def identify(flow: flows.Flow, *, registration_id: str, mobile: str | None, email: str | None,
             tin: str | None, tin_country: str, language: str, ip: str | None) -> None:
    """Check the typed data and send a PIN if they match (the same answer if not).

    The answer never comes sooner than ACTIVATION_IDENTIFY_MIN_SECONDS after the request, so
    the extra work of a real send (a message row) cannot be timed.
    """
    started = time.monotonic()
    found = identity.match(registration_id, mobile=mobile, email=email, tin=tin,
                           tin_country=tin_country, role=flow.data["role"])
    contact_key = pins.contact_key(mobile or email)
    flows.advance(flow, "pin_sent", record_id=found.record_id, channel=found.channel,
                  tin_ok=found.tin_ok, language=language, contact_key=contact_key)
    if found.found:
        flow.subject = f"registry_record:{found.record_id}"
    try:
        _send_pin(flow, ip)
    except pins.SendLimit:
        db.session().rollback()  # the flow stays at identify, to be tried again later
        raise
    finally:
        left = current_app.config["ACTIVATION_IDENTIFY_MIN_SECONDS"] - (time.monotonic() - started)
        time.sleep(max(0.0, left))


def resend(flow: flows.Flow, ip: str | None) -> None:
    """A new PIN (the previous one stops working), within the sending limits."""
    flows.advance(flow, "pin_sent")
    _send_pin(flow, ip, resend=True)


def _send_pin(flow: flows.Flow, ip: str | None, resend: bool = False) -> None:
    pin = pins.issue(flow, PURPOSE, contact=flow.data["contact_key"], ip=ip, resend=resend)
    record = _record(flow)
    channel, language = flow.data["channel"], flow.data["language"]
    context = {"pin": pin, "minutes": current_app.config["PIN_TTL_SECONDS"] // 60,
               "service": _l("Account activation"), "organization": _organization(language)}
    if record is None:
        messaging.render("pin", channel, language, **context)  # the same work as a real send
    else:
        messaging.enqueue(channel, identity.recipient(record, channel), "pin", language,
                          **context)
    db.session().commit()


def check_pin(flow: flows.Flow, candidate: str) -> str:
    """pins.OK after which the flow has moved on, or why the PIN was not accepted."""
    result = pins.verify(flow, PURPOSE, candidate)
    if result != pins.OK:
        db.session().commit()
        return result
    record = _record(flow)
    if record is None:
        refuse(flow, "ACT-001")
    if not flow.data["tin_ok"]:
        refuse(flow, "ACT-002", record=record.id)
    if record.enrollment_status not in ACTIVE_ENROLLMENT:
        refuse(flow, "ACT-004", record=record.id)
    username, person = _username(flow, record), identity.existing_person(record)
    if identity.active_account(person, username):
        refuse(flow, "ACT-003", record=record.id)
    if completion.held_by_another(username, person):
        refuse(flow, "ACT-007", record=record.id, reason="username held by another person")
    flows.advance(flow, "review" if record.ssn else "amka", username=username)
    db.session().commit()
    return result


def _username(flow: flows.Flow, record: RegistryRecord) -> str:
    """A student's username from the registration; a staff member's the one their personal
    account already has, or a new one from the Latin names (never one used before)."""
    if record.source_registry == "hr":
        person = identity.existing_person(record)
        account = completion.personal_account(person) if person else None
        if account is not None:
            return account.username
        return staff_username(record.first_name_en or record.first_name_el,
                              record.last_name_en or record.last_name_el)
    person = identity.existing_person(record)
    account = completion.personal_account(person) if person else None
    if account is not None and not completion.is_transfer(person, record):
        return account.username  # one personal account: a new level or role keeps it
    try:
        return student_username(record.department_id or "", record.registration_id)
    except UsernameError:
        refuse(flow, "ACT-007", record=record.id)


def give_amka(flow: flows.Flow, amka: str) -> str | None:
    """Record a typed AMKA; "invalid" if it is not one (the person may correct it)."""
    record = _record(flow)
    problem = identity.amka_problem(amka, record)
    if problem == "invalid":
        return problem
    if problem == "birth_date":
        refuse(flow, "ACT-006", record=record.id)
    if problem == "taken":
        refuse(flow, "ACT-005", record=record.id)
    flows.advance(flow, "review", ssn={"kind": "amka", "value": amka})
    db.session().commit()
    return None


def give_foreign_id(flow: flows.Flow, *, ssn: str | None, country: str | None,
                    ehic: str | None) -> None:
    """Record a foreign social security number with its country, or an EHIC number."""
    value = {"kind": "ehic", "value": ehic} if ehic else {
        "kind": "foreign", "value": ssn, "country": country}
    flows.advance(flow, "review", ssn=value)
    db.session().commit()


def review(flow: flows.Flow) -> dict:
    """What the registry holds, as shown before consent; ``verified`` is the channel ("sms"
    or "email") whose contact the PIN has just proved the person holds."""
    record = _record(flow)
    email = record.ext_email
    return {"record": record, "username": flow.data["username"], "mobile": record.mobile_phone,
            "email": email if email and not _institutional(email) else None,
            "verified": flow.data["channel"],
            "identifier": flow.data.get("ssn") or {"kind": "registry"}}


def consent(flow: flows.Flow, *, mobile: bool, email: bool) -> None:
    shown = review(flow)
    flows.advance(flow, "password", consent_mobile=bool(mobile and shown["mobile"]),
                  consent_email=bool(email and shown["email"]))
    db.session().commit()


def password_problems(flow: flows.Flow, password: str, confirmation: str) -> list[str]:
    record = _record(flow)
    names = (record.first_name_el, record.last_name_el, record.first_name_en,
             record.last_name_en)
    return policy().problems(password, confirmation, username=flow.data["username"],
                             names=names)


def _record(flow: flows.Flow) -> RegistryRecord | None:
    record_id = flow.data.get("record_id")
    return None if record_id is None else db.session().get(RegistryRecord, record_id)


def _institutional(email: str) -> bool:
    domain = email.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d)
               for d in current_app.config["INSTITUTION_DOMAINS"])


def _organization(language: str) -> str:
    config = current_app.config
    return config["ORGANIZATION_NAME_EL"] if language == "el" else config["ORGANIZATION_NAME_EN"]
