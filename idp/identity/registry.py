"""Importing the student (SIS) and HR registries: validate every row, upsert the good ones.

The feed format is documented in ``docs/registry.md``. A bad row is reported with its line
and reason and does not stop the good rows; importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from stdnum.exceptions import ValidationError
from stdnum.gr import amka, vat

from idp import audit, db
from idp.identity import sync
from idp.identity.models import RegistryRecord
from idp.identity.roles import ENROLLMENT_TYPES, ROLES

#: Feed column -> RegistryRecord attribute.
COLUMNS = {
    "registrationID": "registration_id", "departmentID": "department_id",
    "firstNameEl": "first_name_el", "lastNameEl": "last_name_el",
    "firstNameEn": "first_name_en", "lastNameEn": "last_name_en",
    "fatherFirstNameEl": "father_first_name_el", "birthDate": "birth_date",
    "SSN": "ssn", "SSNCOUNTRY": "ssn_country", "TIN": "tin", "TINCOUNTRY": "tin_country",
    "extEmail": "ext_email", "mobilePhone": "mobile_phone",
    "enrollmentStatus": "enrollment_status", "enrollmentType": "enrollment_type",
    "inscriptionAcYear": "inscription_ac_year", "role": "role",
    "contractStart": "contract_start", "contractEnd": "contract_end",
    "academicID": "academic_id",
}
REGISTRIES = ("students", "hr")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")
_ACADEMIC_YEAR = re.compile(r"\d{4}-\d{4}")
_ACADEMIC_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class RowError(ValueError):
    """A row that cannot be imported; the message says why."""


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: What reached people: counts per change kind and one line per change.
    changes: sync.Changes = field(default_factory=sync.Changes)


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs from a CSV (header on line 1) or a JSON list of objects."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise RowError("a JSON registry file holds a list of objects")
        return [(number, row) for number, row in enumerate(rows, start=1)]
    reader = csv.DictReader(text.splitlines())
    return [(reader.line_num, row) for row in reader]


def parse_row(registry: str, row: dict) -> dict:
    """Validate one feed row; the RegistryRecord fields, or RowError."""
    if not isinstance(row, dict):
        raise RowError("not an object")
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise RowError(f"unknown columns: {', '.join(sorted(map(str, unknown)))}")
    raw = {COLUMNS[k]: (str(v).strip() if v is not None else "") for k, v in row.items()}
    record = {name: raw.get(name) or None for name in COLUMNS.values()}
    for name in ("first_name_el", "last_name_el", "first_name_en", "last_name_en",
                 "father_first_name_el"):
        record[name] = raw.get(name) or ""
    _require(record, "registration_id", "last_name_el", "first_name_el")
    if not _IDENTIFIER.fullmatch(record["registration_id"]):
        raise RowError("registrationID must be 1-40 letters, digits or dashes")
    record["role"] = _role(registry, record)
    for name in ("birth_date", "contract_start", "contract_end"):
        record[name] = _date(record[name], name)
    record["ssn"], record["ssn_country"] = _ssn(record["ssn"], record["ssn_country"])
    record["tin"], record["tin_country"] = _tin(record["tin"], record["tin_country"])
    record["mobile_phone"] = _mobile(record["mobile_phone"])
    record["ext_email"] = _email(record["ext_email"])
    if record["academic_id"] and not _ACADEMIC_ID.fullmatch(record["academic_id"]):
        raise RowError("academicID must be 1-64 letters and digits")
    year = record["inscription_ac_year"]
    if year and not _ACADEMIC_YEAR.fullmatch(year):
        raise RowError("inscriptionAcYear must look like 2024-2025")
    return record


def _require(record: dict, *names: str) -> None:
    missing = [column for column, name in COLUMNS.items() if name in names and not record[name]]
    if missing:
        raise RowError(f"missing {', '.join(missing)}")


def _role(registry: str, record: dict) -> str:
    if registry == "students":
        _require(record, "department_id", "enrollment_type")
        role = ENROLLMENT_TYPES.get(record["enrollment_type"].lower())
        if role is None:
            raise RowError(f"enrollmentType must be one of {', '.join(ENROLLMENT_TYPES)}")
        return role
    role = (record["role"] or "").lower()
    if role not in ROLES:
        raise RowError("role must be one of " + ", ".join(ROLES))
    return role


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise RowError(f"{name} is not a date (YYYY-MM-DD)")


def _ssn(value: str | None, country: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    country = (country or "GR").upper()
    if country == "GR":
        try:
            return amka.validate(value), "GR"
        except ValidationError as error:
            raise RowError(f"SSN is not a valid AMKA ({error})") from None
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise RowError("SSNCOUNTRY must be a two-letter country code")
    return value, country


def _tin(value: str | None, country: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    country = (country or "GR").upper()
    if country == "GR":
        try:
            return vat.validate(value), "GR"
        except ValidationError as error:
            raise RowError(f"TIN is not a valid AFM ({error})") from None
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise RowError("TINCOUNTRY must be a two-letter country code")
    return value, country


def normalize_mobile(value: str) -> str:
    """A mobile number in E.164, or RowError."""
    try:
        number = phonenumbers.parse(value, current_app.config["PHONE_REGION"])
    except phonenumbers.NumberParseException:
        raise RowError("mobilePhone is not a phone number") from None
    kind = phonenumbers.number_type(number)
    mobile_kinds = (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(number) or kind not in mobile_kinds:
        raise RowError("mobilePhone is not a valid mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile(value: str | None) -> str | None:
    return normalize_mobile(value) if value else None


def _email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise RowError(f"extEmail is not a valid address ({error})") from None


def import_rows(registry: str, rows: list[tuple[int, dict]], actor: str = "registry", *,
                full: bool = False, force: bool = False, dry_run: bool = False) -> Report:
    """Upsert the valid rows by (registry, registrationID) and reconcile the people they
    belong to (:mod:`idp.identity.sync`), in one transaction: committed, or rolled back when
    ``dry_run`` or when a ``full`` import trips the safety valve (sync.SafetyValve)."""
    if registry not in REGISTRIES:
        raise ValueError(f"registry must be one of {REGISTRIES}")
    report, seen = Report(changes=sync.Changes(actor=actor)), set()
    session = db.session()
    try:
        for line, row in rows:
            try:
                record = parse_row(registry, row)
                if record["registration_id"] in seen:
                    raise RowError("registrationID appears twice in this file")
            except RowError as error:
                report.errors.append((line, str(error)))
                continue
            seen.add(record["registration_id"])
            sync.reconcile(_upsert(session, registry, record, report), report.changes)
        if full:
            sync.end_missing(registry, seen, report.changes, force=force)
        audit.record("registry.import", actor=actor, registry=registry, created=report.created,
                     updated=report.updated, unchanged=report.unchanged,
                     rejected=len(report.errors), full=full, **report.changes.counts)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _upsert(session, registry: str, record: dict, report: Report) -> RegistryRecord:
    existing = session.scalar(sa.select(RegistryRecord).where(
        RegistryRecord.source_registry == registry,
        RegistryRecord.registration_id == record["registration_id"],
    ))
    if existing is None:
        existing = RegistryRecord(source_registry=registry, **record)
        session.add(existing)
        session.flush()
        report.created += 1
        return existing
    changed = {k: v for k, v in record.items() if getattr(existing, k) != v}
    if not changed:
        report.unchanged += 1
        return existing
    for name, value in changed.items():
        setattr(existing, name, value)
    report.updated += 1
    return existing
