"""Thin views of the portal: load, call the core, render."""

from __future__ import annotations

from functools import wraps

from flask import current_app, make_response, redirect, render_template, request, url_for

from idp import attributes, db, navigation, sessions
from idp.errors import CATALOGUE, KleidiError
from idp.relying_parties import kinds, registration
from selfservice.relying_parties import bp
from selfservice.relying_parties.forms import (
    ConfirmForm,
    OidcForm,
    OwnerForm,
    SamlForm,
    wanted_attributes,
)

FORMS = {"saml": SamlForm, "oidc": OidcForm}


def rp_admin(view):
    """Run ``view(account, ...)`` for a signed-in person allowed to register services."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        account = sessions.current_account()
        if account is None:
            navigation.remember_page(bp.url_prefix)
            return redirect(url_for("login.login"))
        if not registration.may_register(account):
            raise KleidiError("RP-007", account=account.id)
        return view(account, *args, **kwargs)

    return wrapper


@bp.get("")
@rp_admin
def index(account):
    return render_template("rp/index.html", services=registration.owned_by(account),
                           links=_idp_links())


@bp.route("/new/<kind>", methods=["GET", "POST"])
@rp_admin
def new(account, kind):
    if kind not in FORMS:
        raise KleidiError("GEN-001")
    form = FORMS[kind]()
    if form.validate_on_submit():
        try:
            rp, secret = registration.create(account, kind, _settings(form, kind),
                                             _wanted(kind), form.names(), form.contacts())
            if request.form.get("action") == "submit":
                registration.submit(rp, account)
        except kinds.Refused as refused:
            db.session().rollback()
            return _form(form, kind, None, refused), 400
        db.session().commit()
        if secret:
            return _secret_page(rp, secret)
        return redirect(url_for("rp.show", rp_id=rp.id), 303)
    return _form(form, kind, None, None), 400 if request.method == "POST" else 200


@bp.get("/<int:rp_id>")
@rp_admin
def show(account, rp_id):
    rp = registration.load_owned(rp_id, account)
    return render_template("rp/show.html", rp=rp, owners=registration.owners(rp),
                           owner_form=OwnerForm(), confirm=ConfirmForm(), links=_idp_links(),
                           labels=attributes.LABELS,
                           withdrawable=registration.may_withdraw(rp))


@bp.route("/<int:rp_id>/edit", methods=["GET", "POST"])
@rp_admin
def edit(account, rp_id):
    rp = registration.load_owned(rp_id, account)
    form = FORMS[rp.kind]()
    if form.validate_on_submit():
        try:
            secret = registration.edit(rp, account, _settings(form, rp.kind), _wanted(rp.kind),
                                       form.names(), form.contacts())
            if request.form.get("action") == "submit":
                registration.submit(rp, account)
        except kinds.Refused as refused:
            db.session().rollback()
            return _form(form, rp.kind, rp, refused), 400
        db.session().commit()
        if secret:
            return _secret_page(rp, secret)
        return redirect(url_for("rp.show", rp_id=rp.id), 303)
    if request.method == "GET":
        form.fill(rp.requested)
        if rp.kind == "oidc":
            form.fill_settings(rp.requested["settings"])
    return _form(form, rp.kind, rp, None), 400 if request.method == "POST" else 200


@bp.post("/<int:rp_id>/submit")
@rp_admin
def submit(account, rp_id):
    rp = registration.load_owned(rp_id, account)
    if ConfirmForm().validate_on_submit():
        registration.submit(rp, account)
        db.session().commit()
    return redirect(url_for("rp.show", rp_id=rp.id), 303)


@bp.post("/<int:rp_id>/owners")
@rp_admin
def add_owner(account, rp_id):
    rp = registration.load_owned(rp_id, account)
    form = OwnerForm()
    if form.validate_on_submit():
        registration.add_owner(rp, account, form.username.data)
        db.session().commit()
    return redirect(url_for("rp.show", rp_id=rp.id), 303)


@bp.route("/<int:rp_id>/withdraw", methods=["GET", "POST"])
@rp_admin
def withdraw(account, rp_id):
    """What withdrawing deletes, and a button to confirm (only for a never-approved RP)."""
    rp = registration.load_owned(rp_id, account)
    if not registration.may_withdraw(rp):
        raise KleidiError("RP-014", relying_party=rp.identifier, state=rp.state)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("rp/withdraw.html", rp=rp, confirm=form,
                               others=[o for o in registration.owners(rp) if o.id != account.id])
    gone = {"names": rp.requested["names"], "identifier": rp.identifier, "kind": rp.kind}
    registration.withdraw(rp, actor=account.username, account=account)
    db.session().commit()
    return render_template("rp/withdrawn.html", **gone)


def _secret_page(rp, secret: str):
    """The client's secret, this once: never kept by a browser's or a proxy's cache."""
    response = make_response(render_template("rp/secret.html", rp=rp, secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


def _settings(form, kind: str) -> dict:
    if kind == "saml":
        return form.settings(current_app.config["RP_METADATA_MAX_BYTES"])
    return form.settings()


def _wanted(kind: str) -> dict[str, str]:
    return wanted_attributes(request.form, kinds.of(kind).attributes())


def _form(form, kind: str, rp, refused):
    requested = (rp.requested["attributes"] if rp is not None and request.method == "GET"
                 else wanted_attributes(request.form, kinds.of(kind).attributes()))
    return render_template(
        f"rp/{kind}_form.html", form=form, rp=rp, kind=kind, requested=requested,
        known=kinds.of(kind).attributes(), labels=attributes.LABELS,
        error=CATALOGUE[refused.code] if refused else None,
        detail=refused.detail if refused else None)


def _idp_links() -> dict:
    base = current_app.config["BASE_URL"]
    return {"saml_metadata": f"{base}/saml/metadata",
            "oidc_discovery": f"{base}/.well-known/openid-configuration"}
