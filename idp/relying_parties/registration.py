"""What an RP admin does: register a service, edit it, submit it, add co-owners, withdraw
a registration that never served.

Every function changes the current transaction and writes its audit record; the caller
commits. Owners are told by email of what happens to their submission (:mod:`.notices`).
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from idp import attributes, audit, clock, db
from idp.errors import KleidiError
from idp.identity import accounts
from idp.identity.models import Account
from idp.relying_parties import codes, kinds, notices, states  # noqa: F401 (codes: defined)
from idp.relying_parties.models import RelyingParty, RelyingPartyOwner


def may_register(account: Account) -> bool:
    """Whether ``account`` may register services (RP_REGISTRATION_AFFILIATIONS)."""
    allowed = set(current_app.config["RP_REGISTRATION_AFFILIATIONS"])
    if account.status != "active":
        return False
    return bool(allowed & set(attributes.person_attributes(account).get("affiliation", [])))


def create(account: Account, kind: str, settings: dict, wanted: dict[str, str], names: dict,
           contacts: dict) -> tuple[RelyingParty, str | None]:
    """A new draft owned by ``account``; returns it and the client secret (shown only once)."""
    if not may_register(account):
        raise KleidiError("RP-007", account=account.id)
    checked = kinds.of(kind).check(settings, None)
    _refuse_taken(checked.identifier)
    now = clock.now()
    rp = RelyingParty(kind=kind, identifier=checked.identifier, state="draft", approved=None,
                      created_at=now, updated_at=now,
                      requested=_requested(kind, checked, wanted, names, contacts))
    secret = _new_secret(rp, checked)
    db.session().add(rp)
    db.session().flush()
    db.session().add(RelyingPartyOwner(relying_party_id=rp.id, account_id=account.id,
                                       added_at=now))
    audit.record("rp.registered", account=account, actor=account.username,
                 relying_party=rp.identifier, kind=kind)
    return rp, secret


def edit(rp: RelyingParty, account: Account, settings: dict, wanted: dict[str, str],
         names: dict, contacts: dict) -> str | None:
    """Replace what ``rp`` asks for; it goes back to draft (an approved version keeps
    working). Returns a new client secret if the edit is the first to need one."""
    checked = kinds.of(rp.kind).check(settings, rp.identifier)
    states.advance(rp, "draft")
    rp.requested = _requested(rp.kind, checked, wanted, names, contacts)
    rp.decision_reason, rp.updated_at = None, clock.now()
    secret = _new_secret(rp, checked)
    audit.record("rp.edited", account=account, actor=account.username,
                 relying_party=rp.identifier)
    return secret


def submit(rp: RelyingParty, account: Account) -> None:
    """Send the draft for review; the owners get a confirmation."""
    states.advance(rp, "submitted")
    rp.updated_at = clock.now()
    audit.record("rp.submitted", account=account, actor=account.username,
                 relying_party=rp.identifier)
    notices.tell_owners(rp, "submitted")


def add_owner(rp: RelyingParty, account: Account, username: str) -> Account:
    """Make the account ``username`` a co-owner (it must be allowed to register services)."""
    other = accounts.find_by_username((username or "").strip().lower())
    if other is None or not may_register(other):
        raise KleidiError("RP-009")
    if db.session().get(RelyingPartyOwner, (rp.id, other.id)) is None:
        db.session().add(RelyingPartyOwner(relying_party_id=rp.id, account_id=other.id,
                                           added_at=clock.now()))
        audit.record("rp.owner_added", account=account, actor=account.username,
                     relying_party=rp.identifier, owner=other.username)
    return other


#: The states of a registration that may never have served (see :func:`may_withdraw`).
UNSERVED_STATES = ("draft", "submitted", "rejected")


def may_withdraw(rp: RelyingParty) -> bool:
    """Whether ``rp`` never served: it was never approved, so nothing was ever published for
    it. An RP approved once keeps its approved version (and serves it) through any edit."""
    return rp.approved is None and rp.state in UNSERVED_STATES


def withdraw(rp: RelyingParty, *, actor: str, account: Account | None = None,
             reason: str = "") -> None:
    """Delete a registration that never served, with its owners' links and its client secret
    and keys, so that its entityID or client_id can be registered again.

    ``account`` is the owner who withdraws it (the other owners are told); None for an
    operator, who must give a ``reason`` (RP-015), told to every owner. RP-014 if the RP was
    ever approved: it is in use, and stopping it is ``kleidi sp remove`` / ``client remove``.
    Nothing is deleted until the caller commits, all of it at once.
    """
    db.session().refresh(rp, with_for_update=True)  # an approval at the same time waits
    if not may_withdraw(rp):
        raise KleidiError("RP-014", relying_party=rp.identifier, state=rp.state)
    reason = (reason or "").strip()
    if account is None and not reason:
        raise KleidiError("RP-015", relying_party=rp.identifier)
    audit.record("rp.withdrawn", account=account, actor=actor, relying_party=rp.identifier,
                 kind=rp.kind, state=rp.state, reason=reason)
    rp.decision_reason = reason or None
    notices.tell_owners(rp, "withdrawn", besides=account,
                        by=account.username if account is not None else None)
    db.session().execute(sa.delete(RelyingPartyOwner).where(
        RelyingPartyOwner.relying_party_id == rp.id))
    db.session().delete(rp)
    db.session().flush()  # the identifier is free for a registration in the same transaction


def owned_by(account: Account) -> list[RelyingParty]:
    return list(db.session().scalars(
        sa.select(RelyingParty).join(RelyingPartyOwner).where(
            RelyingPartyOwner.account_id == account.id).order_by(RelyingParty.id)))


def load_owned(rp_id: int, account: Account) -> RelyingParty:
    """The RP numbered ``rp_id`` if ``account`` owns it, else RP-008 (the same for both)."""
    rp = db.session().get(RelyingParty, rp_id)
    if rp is None or db.session().get(RelyingPartyOwner, (rp.id, account.id)) is None:
        raise KleidiError("RP-008", relying_party=rp_id)
    return rp


def owners(rp: RelyingParty) -> list[Account]:
    return list(db.session().scalars(
        sa.select(Account).join(RelyingPartyOwner, RelyingPartyOwner.account_id == Account.id)
        .where(RelyingPartyOwner.relying_party_id == rp.id).order_by(Account.username)))


def _requested(kind: str, checked: kinds.Checked, wanted: dict, names: dict,
               contacts: dict) -> dict:
    known = set(kinds.of(kind).attributes())
    wanted = {name: (reason or "").strip() for name, reason in wanted.items()}
    if set(wanted) - known:
        raise kinds.Refused("RP-006", f"unknown attributes: {', '.join(sorted(set(wanted) - known))}")
    names = {lang: (names.get(lang) or checked.names.get(lang) or "").strip() for lang in ("el", "en")}
    contacts = {role: _email(contacts.get(role) or checked.contacts.get(role))
                for role in ("technical", "security")}
    if not all(wanted.values()) or not all(names.values()) or not all(contacts.values()):
        raise kinds.Refused("RP-006", "names, contacts and a reason per attribute are required")
    return {"settings": checked.settings, "attributes": dict(sorted(wanted.items())),
            "names": names, "contacts": contacts}


def _email(value: str | None) -> str | None:
    value = (value or "").strip().removeprefix("mailto:")
    try:
        return validate_email(value, check_deliverability=False).normalized if value else None
    except EmailNotValidError:
        return None


def _refuse_taken(identifier: str) -> None:
    if db.session().scalar(sa.select(RelyingParty.id).where(
            RelyingParty.identifier == identifier)) is not None:
        raise kinds.Refused("RP-004", identifier)


def _new_secret(rp: RelyingParty, checked: kinds.Checked) -> str | None:
    if not checked.needs_secret or rp.secret_hash is not None:
        return None
    secret = secrets.token_urlsafe(32)
    rp.secret_hash = hashlib.sha256(secret.encode()).hexdigest()
    return secret
