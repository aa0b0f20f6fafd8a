"""Non-personal accounts: a mailbox or list address of a unit, a lab or a project, requested
by a member of staff, approved by the account office, and owned by the requester's personal
account (the owner sets its password from their own page).

A non-personal account has only the services ``NONPERSONAL_SERVICES`` (email and mailing
lists) and signs in to no relying party but those services' own.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.errors import define
from idp.identity import accounts, usernames
from idp.identity.models import Account, Affiliation

STATUSES = ("pending", "approved", "rejected")

define("MANAGE-008", 403, _l("A non-personal account cannot sign in here"),
       _l("Non-personal accounts are for email and mailing lists only; they cannot sign in to "
          "other services. Sign in with your personal account."))
define("MANAGE-009", 403, _l("Non-personal accounts are for faculty and heads of units"),
       _l("Your roles do not allow you to request a non-personal account. Ask the head of "
          "your unit to request it."))
define("MANAGE-010", 409, _l("This request was already decided"),
       _l("Someone approved or rejected this request already. Reload the list."))
define("MANAGE-011", 404, _l("No such non-personal account of yours"),
       _l("You do not own a non-personal account with this name."))


class NonPersonalRequest(Base):
    """A request for a non-personal account, and (once approved) the account it made."""

    __tablename__ = "nonpersonal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    purpose: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(sa.String(60))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"), unique=True)

    __table_args__ = (sa.CheckConstraint(f"status IN {STATUSES}", name="status"),)


class NonPersonalRefused(ValueError):
    """A request or decision that cannot be made; ``code`` is its error code, ``field`` the
    form field it concerns (None: the whole request)."""

    def __init__(self, code: str | None, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field


def may_request(owner: Account) -> bool:
    """True if ``owner`` (an active personal account) holds a role that may own one."""
    if owner.kind != "personal" or owner.status != "active":
        return False
    allowed = current_app.config["NONPERSONAL_OWNER_ROLES"]
    return db.session().scalar(sa.select(sa.func.count()).select_from(Affiliation).where(
        Affiliation.person_id == owner.person_id, Affiliation.status == "active",
        Affiliation.role.in_(allowed))) > 0


def _name_free(username: str) -> bool:
    pending = sa.select(sa.func.count()).select_from(NonPersonalRequest).where(
        NonPersonalRequest.username == username, NonPersonalRequest.status == "pending")
    return not usernames.taken(username) and db.session().scalar(pending) == 0


def request(owner: Account, username: str, purpose: str, *, actor: str = "user"):
    """File a request (the caller commits). NonPersonalRefused if the owner may not, or the
    name is malformed or taken (``field`` "username")."""
    if not may_request(owner):
        raise NonPersonalRefused("MANAGE-009", "the owner's roles do not allow it")
    username = username.strip().lower()
    if not re.fullmatch(current_app.config["NONPERSONAL_USERNAME_REGEX"], username):
        raise NonPersonalRefused(None, "malformed", field="username")
    if not _name_free(username):
        raise NonPersonalRefused(None, "taken", field="username")
    found = NonPersonalRequest(owner_account_id=owner.id, username=username,
                               purpose=" ".join(purpose.split()))
    db.session().add(found)
    db.session().flush()
    audit.record("nonpersonal.requested", account=owner, actor=actor, nonpersonal_request=found.id,
                 username=username)
    return found


def pending() -> list[NonPersonalRequest]:
    return list(db.session().scalars(sa.select(NonPersonalRequest).where(
        NonPersonalRequest.status == "pending").order_by(NonPersonalRequest.id)))


def _undecided(request_id: int) -> NonPersonalRequest:
    found = db.session().get(NonPersonalRequest, request_id)
    if found is None or found.status != "pending":
        raise NonPersonalRefused("MANAGE-010", "no pending request with this number")
    return found


def approve(request_id: int, *, actor: str, reason: str) -> Account:
    """Create the non-personal account of a pending request (the caller commits). It is
    active with no password: its owner sets one from their account page."""
    found = _undecided(request_id)
    owner = db.session().get(Account, found.owner_account_id)
    if usernames.taken(found.username):
        raise NonPersonalRefused("MANAGE-010", "the name was taken meanwhile")
    account = Account(person_id=owner.person_id, username=found.username, kind="nonpersonal",
                      domain=owner.domain, status="active", activated_at=clock.now())
    db.session().add(account)
    db.session().flush()
    _decide(found, "approved", actor, reason)
    found.account_id = account.id
    audit.record("nonpersonal.approved", account=account, actor=actor, reason=reason,
                 owner=owner.username)
    _tell_owner(owner, found)
    return account


def reject(request_id: int, *, actor: str, reason: str) -> NonPersonalRequest:
    found = _undecided(request_id)
    _decide(found, "rejected", actor, reason)
    owner = db.session().get(Account, found.owner_account_id)
    audit.record("nonpersonal.rejected", account=owner, actor=actor, reason=reason,
                 username=found.username)
    _tell_owner(owner, found)
    return found


def _tell_owner(owner: Account, found: NonPersonalRequest) -> None:
    """Email the decision to the owner's external address, in the language of their last
    sign-in (nothing if they registered no address: their page shows it too)."""
    from idp import messaging

    if not owner.external_email:
        return
    language = owner.language if owner.language in ("el", "en") else "el"
    config = current_app.config
    messaging.enqueue("email", owner.external_email, "nonpersonal_decision", language,
                      account_name=found.username, approved=found.status == "approved",
                      reason=found.reason or "", support=config["SUPPORT_EMAIL"],
                      organization=config[f"ORGANIZATION_NAME_{language.upper()}"])


def _decide(found: NonPersonalRequest, status: str, actor: str, reason: str) -> None:
    found.status, found.decided_at = status, clock.now()
    found.decided_by, found.reason = actor, reason


def owned_by(owner: Account) -> list[NonPersonalRequest]:
    """The owner's requests (with their accounts once approved), newest first."""
    return list(db.session().scalars(sa.select(NonPersonalRequest).where(
        NonPersonalRequest.owner_account_id == owner.id).order_by(NonPersonalRequest.id.desc())))


def owner_username(account) -> str | None:
    """The username of the personal account owning ``account`` (None: not non-personal)."""
    if account.kind != "nonpersonal":
        return None
    return db.session().scalar(sa.select(Account.username).join(
        NonPersonalRequest, NonPersonalRequest.owner_account_id == Account.id).where(
        NonPersonalRequest.account_id == account.id))


def owned_account(owner: Account, username: str) -> Account:
    """The owner's non-personal account ``username``; NonPersonalRefused (MANAGE-011) else."""
    account = db.session().scalar(sa.select(Account).join(
        NonPersonalRequest, NonPersonalRequest.account_id == Account.id).where(
        NonPersonalRequest.owner_account_id == owner.id, Account.username == username.lower()))
    if account is None:
        raise NonPersonalRefused("MANAGE-011", "not an account of this owner")
    return account


def set_password(owner: Account, account: Account, password: str) -> None:
    """The owner sets the non-personal account's password (policy checked by the caller)."""
    accounts.set_password(account, password, actor=f"owner:{owner.username}")


def services() -> list[str]:
    return list(current_app.config["NONPERSONAL_SERVICES"])


def refusal(account, relying_party: str | None) -> str | None:
    """The error code refusing a sign-in of a non-personal account to ``relying_party``
    (None: allowed). Only the relying parties of its services accept it."""
    if getattr(account, "kind", "personal") != "nonpersonal" or not relying_party:
        return None
    from idp.identity import services as catalogue

    return None if relying_party in catalogue.relying_parties(account) else "MANAGE-008"
