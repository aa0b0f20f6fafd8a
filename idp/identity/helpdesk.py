"""What the helpdesk sees and corrects: finding an account by username, name or
registration number, the overview of one account, and corrections of a person's names.

The console's pages (/manage/people) and ``kleidi account search|correct-names`` call these
functions; changes are audited with the operator, the reason and the old values.
"""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa

from idp import audit, db
from idp.audit import AuditEvent
from idp.identity import contacts, standing
from idp.identity.models import Account, Affiliation, Person

#: The person's names a correction may change.
NAME_FIELDS = ("given_name_el", "family_name_el", "given_name_en", "family_name_en")
SIGN_IN_EVENTS = ("login.success", "login.failure", "login.second_factor_failure")


def search(query: str, limit: int = 50) -> list[Account]:
    """Accounts whose username, names (Greek or Latin, any case) or registration number
    contain ``query``, personal accounts first, then by username."""
    text = " ".join(query.split())
    if len(text) < 2:
        return []
    plain = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")  # literal
    like = f"%{plain.lower()}%"
    # SQL's lower() folds Latin letters only (SQLite): Greek names are matched as typed, in
    # lower case and in title case (how registries write them), so "ΠΑΠΑΔΟΠΟΎΛΟΥ" finds them.
    greek = [f"%{form}%" for form in {plain, plain.lower(), plain.title()}]
    matches = [Account.username.like(like, escape="\\"), Person.id.in_(
        sa.select(Affiliation.person_id).where(Affiliation.registration_id == text))]
    for given, family in (("given_name_el", "family_name_el"), ("given_name_en", "family_name_en")):
        whole = getattr(Person, given) + " " + getattr(Person, family)
        matches += [sa.func.lower(whole).like(like, escape="\\"),
                    *(whole.like(form, escape="\\") for form in greek)]
    statement = (sa.select(Account).join(Person, Person.id == Account.person_id)
                 .where(sa.or_(*matches))
                 .order_by(Account.kind.desc(), Account.username).limit(limit))
    return list(db.session().scalars(statement))


def mask_email(value: str) -> str:
    """``m•••••@example.org``: enough to confirm with the person, not to write to them."""
    name, _, domain = value.partition("@")
    return f"{name[:1]}{'•' * max(3, len(name) - 1)}@{domain}"


def mask_mobile(value: str) -> str:
    """``+30 69•••••678``."""
    return f"{value[:5]}{'•' * max(3, len(value) - 8)}{value[-3:]}"


def masked_contacts(account: Account) -> list[dict]:
    return [{"channel": c.channel, "source": c.registry or c.source,
             "value": mask_email(c.value) if c.channel == "email" else mask_mobile(c.value)}
            for c in contacts.recovery_contacts(account)]


def events(account: Account, names: tuple[str, ...] | None = None, limit: int = 30) -> list[dict]:
    """The account's (and its person's) audit trail, newest first, without request ids."""
    statement = sa.select(AuditEvent).where(sa.or_(
        AuditEvent.account_id == account.id, AuditEvent.person_id == account.person_id))
    if names:
        statement = statement.where(AuditEvent.event.in_(names))
    rows = db.session().scalars(statement.order_by(AuditEvent.id.desc()).limit(limit))
    return [{"at": row.at, "event": row.event, "actor": row.actor, "ip": row.ip,
             "detail": {k: v for k, v in (row.detail or {}).items() if k != "request_id"}}
            for row in rows]


def overview(account: Account) -> dict:
    """Everything the helpdesk's page of one account shows (the audit trail aside)."""
    from idp.credentials import throttle
    from idp.identity import nonpersonal, operators

    person = account.person
    return {
        **standing.of(account),
        "eppn": account.eppn, "kind": account.kind,
        "names": {name: getattr(person, name) for name in NAME_FIELDS},
        "affiliations": [{"role": a.role, "department": a.department_id,
                          "registration": a.registration_id, "registry": a.source_registry,
                          "status": a.status,
                          "until": a.valid_through.isoformat() if a.valid_through else None}
                         for a in person.affiliations],
        "contacts": masked_contacts(account),
        "throttle": asdict(throttle.account_state(account.username)),
        "operator_roles": operators.roles_of(account.id),
        "owner": nonpersonal.owner_username(account),
    }


def correct_names(person: Person, names: dict[str, str], *, actor: str, reason: str,
                  account: Account | None = None) -> dict[str, tuple[str, str]]:
    """Set the person's names (after their identity was verified; the caller commits);
    returns {field: (old, new)} of what changed, kept in the audit record."""
    changed = {}
    for name, value in names.items():
        if name not in NAME_FIELDS:
            raise ValueError(f"not a name field: {name}")
        value = " ".join((value or "").split())
        if value and value != getattr(person, name):
            changed[name] = (getattr(person, name), value)
            setattr(person, name, value)
    if changed:
        audit.record("person.names_corrected", person=person, account=account, actor=actor,
                     reason=reason, old={k: old for k, (old, _new) in changed.items()},
                     new={k: new for k, (_old, new) in changed.items()})
    return changed


def lift_guessing_block(account: Account, *, actor: str, reason: str) -> int:
    """Forget the account's failures from unknown browsers (``kleidi throttle clear``), after
    the person's identity was verified; returns how many there were. Audited first."""
    from idp.credentials import throttle

    failures = throttle.account_state(account.username).failures
    audit.record("login.throttle_cleared", account=account, actor=actor, reason=reason,
                 failures=failures)
    db.session().flush()  # the audit row is written before the store changes
    throttle.forget_account(account.username)
    return failures


def remove_second_factor(account: Account, *, actor: str, reason: str) -> bool:
    """Remove a lost authenticator and its recovery codes (``kleidi mfa remove``), after the
    person's identity was verified (the caller commits); False if there was none."""
    from idp.mfa import totp

    if totp.authenticator(account, confirmed=False) is None:
        return False
    totp.remove(account)
    audit.record("mfa.removed", account=account, actor=actor, reason=reason)
    return True
