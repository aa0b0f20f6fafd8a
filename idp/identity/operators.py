"""Operators: ordinary accounts given a role in the operators' console.

Roles (``ROLES``): ``office`` (applications, identity verification, hand-over, corrections,
extensions), ``helpdesk`` (look-up, disable/enable, resend links), ``federation`` (relying
parties and release), ``admin`` (everything, and grants). ``admin`` implies every other
role. A grant or revocation is audited with who did it and why; the console and
``kleidi operator`` call the same functions.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.errors import define
from idp.identity.models import Account

ROLES = ("office", "helpdesk", "federation", "admin")
#: The role that implies every other one.
ADMIN = "admin"
LABELS = {
    "office": _l("Account office"),
    "helpdesk": _l("Helpdesk"),
    "federation": _l("Federation operators"),
    "admin": _l("Administrators"),
}

define("MANAGE-005", 400, _l("No such operator role"),
       _l("The role must be one of: office, helpdesk, federation, admin."))
define("MANAGE-006", 409, _l("Only active personal accounts can be operators"),
       _l("An operator role is given to the active personal account of a member of staff, "
          "never to a non-personal or inactive account."))


class OperatorRole(Base):
    """One role of one operator account; who granted it and when."""

    __tablename__ = "operator_role"

    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    granted_by: Mapped[str] = mapped_column(sa.String(60))

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES}", name="known"),)


class OperatorRefused(ValueError):
    """A grant that cannot be made; ``code`` is the error code (MANAGE-...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


_ROLES_OF = sa.select(OperatorRole.role).where(OperatorRole.account_id == sa.bindparam("account_id"))


def roles_of(account_id: int) -> list[str]:
    """The roles granted to the account, in ``ROLES`` order (empty: not an operator)."""
    held = {row.role for row in db.read(_ROLES_OF, account_id=account_id)}
    return [role for role in ROLES if role in held]


def has_role(roles: list[str], wanted: str) -> bool:
    """True if ``roles`` include ``wanted`` (or admin, which implies every role)."""
    return wanted in roles or ADMIN in roles


def grant(account: Account, role: str, *, actor: str, reason: str = "") -> bool:
    """Give ``account`` the operator role (the caller commits); False if it had it."""
    if role not in ROLES:
        raise OperatorRefused("MANAGE-005", f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if account.kind != "personal" or account.status != "active":
        raise OperatorRefused("MANAGE-006", "only an active personal account can be an operator")
    if db.session().get(OperatorRole, (account.id, role)) is not None:
        return False
    db.session().add(OperatorRole(account_id=account.id, role=role, granted_by=actor))
    audit.record("operator.granted", account=account, actor=actor, role=role, reason=reason)
    return True


def revoke(account: Account, role: str, *, actor: str, reason: str = "") -> bool:
    """Take the operator role from ``account`` (the caller commits); False if it had none."""
    if role not in ROLES:
        raise OperatorRefused("MANAGE-005", f"unknown role {role!r}: one of {', '.join(ROLES)}")
    row = db.session().get(OperatorRole, (account.id, role))
    if row is None:
        return False
    db.session().delete(row)
    audit.record("operator.revoked", account=account, actor=actor, role=role, reason=reason)
    return True


def listing() -> list[dict]:
    """Every operator: username, roles (``ROLES`` order), whether a second factor is set."""
    from idp import mfa

    rows = db.session().execute(
        sa.select(Account, OperatorRole.role).join(OperatorRole, OperatorRole.account_id == Account.id)
        .order_by(Account.username)).all()
    found: dict[str, dict] = {}
    for account, role in rows:
        entry = found.setdefault(account.username, {
            "username": account.username, "roles": [], "status": account.status,
            "second_factor": mfa.enrolled(account)})
        entry["roles"].append(role)
    for entry in found.values():
        entry["roles"] = [role for role in ROLES if role in entry["roles"]]
    return list(found.values())
