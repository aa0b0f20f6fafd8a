"""The helpdesk (/manage/people): find an account, see its page, disable or enable it with a
reason, and (the account office) correct a person's names after verifying their identity.

The same core functions as ``kleidi account search|show|disable|enable|correct-names``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp import db, mfa
from idp.errors import KleidiError
from idp.identity import accounts, helpdesk, roles
from manage import access, forms, register

bp = Blueprint("manage_people", __name__, url_prefix="/manage/people")

#: Words for stored values: account states, affiliation states, where a contact came from.
WORDS = {
    "active": _l("active"), "pending": _l("not activated"), "disabled": _l("disabled"),
    "expired": _l("expired"), "alumni": _l("alumni"), "ended": _l("ended"),
    "account": _l("given by the person"), "students": _l("student registry"),
    "hr": _l("HR registry"),
}


def word(value):
    return WORDS.get(value, value)


@bp.route("")
@access.requires("helpdesk", "office")
def index():
    form = forms.SearchForm(request.args)
    found = helpdesk.search(form.q.data) if form.q.data and form.validate() else None
    return render_template("manage/people/search.html", form=form, found=found, word=word)


def find(username: str):
    """The account named in the URL, or the coded not-found page."""
    account = accounts.find_by_username(username)
    if account is None:
        raise KleidiError("MANAGE-004")
    return account


@bp.route("/<username>")
@access.requires("helpdesk", "office")
def person(username: str):
    account = find(username)
    panels = [(template, load(account))
              for template, load in current_app.extensions.get("kleidi.manage.person_panels", [])]
    return render_template(
        "manage/people/person.html", account=account, data=helpdesk.overview(account),
        trail=helpdesk.events(account), sign_ins=helpdesk.events(
            account, helpdesk.SIGN_IN_EVENTS, limit=10),
        role_label=lambda name: roles.ROLES[name].label if name in roles.ROLES else name,
        form=forms.ReasonForm(), names=forms.NamesForm(obj=account.person, prefix="names"), panels=panels,
        word=word, extend=forms.ExtendForm(), second_factor=mfa.enrolled(account))


def _switch(username: str, change) -> object:
    account = find(username)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    change(account, form.reason.data, actor=access.operator().actor)
    db.session().commit()
    return redirect(url_for(".person", username=account.username), 303)


@bp.route("/<username>/disable", methods=["POST"])
def disable(username: str):
    """Disable now: sign-in refused, every session and OIDC refresh token ended."""
    return _switch(username, accounts.disable)


@bp.route("/<username>/enable", methods=["POST"])
def enable(username: str):
    return _switch(username, accounts.enable)


@bp.route("/<username>/names", methods=["POST"])
@access.requires("office")
def correct_names(username: str):
    """Correct the person's names after the office verified their identity document."""
    account = find(username)
    form = forms.NamesForm(prefix="names")
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    values = {name: getattr(form, name).data for name in helpdesk.NAME_FIELDS}
    helpdesk.correct_names(account.person, values, actor=access.operator().actor,
                           reason=form.reason.data, account=account)
    db.session().commit()
    return redirect(url_for(".person", username=account.username), 303)


def add_panel(app: Flask, template: str, load) -> None:
    """Show ``template`` on every person's page, with ``data = load(account)`` (another
    area's part of the page, e.g. the person's applications)."""
    app.extensions.setdefault("kleidi.manage.person_panels", []).append((template, load))


def init_app(app: Flask) -> None:
    from manage import people_actions  # noqa: F401  (its routes join the blueprint)

    register(app, bp, role="helpdesk", label=_l("Helpdesk"),
             description=_l("find a person, see their account, disable or enable it"), order=20)
