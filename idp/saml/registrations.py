"""Changing the registered SPs and their release policies (the CLI now, admin pages later).

The caller commits. Every change bumps `updated_at`, which is what running processes watch.
"""

from __future__ import annotations

import sqlalchemy as sa

from idp import audit, clock, db
from idp.saml import providers, vocabulary
from idp.saml.models import ReleasePolicy, ServiceProvider

POLICY_FLAGS = ("allow_unsolicited", "sign_response", "sign_assertions", "encrypt_assertions",
                "require_signed_requests")


def add_metadata(xml: str, actor: str = "cli") -> list[str]:
    """Register (or replace) every SP in a metadata document; return their entityIDs."""
    found = providers.read_document(xml, "metadata")
    session, now = db.session(), clock.now()
    for entity in found:
        entity_id = entity.provider.entity_id
        row = session.get(ServiceProvider, entity_id)
        if row is None:
            row = ServiceProvider(entity_id=entity_id, added_at=now)
            session.add(row)
        row.metadata_xml, row.updated_at = entity.xml(), now
        audit.record("saml.sp_registered", actor=actor, relying_party=entity_id)
    return [entity.provider.entity_id for entity in found]


def registered() -> list[str]:
    """The entityIDs registered in the database (not those of files or federations)."""
    return list(db.session().scalars(
        sa.select(ServiceProvider.entity_id).order_by(ServiceProvider.entity_id)))


def remove(entity_id: str, actor: str = "cli") -> bool:
    """Forget a registered SP and its policy; True if there was one."""
    session = db.session()
    deleted = session.execute(sa.delete(ServiceProvider).where(
        ServiceProvider.entity_id == entity_id)).rowcount
    session.execute(sa.delete(ReleasePolicy).where(ReleasePolicy.entity_id == entity_id))
    if deleted:
        audit.record("saml.sp_removed", actor=actor, relying_party=entity_id)
    return bool(deleted)


def set_policy(entity_id: str, *, attributes=..., actor: str = "cli", **flags) -> ReleasePolicy:
    """Change what `entity_id` may receive. `attributes=None` means its category defaults."""
    if attributes is not ... and attributes is not None:
        unknown = set(attributes) - set(vocabulary.SAML_ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown attributes: {', '.join(sorted(unknown))}")
    session = db.session()
    row = session.get(ReleasePolicy, entity_id)
    if row is None:
        row = ReleasePolicy(entity_id=entity_id, attributes=None, allow_unsolicited=False,
                            sign_response=True, sign_assertions=True, encrypt_assertions=True,
                            require_signed_requests=False)
        session.add(row)
    if attributes is not ...:
        row.attributes = sorted(attributes) if attributes is not None else None
    for name, value in flags.items():
        if name not in POLICY_FLAGS:
            raise ValueError(f"unknown policy setting {name}")
        if value is not None:
            setattr(row, name, value)
    if not (row.sign_response or row.sign_assertions):
        raise ValueError("the Response or the Assertion must stay signed")
    row.updated_at = clock.now()
    audit.record("saml.policy_changed", actor=actor, relying_party=entity_id,
                 attributes=row.attributes, **{n: getattr(row, n) for n in POLICY_FLAGS})
    return row
