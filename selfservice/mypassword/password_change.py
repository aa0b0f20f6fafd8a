"""Password change when signed in: the current password, then a new one under the policy.

Setting it moves the account's session epoch: every other session of the account ends (and,
through the epoch, the OIDC refresh tokens issued to them); this one stays signed in. A
notice goes to the registered contacts.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from idp import db, navigation
from idp.credentials import passwords, throttle
from idp.credentials.password_policy import policy
from idp.errors import CATALOGUE, KleidiError, define
from idp.identity import accounts
from selfservice.mypassword import bp, notices
from selfservice.mypassword.forms import PasswordChangeForm
from selfservice.mypassword.reauth import signed_in
from selfservice.passwords import show_problems

define("ACCT-002", 200, _l("Wrong current password"),
       _l("The current password you entered is not right. Nothing was changed."))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@signed_in
def change_password(account):
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if request.method == "POST" else 200)
    ip = request.remote_addr or "-"
    if throttle.wait_seconds(account.username, ip) > 0:
        raise KleidiError("LOGIN-002")
    if not passwords.verify(account.password_hash, form.current.data):
        throttle.failed(account.username, ip)
        return _page(form, error=CATALOGUE["ACCT-002"])
    throttle.succeeded(account.username, ip)
    person = account.person
    found = policy().problems(form.new.data, form.repeat.data, username=account.username, names=(
        person.given_name_el, person.family_name_el, person.given_name_en, person.family_name_en))
    if found:
        show_problems(form.new, form.repeat, found, policy())
        return _page(form, status=400)
    accounts.set_password(account, form.new.data)
    notices.send(account, "password_changed")
    db.session().commit()
    return render_template("mypassword/password_changed.html", next=_next())


def _next() -> str | None:
    """Where to continue afterwards (a login waiting for the change), if anywhere."""
    return navigation.local_path(request.args.get("next"), default="") or None


def _page(form, status=200, error=None):
    form.current.data = form.new.data = form.repeat.data = ""
    return render_template("mypassword/password_change.html", form=form, error=error,
                           policy=policy(), next=_next()), status
