"""Submitting an application: a serial number per year, a status secret by email, and the
HR registry's record of the applicant when it knows them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from idp import clock, db, errors
from idp.identity.applications import codewords, history, matching
from idp.identity.applications.models import SUBMITTED, Application, ApplicationCounter
from idp.store import store

SECRET_PURPOSE = "status"  # noqa: S105 - a hash purpose, not a secret
#: Fields an application is made of (what the form gathers).
FIELDS = ("role", "given_name_el", "family_name_el", "given_name_en", "family_name_en",
          "father_name", "unit", "email", "mobile", "amka", "document_kind", "document_number",
          "contract_start", "contract_end", "supervisor")


def submit(details: dict, *, language: str, ip: str | None) -> tuple[Application, str]:
    """Record a validated application and email its serial and secret; (application,
    secret). APPLY-014 past the per-address hourly limit."""
    config = current_app.config
    if ip and store().incr(f"apply:submit:{ip}", 3600) > config["APPLICATIONS_PER_IP_HOUR"]:
        raise errors.KleidiError("APPLY-014")
    if details["role"] not in config["APPLICATION_ROLES"]:
        raise ValueError(f"role {details['role']} is not one applied for")
    session = db.session()
    try:
        secret = codewords.new(4)
        application = Application(**{k: details.get(k) for k in FIELDS},
                                  serial=next_serial(clock.now().year), status=SUBMITTED,
                                  language=language, secret_digest=codewords.digest(
                                      SECRET_PURPOSE, secret))
        record = matching.hr_record(application)
        application.registry_record_id = record.id if record else None
        session.add(application)
        session.flush()
        history.transition(application, SUBMITTED, actor="applicant",
                           email={"secret": secret}, role=application.role,
                           hr_match=bool(record))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return application, secret


def next_serial(year: int) -> str:
    """The next serial number of ``year`` (``2026-000123``): the year's counter row is
    locked until the caller commits, so two applications never share one."""
    session = db.session()
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    session.execute(insert(ApplicationCounter).values(year=year, last=0)
                    .on_conflict_do_nothing(index_elements=["year"]))
    number = session.scalar(sa.update(ApplicationCounter).where(ApplicationCounter.year == year)
                            .values(last=ApplicationCounter.last + 1)
                            .returning(ApplicationCounter.last))
    return f"{year}-{number:06d}"
