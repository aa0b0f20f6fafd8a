"""An application as the office sees it (``kleidi applications show --json`` and the page
under /manage): the details, the HR registry's match or mismatch, the history, the checks."""

from __future__ import annotations

from idp.identity.applications import history, matching, office
from idp.identity.applications.models import Application


def _when(value) -> str | None:
    return value.isoformat() if value else None


def brief(application: Application) -> dict:
    """One line of the list."""
    return {"serial": application.serial, "status": application.status,
            "role": application.role, "name": f"{application.given_name_el} "
            f"{application.family_name_el}", "submitted": _when(application.created_at)}


def describe(application: Application) -> dict:
    """Everything the office needs about ``application``, JSON-ready."""
    account = office.account_of(application)
    return {
        **brief(application),
        "given_name_el": application.given_name_el, "family_name_el": application.family_name_el,
        "given_name_en": application.given_name_en, "family_name_en": application.family_name_en,
        "father_name": application.father_name, "unit": application.unit,
        "email": application.email, "mobile": application.mobile, "amka": application.amka,
        "document": {"kind": application.document_kind, "number": application.document_number},
        "contract": {"start": _when(application.contract_start),
                     "end": _when(application.contract_end),
                     "supervisor": application.supervisor},
        "language": application.language,
        "hr": matching.comparison(application),
        "evidence_required": office.required_evidence(application.role),
        "username": account.username if account else None,
        "eppn": account.eppn if account else None,
        "reason": application.reason,
        "history": [{"status": e.status, "at": _when(e.at), "actor": e.actor, "note": e.note}
                    for e in history.events(application)],
        "verifications": [{"document_kind": v.document_kind, "document_number": v.document_number,
                           "evidence": v.evidence, "actor": v.actor, "at": _when(v.at)}
                          for v in office.verifications(application)],
    }
