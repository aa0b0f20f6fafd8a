"""The second step of a login: a code from the authenticator app, or a recovery code.

Part of the one login (it completes what the login page began), kept apart from
:mod:`idp.mfa` so that self-service can use the second-factor core without the login views.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp import audit, clock, db, sessions
from idp.errors import CATALOGUE, KleidiError
from idp.identity.models import Account
from idp.login import interactions
from idp.mfa import MFA_AMR, PENDING, REFEDS_MFA, load_key, step_up, totp
from idp.store import store

bp = Blueprint("mfa", __name__)


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)])


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_step():
    if request.method == "GET" and PENDING not in session:
        return redirect(url_for("login.login"))
    pending, account = _pending()
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("mypassword/second_step.html", form=form, error=None)
    method = _check(account, form.code.data)
    if method is None:
        return _wrong(pending, account, form)
    session.pop(PENDING, None)
    sessions.login(account, amr=MFA_AMR, acr=REFEDS_MFA)
    audit.record("login.success", account=account, second_factor=method,
                 step_up=pending["step_up"])
    db.session().commit()
    return _resume(pending["iid"])


def _pending() -> tuple[dict, Account]:
    pending = session.get(PENDING)
    if not pending or pending["until"] <= clock.timestamp():
        session.pop(PENDING, None)
        raise KleidiError("MFA-001")
    account = db.session().get(Account, pending["account_id"])
    if account is None or account.status != "active" or (
            account.session_epoch != pending["epoch"]):
        session.pop(PENDING, None)
        raise KleidiError("MFA-001")
    blocked = store().get(f"mfa:blocked:{account.id}")
    if blocked is not None and blocked["until"] > clock.timestamp():
        raise KleidiError("MFA-003")
    return pending, account


def _check(account: Account, code: str) -> str | None:
    """Which factor ``code`` proved ("totp" or "recovery_code"), or None."""
    if totp.verify(account, code):
        return "totp"
    if len(code.strip()) > totp.DIGITS and totp.use_recovery_code(account, code):
        audit.record("mfa.recovery_code_used", account=account,
                     left=totp.recovery_codes_left(account))
        return "recovery_code"
    return None


def _wrong(pending: dict, account: Account, form: CodeForm):
    config = current_app.config
    window = config["MFA_FAILURE_WINDOW_SECONDS"]
    if store().incr(f"mfa:failures:{account.id}", window) >= config["MFA_FAILURES_PER_ACCOUNT"]:
        store().put(f"mfa:blocked:{account.id}", {"until": clock.timestamp() + window}, window)
    pending["failures"] += 1
    audit.record("login.second_factor_failure", account=account, actor="anonymous")
    db.session().commit()
    if pending["failures"] >= config["MFA_ATTEMPTS_PER_LOGIN"]:
        session.pop(PENDING, None)
        raise KleidiError("MFA-002")
    session[PENDING] = pending
    form.code.data = ""
    return render_template("mypassword/second_step.html", form=form,
                           error=CATALOGUE["MFA-004"]), 200


def _resume(iid: str | None):
    """303: the code's form is never posted again by a reload."""
    if not iid:
        return redirect(url_for("login.resume"), 303)
    interaction = interactions.load(iid)
    interaction["login_done"] = True
    interactions.save(interaction)
    return redirect(url_for("login.resume", iid=iid), 303)


def init_app(app: Flask) -> None:
    """The MFA key, the second-step page, the step-up post-login check, ``kleidi mfa``."""
    from idp.mfa.cli import mfa_group

    load_key(app.config)
    app.cli.add_command(mfa_group)
    app.register_blueprint(bp)
    interactions.register_check(app, step_up, 15)
