"""Re-authentication: sensitive changes need a login (or a password confirmation) at most
``REAUTH_SECONDS`` ago. An account with a second factor confirms with a code as well."""

from __future__ import annotations

from functools import wraps

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from idp import audit, clock, db, mfa, navigation, sessions
from idp.credentials import passwords, throttle
from idp.errors import CATALOGUE, KleidiError, define
from idp.mfa import totp
from selfservice.mypassword import bp
from selfservice.mypassword.forms import ReauthForm

define("ACCT-001", 200, _l("Wrong password or code"),
       _l("The password or the code from your authenticator app is not right. Try again."))


#: Where the account pages live: a signed-out person sent to log in comes back to one.
AREA = "/account"


def signed_in(view):
    """Run ``view(account, ...)`` for a signed-in person; others go to the login page, and
    back to the page they opened once they have logged in."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        account = sessions.current_account()
        if account is None:
            navigation.remember_page(AREA)
            return redirect(url_for("login.login"))
        return view(account, *args, **kwargs)

    return wrapper


def recent_login(view):
    """Like :func:`signed_in`, and the login must be recent (else confirm the password)."""

    @wraps(view)
    def wrapper(account, *args, **kwargs):
        if not recent():
            return ask(request.full_path if request.method == "GET" else request.path)
        return view(account, *args, **kwargs)

    return signed_in(wrapper)


def recent() -> bool:
    """True if this session logged in or confirmed the password within REAUTH_SECONDS."""
    last = max(session.get("auth_time", 0), session.get("reauth_at", 0))
    return clock.timestamp() - last <= current_app.config["REAUTH_SECONDS"]


def ask(here: str):
    """Send the person to confirm their password, then back to ``here``."""
    return redirect(url_for("mypassword.confirm", next=here))


def _safe(target: str | None) -> str:
    target = navigation.local_path(target, default="")
    return target if target.startswith("/account") else url_for("mypassword.account")


@bp.route("/account/confirm", methods=["GET", "POST"])
@signed_in
def confirm(account):
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = _safe(request.args.get("next"))
    if not form.validate_on_submit():
        return _page(form, account)
    ip = request.remote_addr or "-"
    if throttle.wait_seconds(account.username, ip) > 0:
        raise KleidiError("LOGIN-002")
    if not _proved(account, form):
        throttle.failed(account.username, ip)
        audit.record("reauth.failure", account=account)
        db.session().commit()
        return _page(form, account, error=CATALOGUE["ACCT-001"])
    throttle.succeeded(account.username, ip)
    session["reauth_at"] = clock.timestamp()
    audit.record("reauth.success", account=account)
    db.session().commit()
    return redirect(_safe(form.next.data))


def _proved(account, form: ReauthForm) -> bool:
    if not passwords.verify(account.password_hash, form.password.data):
        return False
    if not mfa.enrolled(account):
        return True
    code = form.code.data or ""
    return totp.verify(account, code) or (len(code.strip()) > totp.DIGITS
                                          and totp.use_recovery_code(account, code))


def _page(form, account, error=None):
    form.password.data = ""
    form.code.data = ""
    status = 400 if request.method == "POST" and error is None else 200
    return render_template("mypassword/confirm.html", form=form, error=error,
                           enrolled=mfa.enrolled(account)), status
