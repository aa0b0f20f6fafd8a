"""Who is activating: matching what was typed against the registry, and the identifiers.

Nothing here says *why* a match failed to the person at the identify step: the caller shows
the same page either way, and only reveals a reason after the PIN has proved that the person
holds the registry's contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from stdnum.gr import amka as amka_number
from stdnum.gr import vat

from idp import db
from idp.identity import sync
from idp.identity.models import Account, Person, RegistryRecord
from idp.identity.roles import ROLES

#: A European Health Insurance Card's personal identification number: 20 digits.
EHIC = re.compile(r"\d{20}")
#: A foreign social security number: letters, digits, spaces, dots and dashes.
FOREIGN_SSN = re.compile(r"[A-Z0-9][A-Z0-9 .\-/]{3,39}")


@dataclass(frozen=True)
class Match:
    """The outcome of the identify step, kept in the flow (no personal data but the id)."""

    record_id: int | None
    channel: str
    tin_ok: bool

    @property
    def found(self) -> bool:
        return self.record_id is not None


def normalize_mobile(value: str) -> str | None:
    """E.164 form of a typed mobile, or None if it is not a valid mobile number."""
    try:
        number = phonenumbers.parse(value, current_app.config["PHONE_REGION"])
    except phonenumbers.NumberParseException:
        return None
    mobile = {phonenumbers.PhoneNumberType.MOBILE,
              phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in mobile:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def valid_tin(value: str, country: str) -> bool:
    return vat.is_valid(value) if country == "GR" else bool(re.fullmatch(r"[A-Z0-9]{4,20}", value))


def student_record(registration_id: str) -> RegistryRecord | None:
    """The student registry's record with this registration number, if it is a student's."""
    record = db.session().scalar(sa.select(RegistryRecord).where(
        RegistryRecord.source_registry == "students",
        RegistryRecord.registration_id == registration_id.strip(),
    ))
    if record is None or not ROLES.get(record.role) or not ROLES[record.role].student:
        return None
    return record


def staff_record(registration_id: str) -> RegistryRecord | None:
    """The HR registry's record with this registration number, if it is a staff role's."""
    record = db.session().scalar(sa.select(RegistryRecord).where(
        RegistryRecord.source_registry == "hr",
        RegistryRecord.registration_id == registration_id.strip(),
    ))
    if record is None or not ROLES.get(record.role) or ROLES[record.role].student:
        return None
    return record


#: The registry each activation role identifies against.
RECORD_FINDERS = {"student": student_record, "staff": staff_record}


def match(registration_id: str, *, mobile: str | None, email: str | None,
          tin: str | None, tin_country: str, role: str = "student") -> Match:
    """Compare typed data to the registry of ``role``. The contact must be the registry's
    own."""
    channel = "sms" if mobile else "email"
    record = RECORD_FINDERS[role](registration_id)
    if record is None:
        return Match(None, channel, False)
    if mobile and mobile != record.mobile_phone:
        return Match(None, channel, False)
    if email and (not record.ext_email or email.casefold() != record.ext_email.casefold()):
        return Match(None, channel, False)
    return Match(record.id, channel, tin_matches(record, tin, tin_country))


def tin_matches(record: RegistryRecord, tin: str | None, country: str) -> bool:
    """AFM is optional for students, but when the registry holds one it must match, with
    its country of issue."""
    if not record.tin:
        return True
    return tin == record.tin and country == (record.tin_country or "GR")


def recipient(record: RegistryRecord, channel: str) -> str:
    """Where the PIN goes: always the registry's own contact, never a typed one."""
    return record.mobile_phone if channel == "sms" else record.ext_email


def amka_problem(value: str, record: RegistryRecord) -> str | None:
    """Why a typed AMKA cannot be used ("invalid", "birth_date", "taken"), or None."""
    if not amka_number.is_valid(value):
        return "invalid"
    if record.birth_date and not _same_birthday(amka_number.get_birth_date(value),
                                                record.birth_date):
        return "birth_date"
    owner = db.session().scalar(sa.select(Person.id).where(Person.amka == value))
    if owner is not None and owner != record.person_id:
        return "taken"
    return None


def _same_birthday(encoded, known) -> bool:
    # An AMKA holds a two-digit year, so the century it implies may be wrong.
    return (encoded.day, encoded.month, encoded.year % 100) == (
        known.day, known.month, known.year % 100)


def valid_ehic(value: str) -> bool:
    return bool(EHIC.fullmatch(value))


def existing_person(record: RegistryRecord) -> Person | None:
    """The person this record belongs to, if already known: linked by the registry, by the
    AcademicID the feed carries, or the same AMKA as the registry states (a student who
    transferred keeps their AcademicID)."""
    return sync.person_of(record)


def active_account(person: Person | None, username: str) -> Account | None:
    """The person's active account with exactly this username, if any."""
    if person is None:
        return None
    return db.session().scalar(sa.select(Account).where(
        Account.person_id == person.id, Account.username == username,
        Account.status == "active",
    ))
