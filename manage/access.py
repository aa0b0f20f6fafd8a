"""Who may use the console: the gate every request under /manage passes.

:func:`gate` runs before every request of the app. For any path under ``/manage`` (whatever
blueprint serves it) it requires, in order:

1. a signed-in session (else: the login page);
2. an account with at least one operator role (else ``MANAGE-001``);
3. a confirmed second factor (else the page that sends the operator to enrol,
   ``MANAGE-002``) used in this session (else the code is asked for now, a step-up);
4. the role the page needs (else ``MANAGE-003``): the view's own (:func:`requires`), else
   its blueprint's (given to :func:`manage.register`), else ``admin``: a page nobody gave a
   role is for administrators only.

Views read the acting operator with :func:`operator`.

An operator sent to log in or to enter the code comes back to the page they asked for
(:func:`idp.navigation.remember_page`: only a page opened with GET under ``/manage``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from idp import mfa, navigation, sessions
from idp.errors import CATALOGUE, KleidiError, define
from idp.identity import operators
from idp.identity.models import Account

PREFIX = "/manage"
#: A page any operator may see, whatever their role (the console's index).
ANY_ROLE = "*"

define("MANAGE-001", 403, _l("This page is for operators"),
       _l("The operators' console is open only to accounts that were given an operator role. "
          "If you need one, ask an administrator of the service."))
define("MANAGE-002", 403, _l("Set up a second factor first"),
       _l("The operators' console needs a second factor: a code from an authenticator app at "
          "every sign-in. Set one up on your account page, then come back."))
define("MANAGE-003", 403, _l("Your role does not allow this"),
       _l("This part of the console belongs to another operator role. If your work needs it, "
          "ask an administrator of the service."))


@dataclass(frozen=True)
class Operator:
    """The operator acting in this request: their account and roles."""

    account: Account
    roles: tuple[str, ...]

    @property
    def actor(self) -> str:
        """How the audit trail names this operator (``actor`` of ``idp.audit.record``)."""
        return f"operator:{self.account.username}"

    def has(self, role: str | tuple[str, ...]) -> bool:
        """True if the operator holds ``role`` (or one of the roles of a tuple)."""
        wanted = role if isinstance(role, tuple) else (role,)
        return ANY_ROLE in wanted or any(operators.has_role(list(self.roles), w) for w in wanted)


def requires(*roles: str):
    """Decorator: the view needs one of ``roles`` (instead of its blueprint's role)."""

    def mark(view):
        view.manage_role = roles
        return view

    return mark


def operator() -> Operator:
    """The operator of this request (set by :func:`gate`; only views under /manage have one)."""
    return g.manage_operator


def roles() -> tuple[str, ...]:
    """The operator roles of the signed-in account (none when signed out), read once per
    request: the gate and the home page's link to the console ask the same question. Never
    kept beyond the request, so that a revoked role is gone from the next page."""
    found = sessions.signed_in()
    if found is None:
        return ()
    known = g.get("manage_roles")
    if known is None or known[0] != found.id:  # another account signed in since
        known = g.manage_roles = (found.id, tuple(operators.roles_of(found.id)))
    return known[1]


def protected(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def required_role() -> str | tuple[str, ...]:
    """The role this request's view needs (see the module's docstring)."""
    view = current_app.view_functions.get(request.endpoint or "")
    role = getattr(view, "manage_role", None)
    if role is None and request.blueprint:
        role = current_app.extensions.get("kleidi.manage.roles", {}).get(request.blueprint)
    return role or operators.ADMIN


def gate():
    """``before_request``: let a request under /manage through only as described above."""
    if not protected(request.path):
        return None
    signed_in = sessions.signed_in()
    if signed_in is None:
        navigation.remember_page(PREFIX)
        return redirect(url_for("login.login"), 303)
    held = roles()
    if not held:
        raise KleidiError("MANAGE-001")
    account = sessions.current_account()
    if not mfa.enrolled(account):
        return render_template("manage/enrol_first.html", error=CATALOGUE["MANAGE-002"]), 403
    if mfa.achieved_acr(session) != mfa.REFEDS_MFA:
        navigation.remember_page(PREFIX)
        return mfa.begin_second_step(account, {}, step_up=True)
    found = Operator(account, held)
    if not found.has(required_role()):
        raise KleidiError("MANAGE-003")
    g.manage_operator = found
    return None
