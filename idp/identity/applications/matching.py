"""The HR registry's record of an applicant, and what the office sees of it: the match, and
each detail where the application and the registry differ."""

from __future__ import annotations

import sqlalchemy as sa

from idp import db
from idp.credentials.password_policy import fold
from idp.identity.applications.models import Application
from idp.identity.models import RegistryRecord

#: Application field -> registry field, compared for the office.
COMPARED = {"given_name_el": "first_name_el", "family_name_el": "last_name_el",
            "given_name_en": "first_name_en", "family_name_en": "last_name_en",
            "father_name": "father_first_name_el", "role": "role", "email": "ext_email",
            "mobile": "mobile_phone", "amka": "ssn"}


def hr_record(application: Application) -> RegistryRecord | None:
    """The HR record of the applicant: the one with their AMKA, else the only one with their
    Greek names and father's name."""
    hr = sa.select(RegistryRecord).where(RegistryRecord.source_registry == "hr")
    if application.amka:
        found = db.session().scalars(hr.where(RegistryRecord.ssn == application.amka)).first()
        if found is not None:
            return found
    candidates = [record for record in db.session().scalars(
        hr.where(RegistryRecord.last_name_el == application.family_name_el.strip()))
        if _same(record.first_name_el, application.given_name_el)
        and _same(record.father_first_name_el, application.father_name)]
    return candidates[0] if len(candidates) == 1 else None


def _same(left: str | None, right: str | None) -> bool:
    return fold(left or "") == fold(right or "")


def comparison(application: Application) -> dict:
    """{"record": registration number or None, "differences": [field, ...]} for the office."""
    if application.registry_record_id is None:
        return {"record": None, "differences": []}
    record = db.session().get(RegistryRecord, application.registry_record_id)
    differences = [name for name, column in COMPARED.items()
                   if getattr(record, column) and getattr(application, name)
                   and not _same(str(getattr(record, column)), str(getattr(application, name)))]
    return {"record": record.registration_id, "differences": differences}
