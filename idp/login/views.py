"""The login page, logout, consent and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from idp import attributes, audit, consent, db, i18n, mfa, navigation, sessions
from idp.credentials import devices, throttle
from idp.errors import CATALOGUE, KleidiError
from idp.identity import accounts
from idp.login import attempts, interactions
from idp.login.checks import account_usable

bp = Blueprint("login", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])
    i = HiddenField()


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    iid = request.values.get("i") or None
    interaction = interactions.load(iid) if iid else {}
    if request.method == "GET":
        if interaction and interactions.account_for(interaction):
            return redirect(url_for("login.resume", iid=iid))
        return _page(form, interaction)
    if not form.validate_on_submit():
        return _page(form, interaction), 400
    return _attempt(form, interaction)


def _attempt(form: LoginForm, interaction: dict):
    username = form.username.data
    attempt = throttle.begin_login(username, request.remote_addr or "-")
    if attempt.refusal is not None:
        return _refused(form, interaction, attempt.refusal)
    account = accounts.authenticate(username, form.password.data)
    if account is None:
        started = throttle.login_failed(attempt)
        known = accounts.find_by_username(username)
        audit.record("login.failure", actor="anonymous", account=known)
        if started:
            attempts.backoff_started(known)
        db.session().commit()
        return _page(form, interaction, error=CATALOGUE["LOGIN-001"])
    throttle.login_succeeded(attempt)
    account_usable(account, interaction)
    if account.language != str(get_locale()):
        account.language = str(get_locale())
    if mfa.enrolled(account):
        db.session().commit()
        return _known_browser(mfa.begin_second_step(account, interaction), username)
    sessions.login(account, amr=["pwd"])
    audit.record("login.success", account=account)
    db.session().commit()
    if interaction:
        interaction["login_done"] = True
        interactions.save(interaction)
        return _known_browser(redirect(url_for("login.resume", iid=interaction["id"])), username)
    return _known_browser(redirect(url_for("login.resume")), username)


def _refused(form: LoginForm, interaction: dict, refusal: throttle.Refusal):
    page = _page(form, interaction, error=CATALOGUE[refusal.code], wait=refusal.wait)
    headers = {"Retry-After": str(refusal.wait)} if refusal.wait else {}
    return page, CATALOGUE[refusal.code].status, headers


def _known_browser(response, username: str):
    """The browser proved the password: from now on it is known for this account (a 303,
    so that a reload never posts the form again)."""
    response.status_code = 303
    devices.remember(response, username)
    return response


def _page(form, interaction, error=None, wait=0):
    form.i.data = interaction.get("id", "")
    if request.method == "GET" and interaction.get("login_hint"):
        form.username.data = interaction["login_hint"]  # a protocol's hint (OIDC login_hint)
    if request.method == "POST":
        form.password.data = ""
    return render_template(
        "login/login.html", form=form, interaction=interaction, error=error, wait=wait,
        account=sessions.current_account(),
    )


@bp.route("/login/continue", defaults={"iid": None})
@bp.route("/login/continue/<iid>")
def resume(iid):
    """After login (or a detour through a self-service flow): run the checks, then resume."""
    interaction = interactions.load(iid) if iid else {}
    account = interactions.account_for(interaction) if interaction else sessions.current_account()
    if account is None:
        return interactions.redirect_to_login(iid) if iid else redirect(url_for("login.login"))
    diversion = interactions.run_checks(account, interaction)
    if diversion is not None:
        return diversion
    page = navigation.page_after_login()  # forgotten either way: it serves one login
    if interaction:
        return redirect(url_for(interaction["resume"], iid=iid))
    return redirect(page or url_for("login.signed_in"))


@bp.route("/")
def signed_in():
    """The home page: who is signed in, or the login form."""
    account = sessions.current_account()
    if account is None:
        return redirect(url_for("login.login"))
    return render_template("login/signed_in.html", account=account, form=ConfirmForm())


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    account = sessions.current_account()
    if request.method == "POST" and form.validate_on_submit():
        if account is not None:
            audit.record("logout", account=account)
            db.session().commit()
        propagation = interactions.protocol_logout()
        if propagation is not None:
            return propagation
        sessions.logout()
        return render_template("login/logged_out.html")
    if request.method == "POST":
        raise KleidiError("GEN-003")
    return render_template("login/logout.html", form=form, account=account)


@bp.route("/consent/<iid>", methods=["GET", "POST"], endpoint="consent")
def consent_page(iid):
    interaction = interactions.load(iid)
    account = interactions.account_for(interaction)
    if account is None:
        return interactions.redirect_to_login(iid)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("decision") == "accept":
            consent.grant(account, interaction["relying_party"], interaction["release"].keys())
            db.session().commit()
            return redirect(url_for("login.resume", iid=iid), 303)
        interaction["denied"] = True
        interactions.save(interaction)
        audit.record("consent.declined", account=account,
                     relying_party=interaction["relying_party"])
        db.session().commit()
        return redirect(url_for(interaction["resume"], iid=iid), 303)
    rows = [(attributes.LABELS.get(name, name), attributes.shown(name, values))
            for name, values in interaction["release"].items()]
    return render_template("login/consent.html", form=form, interaction=interaction, rows=rows)


@bp.route("/lang/<code>")
def language(code):
    """Switch language (a cookie), then go back to a page of this site."""
    response = redirect(navigation.local_path(request.args.get("next")))
    if code in i18n.LANGUAGES:
        i18n.remember(response, code)
    return response

