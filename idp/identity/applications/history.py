"""Each transition of an application, recorded three times in one transaction: in its
history (what the applicant's status page shows), in the audit trail (actor, subject,
reason, request id) and in an email to the applicant, in their language, via the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from idp import audit, db, messaging
from idp.identity.applications.models import Application, ApplicationEvent
from idp.identity.models import Account, Person


def events(application: Application) -> list[ApplicationEvent]:
    """The application's history, oldest first."""
    return list(db.session().scalars(sa.select(ApplicationEvent).where(
        ApplicationEvent.application_id == application.id).order_by(ApplicationEvent.id)))


def transition(application: Application, status: str, *, actor: str, note: str | None = None,
               email: dict | None = None, **detail) -> None:
    """Move ``application`` to ``status``: history, audit and (unless ``email`` is False-y
    and not a dict) the applicant's email, whose template is ``application_<status>``."""
    application.status = status
    db.session().add(ApplicationEvent(application_id=application.id, status=status,
                                      actor=actor, note=note))
    record(f"application.{status}", application, actor=actor, reason=note, **detail)
    if email is not None:
        notify(application, status, **email)


def record(event: str, application: Application, *, actor: str, reason: str | None = None,
           **detail) -> None:
    """An audit record about ``application`` (its person and account once known)."""
    session = db.session()
    account = session.get(Account, application.account_id) if application.account_id else None
    person = session.get(Person, application.person_id) if application.person_id else None
    audit.record(event, account=account, person=person, actor=actor, serial=application.serial,
                 reason=reason, **detail)


def notify(application: Application, name: str, **context) -> None:
    """Email ``application_<name>`` to the applicant, in their language."""
    config = current_app.config
    organization = (config["ORGANIZATION_NAME_EL"] if application.language == "el"
                    else config["ORGANIZATION_NAME_EN"])
    base = config["BASE_URL"].rstrip("/")
    messaging.enqueue("email", application.email, f"application_{name}", application.language,
                      serial=application.serial, organization=organization,
                      status_url=f"{base}/apply/status", application=application, **context)
