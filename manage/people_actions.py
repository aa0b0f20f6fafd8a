"""What the helpdesk and the office do for a person whose identity they verified, on the
person's page: lift the guessing block, remove a lost second factor (helpdesk), extend the
account on proof of membership (office). The same core functions as ``kleidi throttle
clear``, ``kleidi mfa remove`` and ``kleidi account extend``."""

from __future__ import annotations

from flask import redirect, url_for

from idp import db
from idp.errors import KleidiError
from idp.identity import extensions, helpdesk
from manage import access, forms
from manage.people import bp, find


def _done(account):
    db.session().commit()
    return redirect(url_for(".person", username=account.username), 303)


def _reason() -> str:
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    return form.reason.data


@bp.route("/<username>/guessing-block", methods=["POST"])
def lift_guessing_block(username: str):
    account = find(username)
    helpdesk.lift_guessing_block(account, actor=access.operator().actor, reason=_reason())
    return _done(account)


@bp.route("/<username>/second-factor", methods=["POST"])
def remove_second_factor(username: str):
    account = find(username)
    helpdesk.remove_second_factor(account, actor=access.operator().actor, reason=_reason())
    return _done(account)


@bp.route("/<username>/extend", methods=["POST"])
@access.requires("office")
def extend(username: str):
    account = find(username)
    form = forms.ExtendForm()
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    try:
        extensions.extend(account, until=form.until.data, evidence=form.evidence.data,
                          note=form.note.data, actor=access.operator().actor)
    except extensions.ExtensionRefused as refused:
        db.session().rollback()
        raise KleidiError(refused.code) from None
    return _done(account)
