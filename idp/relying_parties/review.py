"""What the operators (the ``federation`` role, or ``kleidi rp``) do with a submission.

The web pages and the CLI call these same functions; each writes its audit record with the
actor, the RP and the reason. The caller commits: publication is in the same transaction,
so an approval is either wholly in force or not at all.
"""

from __future__ import annotations

import sqlalchemy as sa

from idp import audit, clock, db
from idp.errors import KleidiError
from idp.relying_parties import codes, kinds, notices, states  # noqa: F401 (codes: defined)
from idp.relying_parties.models import KINDS, RelyingParty


def find(identifier_or_id: str | int) -> RelyingParty | None:
    """An RP by its number, entityID or client_id."""
    session = db.session()
    if str(identifier_or_id).isdigit():
        found = session.get(RelyingParty, int(identifier_or_id))
        if found is not None:
            return found
    return session.scalar(sa.select(RelyingParty).where(
        RelyingParty.identifier == str(identifier_or_id)))


def listed(state: str | None = None) -> list[RelyingParty]:
    query = sa.select(RelyingParty).order_by(RelyingParty.updated_at, RelyingParty.id)
    if state:
        query = query.where(RelyingParty.state == state)
    return list(db.session().scalars(query))


def approve(rp: RelyingParty, release, *, actor: str, reason: str = "") -> None:
    """Approve the submitted version with ``release`` (internal attribute names, all among
    those requested) and put it in force at once; the owners are told."""
    release = sorted(set(release))
    beyond = set(release) - set(rp.requested["attributes"])
    if beyond:
        raise KleidiError("RP-011", relying_party=rp.identifier, beyond=sorted(beyond))
    states.advance(rp, "approved")
    rp.approved = {"settings": rp.requested["settings"], "release": release,
                   "names": rp.requested["names"], "contacts": rp.requested["contacts"]}
    audit.record("rp.approved", actor=actor, relying_party=rp.identifier, release=release,
                 reason=reason)
    kinds.of(rp.kind).publish(rp.identifier, rp.approved, rp.secret_hash, actor=actor)
    states.advance(rp, "active")
    rp.decision_reason, rp.updated_at = reason or None, clock.now()
    notices.tell_owners(rp, "approved")


def reject(rp: RelyingParty, *, actor: str, reason: str) -> None:
    """Refuse the submitted version, saying why; an approved version stays in force."""
    if not (reason or "").strip():
        raise KleidiError("RP-012", relying_party=rp.identifier)
    states.advance(rp, "rejected")
    rp.decision_reason, rp.updated_at = reason.strip(), clock.now()
    audit.record("rp.rejected", actor=actor, relying_party=rp.identifier, reason=reason)
    notices.tell_owners(rp, "rejected")


def preview(rp: RelyingParty, account, release=None) -> dict[str, list[str]]:
    """What ``account`` would be sent under ``release`` (default: what the RP asked for)."""
    release = sorted(set(rp.requested["attributes"] if release is None else release))
    return kinds.of(rp.kind).preview(account, rp.identifier, {
        "settings": rp.requested["settings"], "release": release})


def served() -> list[tuple[str, str]]:
    """What an operator can remove: every (kind, identifier) the protocols serve from their
    registrations (portal, ``kleidi sp add``, ``kleidi client add``), by kind and identifier."""
    return [(kind, identifier) for kind in KINDS for identifier in kinds.of(kind).served()]


def remove(kind: str, identifier: str, *, actor: str, reason: str) -> None:
    """Stop serving an RP, however it was registered: it is forgotten, its sessions and
    tokens end and its portal owners are told why. RP-017 without a reason; RP-016 if there
    is nothing to remove (removed already, never registered, or a registration never approved:
    that one is withdrawn or rejected, and stays in review here)."""
    reason = (reason or "").strip()
    if not reason:
        raise KleidiError("RP-017", relying_party=identifier)
    rp = db.session().scalar(sa.select(RelyingParty).where(
        RelyingParty.identifier == identifier, RelyingParty.kind == kind))
    if rp is not None and rp.approved is None:  # (a JSON null in the table, not SQL NULL)
        rp = None
    known = kinds.of(kind).withdraw(identifier, actor=actor)
    if not known and rp is None:
        raise KleidiError("RP-016", relying_party=identifier, kind=kind)
    if rp is not None:
        rp.decision_reason = reason
        notices.tell_owners(rp, "removed")
        db.session().delete(rp)
    audit.record("rp.removed", actor=actor, relying_party=identifier, kind=kind,
                 reason=reason)
