"""The account page: what the IdP holds about the person and how to get it corrected, the
second factor, the relying parties they allowed (withdrawable) and recent sign-in activity."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp import attributes, consent, db, mfa
from idp.audit import AuditEvent
from selfservice.mypassword import bp
from selfservice.mypassword.forms import WithdrawForm
from selfservice.mypassword.reauth import signed_in

#: Events shown as sign-in activity, with their label.
ACTIVITY = {
    "login.success": _l("Successful sign-in"),
    "login.failure": _l("Failed sign-in (wrong password)"),
    "login.second_factor_failure": _l("Wrong code at the second step"),
    "password.set": _l("Password changed"),
    "password.reset": _l("Password reset with a PIN"),
    "mfa.enrolled": _l("Second factor added"),
    "mfa.removed": _l("Second factor removed"),
    "mfa.recovery_code_used": _l("Recovery code used"),
    "mfa.recovery_codes_replaced": _l("New recovery codes"),
    "contacts.changed": _l("Contact details changed"),
    "consent.withdrawn": _l("Consent withdrawn"),
    "logout": _l("Sign-out"),
}


def activity(account) -> list[dict]:
    """The latest security events of the account, newest first."""
    rows = db.session().scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.account_id == account.id, AuditEvent.event.in_(ACTIVITY))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(current_app.config["ACCOUNT_ACTIVITY_COUNT"]))
    return [{"at": row.at, "what": ACTIVITY[row.event], "ip": row.ip,
             "second_factor": (row.detail or {}).get("second_factor")} for row in rows]


def connected(account) -> list[dict]:
    """The relying parties the person agreed to release attributes to."""
    language = str(get_locale())
    return [{"relying_party": row.relying_party, "granted_at": row.granted_at,
             "name": consent.display_name(row.relying_party, language),
             "attributes": [attributes.LABELS.get(n, n) for n in row.attribute_names]}
            for row in consent.list_for(account)]


@bp.route("/account")
@signed_in
def account(account):
    from idp.mfa import totp

    return render_template(
        "mypassword/account.html", account=account, person=account.person,
        affiliations=account.person.affiliations, enrolled=mfa.enrolled(account),
        codes_left=totp.recovery_codes_left(account), connected=connected(account),
        activity=activity(account), form=WithdrawForm(),
    )


@bp.route("/account/consent/withdraw", methods=["POST"])
@signed_in
def withdraw(account):
    form = WithdrawForm()
    if form.validate_on_submit() and consent.withdraw(account, form.relying_party.data):
        db.session().commit()
    return redirect(url_for("mypassword.account") + "#services", 303)




def role_label(name: str):
    from idp.identity.roles import ROLES

    role = ROLES.get(name)
    return role.label if role else name
