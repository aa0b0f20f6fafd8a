"""Second factor management: enrol a TOTP app (QR code and manual key, confirmed by a first
code), get recovery codes, remove it. Each change needs a recent login."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from idp import audit, db, mfa
from idp.errors import CATALOGUE
from idp.mfa import totp
from selfservice.mypassword import bp, notices
from selfservice.mypassword.forms import CodeForm, ConfirmForm
from selfservice.mypassword.reauth import recent_login, signed_in


@bp.route("/account/second-factor", methods=["GET", "POST"])
@signed_in
def second_factor(account):
    if request.method == "POST":
        return _begin()
    row = totp.authenticator(account)
    left = totp.recovery_codes_left(account) if row else 0
    return render_template("mypassword/second_factor.html", row=row, left=left,
                           form=ConfirmForm())


@recent_login
def _begin(account):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("mypassword.second_factor"))
    if not mfa.enrolled(account):
        totp.begin_enrolment(account)
        db.session().commit()
    return redirect(url_for("mypassword.second_factor_setup"))


@bp.route("/account/second-factor/setup", methods=["GET", "POST"])
@recent_login
def second_factor_setup(account):
    if mfa.enrolled(account):
        return redirect(url_for("mypassword.second_factor"))
    secret = totp.enrolment_secret(account)
    if secret is None:
        return redirect(url_for("mypassword.second_factor"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        codes = totp.confirm(account, form.code.data)
        if codes is not None:
            audit.record("mfa.enrolled", account=account)
            notices.send(account, "second_factor_added")
            db.session().commit()
            return render_template("mypassword/recovery_codes.html", codes=codes, new=True)
        error = CATALOGUE["MFA-004"]
    form.code.data = ""
    uri = totp.provisioning_uri(account, secret)
    key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("mypassword/second_factor_setup.html", form=form, error=error,
                           qr=totp.qr_data_uri(uri), key=key, uri=uri), 200


@bp.route("/account/second-factor/recovery-codes", methods=["GET", "POST"])
@recent_login
def recovery_codes(account):
    form = ConfirmForm()
    if not mfa.enrolled(account):
        return redirect(url_for("mypassword.second_factor"))
    if form.validate_on_submit():
        codes = totp.new_recovery_codes(account)
        audit.record("mfa.recovery_codes_replaced", account=account)
        db.session().commit()
        return render_template("mypassword/recovery_codes.html", codes=codes, new=False)
    return render_template("mypassword/recovery_codes_confirm.html", form=form)


@bp.route("/account/second-factor/remove", methods=["GET", "POST"])
@recent_login
def second_factor_remove(account):
    form = ConfirmForm()
    if not mfa.enrolled(account):
        return redirect(url_for("mypassword.second_factor"))
    if form.validate_on_submit():
        totp.remove(account)
        audit.record("mfa.removed", account=account)
        notices.send(account, "second_factor_removed")
        db.session().commit()
        return redirect(url_for("mypassword.second_factor"))
    return render_template("mypassword/second_factor_remove.html", form=form)
