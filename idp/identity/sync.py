"""Registry sync that reaches people: every imported row reconciles the person, their
affiliation and their account.

A row linked to a known person (by an earlier activation, by the AcademicID the feed
carries, or by the same AMKA: a transfer keeps the AcademicID) corrects the person's names,
starts or ends the affiliation by the registry's status (``graduated`` ends a student
affiliation and starts ``alumnus``; a contract's end date becomes the affiliation's end),
disables the account of a suspended student, and recomputes the account's validity. Rows of
people who never activated stay registry rows: activation makes the person. Every change is
audited and counted by kind; nothing is committed here (the import commits or, dry, rolls
back).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from idp import audit, clock, db
from idp.audit import AuditEvent
from idp.identity import accounts, domains, lifecycle, validity
from idp.identity.models import Account, Affiliation, Person, RegistryRecord


@dataclass
class Changes:
    """Counts per change kind, and one line per change (what a dry run prints)."""

    counts: Counter = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)
    actor: str = "registry"

    def add(self, kind: str, record: RegistryRecord, person: Person | None, **detail) -> None:
        self.counts[kind] += 1
        self.lines.append(" ".join([kind, record.source_registry, record.registration_id,
                                    *(f"{k}={v}" for k, v in detail.items())]))
        audit.record(f"registry.{kind}", person=person, actor=self.actor,
                     registry=record.source_registry, registration=record.registration_id,
                     **detail)


class SafetyValve(RuntimeError):
    """A full import would end more of a registry's affiliations than allowed."""

    def __init__(self, ending: int, active: int, share: float):
        super().__init__(f"a full import would end {ending} of {active} active affiliations "
                         f"(more than {share:.0%}); check the feed, or use --force")
        self.ending, self.active = ending, active


def person_of(record: RegistryRecord) -> Person | None:
    """The person a registry row belongs to, if known."""
    if record.person_id is not None:
        return db.session().get(Person, record.person_id)
    if record.academic_id:
        found = person_by_academic_id(record.academic_id)
        if found is not None:
            return found
    if record.ssn and (record.ssn_country or "GR") == "GR":
        return db.session().scalar(sa.select(Person).where(Person.amka == record.ssn))
    return None


def person_by_academic_id(value: str) -> Person | None:
    """The person with this AcademicID, in any case: as relying parties had it before
    AcademicIDs were lower-cased (``released_academic_id``), or as it is now."""
    session = db.session()
    return session.scalar(sa.select(Person).where(Person.released_academic_id == value)) \
        or session.scalar(sa.select(Person).where(Person.academic_id == value.lower()))


def reconcile(record: RegistryRecord, changes: Changes) -> None:
    """Bring the person, affiliation and account of ``record`` in line with it."""
    person = person_of(record)
    if person is None:
        return
    if record.person_id is None:
        record.person_id = person.id
        changes.add("linked", record, person)
    _names(person, record, changes)
    started = _affiliation(person, record, changes)
    status = (record.enrollment_status or "").lower()
    suspended = status in current_app.config["REGISTRY_SUSPENDED_STATUSES"]
    for account in _personal_accounts(person):
        if suspended and accounts.disable(account, f"registry: {status}", changes.actor):
            changes.add("account_disabled", record, person, username=account.username)
        elif not suspended and _disabled_by_registry(account):
            accounts.enable(account, f"registry: {status or 'active'}", changes.actor)
            changes.add("account_enabled", record, person, username=account.username)
        validity.refresh(account)
        if started:
            domains.refresh(account, actor=changes.actor)
        if started and lifecycle.reinstate(account, actor=changes.actor, reason="registry"):
            changes.add("account_reinstated", record, person, username=account.username)


def _disabled_by_registry(account: Account) -> bool:
    """Disabled because a registry said suspended (not by the helpdesk, who enables it)."""
    if account.status != "disabled":
        return False
    last = db.session().scalar(sa.select(AuditEvent.detail).where(
        AuditEvent.account_id == account.id, AuditEvent.event == "account.disabled")
        .order_by(AuditEvent.id.desc()).limit(1))
    return bool(last) and str(last.get("reason", "")).startswith("registry: ")


def _names(person: Person, record: RegistryRecord, changes: Changes) -> None:
    wanted = {"given_name_el": record.first_name_el, "family_name_el": record.last_name_el,
              "given_name_en": record.first_name_en, "family_name_en": record.last_name_en}
    changed = {k: v for k, v in wanted.items() if v and getattr(person, k) != v}
    for name, value in changed.items():
        setattr(person, name, value)
    if changed:
        changes.add("name_corrected", record, person, fields=",".join(sorted(changed)))


def _affiliation(person: Person, record: RegistryRecord, changes: Changes) -> bool:
    """Start, change or end the row's affiliation; True if one started."""
    status = (record.enrollment_status or "active").lower()
    ended = status in current_app.config["REGISTRY_ENDED_STATUSES"]
    affiliation = db.session().scalar(sa.select(Affiliation).where(
        Affiliation.registry_record_id == record.id, Affiliation.role != "alumnus"))
    if affiliation is None:
        if ended:
            return False
        start(person, record, record.role, changes)
        return True
    _update(affiliation, record, changes)
    if ended and affiliation.status == "active":
        end(affiliation, record, changes, reason=status)
        if status == "graduated":
            start(person, record, "alumnus", changes)
    elif not ended and affiliation.status != "active":
        affiliation.status, affiliation.valid_through = "active", record.contract_end
        changes.add("affiliation_started", record, person, role=affiliation.role)
        return True
    return False


def _update(affiliation: Affiliation, record: RegistryRecord, changes: Changes) -> None:
    wanted = {"role": record.role, "department_id": record.department_id}
    if record.contract_end is not None or validity.policy(record.role)["rule"] == "contract":
        wanted["valid_through"] = record.contract_end
    changed = {k: v for k, v in wanted.items() if getattr(affiliation, k) != v}
    for name, value in changed.items():
        setattr(affiliation, name, value)
    if changed:
        changes.add("affiliation_changed", record, affiliation.person,
                    fields=",".join(sorted(changed)))


def start(person: Person, record: RegistryRecord, role: str, changes: Changes) -> None:
    """A new active affiliation of ``person`` from ``record`` (alumnus: at most one)."""
    if role == "alumnus" and db.session().scalar(sa.select(Affiliation.id).where(
            Affiliation.person_id == person.id, Affiliation.role == "alumnus",
            Affiliation.status == "active")):
        return
    db.session().add(Affiliation(
        person_id=person.id, role=role, department_id=record.department_id,
        registration_id=record.registration_id, source_registry=record.source_registry,
        registry_record_id=record.id, valid_from=clock.now().date(),
        valid_through=record.contract_end if role != "alumnus" else None, status="active"))
    db.session().flush()
    changes.add("alumni_started" if role == "alumnus" else "affiliation_started", record, person,
                role=role)


def end(affiliation: Affiliation, record: RegistryRecord, changes: Changes, *, reason: str,
        on: date | None = None) -> None:
    """End ``affiliation`` today (or ``on``)."""
    from idp.messaging import webhooks

    affiliation.status = "ended"
    affiliation.valid_through = on or clock.now().date()
    changes.add("affiliation_ended", record, affiliation.person, role=affiliation.role,
                reason=reason)
    for account in _personal_accounts(affiliation.person):
        webhooks.publish("affiliation.ended", account, role=affiliation.role, reason=reason)
        validity.refresh(account)


def end_missing(registry: str, seen: set[str], changes: Changes, *, force: bool) -> None:
    """A full feed is the whole truth: end the affiliations whose rows it lacks, unless that
    would end more than REGISTRY_FULL_MAX_ENDED_SHARE of them (then SafetyValve)."""
    rows = db.session().execute(
        sa.select(Affiliation, RegistryRecord)
        .join(RegistryRecord, RegistryRecord.id == Affiliation.registry_record_id)
        .where(Affiliation.source_registry == registry, Affiliation.status == "active",
               Affiliation.role != "alumnus")).all()
    missing = [(a, r) for a, r in rows if r.registration_id not in seen]
    share = current_app.config["REGISTRY_FULL_MAX_ENDED_SHARE"]
    if rows and len(missing) / len(rows) > share and not force:
        raise SafetyValve(len(missing), len(rows), share)
    for affiliation, record in missing:
        end(affiliation, record, changes, reason="missing")


def end_for_transfer(person: Person, record: RegistryRecord, changes: Changes) -> None:
    """A student who moved to ``record`` (another department) ends the student
    affiliations of their earlier registrations."""
    from idp.identity.roles import ROLES

    for affiliation in db.session().scalars(sa.select(Affiliation).where(
            Affiliation.person_id == person.id, Affiliation.status == "active",
            Affiliation.source_registry == record.source_registry,
            sa.or_(Affiliation.registry_record_id.is_(None),
                   Affiliation.registry_record_id != record.id))).all():
        if ROLES[affiliation.role].student:
            end(affiliation, record, changes, reason="transfer")


def _personal_accounts(person: Person) -> list[Account]:
    return list(db.session().scalars(sa.select(Account).where(
        Account.person_id == person.id, Account.kind == "personal")))
