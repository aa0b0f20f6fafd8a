"""Where a new AcademicID comes from: the registry feed, the central issuer, or here.

An AcademicID the registry feed carries always wins. Otherwise ``ACADEMIC_ID_ISSUER`` decides:
``"local"`` issues a random one here (:func:`idp.identity.identifiers.new_academic_id`);
``"central"`` asks the issuer at ``ACADEMIC_ID_ISSUER_URL`` (as GUnet's academic-ID service
does for Greek institutions), so that a person who moves between institutions keeps one ID.
The issuer gets a JSON POST with the identifying data and answers ``{"academic_id": ...}``;
any other answer, or none within the timeout, is :class:`IssuerUnavailable` and nothing is
created.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request

from flask import current_app

from idp.identity import identifiers
from idp.identity.models import RegistryRecord

log = logging.getLogger(__name__)
_VALID = re.compile(r"[A-Za-z0-9]{1,64}")


class IssuerUnavailable(RuntimeError):
    """The central issuer did not give an AcademicID (down, slow, or a bad answer)."""


def check(config: dict) -> None:
    """Refuse to start with an issuer setting that cannot work."""
    from idp.config import ConfigurationError

    if config["ACADEMIC_ID_ISSUER"] not in ("local", "central"):
        raise ConfigurationError("KLEIDI_ACADEMIC_ID_ISSUER must be local or central")
    if config["ACADEMIC_ID_ISSUER"] == "central" and not config["ACADEMIC_ID_ISSUER_URL"]:
        raise ConfigurationError("a central AcademicID issuer needs KLEIDI_ACADEMIC_ID_ISSUER_URL")


def academic_id_for(record: RegistryRecord, identifier: dict | None = None) -> str:
    """The AcademicID for a new person of ``record`` (``identifier``: the AMKA or foreign
    number typed during activation, when the registry has none)."""
    if record.academic_id:
        return record.academic_id
    if current_app.config["ACADEMIC_ID_ISSUER"] == "local":
        return identifiers.new_academic_id()
    return ask_central(record, identifier or {})


def ask_central(record: RegistryRecord, identifier: dict) -> str:
    config = current_app.config
    amka = record.ssn if (record.ssn_country or "GR") == "GR" else None
    payload = {
        "institution": config["SCOPE"], "amka": amka or (
            identifier.get("value") if identifier.get("kind") == "amka" else None),
        "ssn": record.ssn if not amka else None, "ssn_country": record.ssn_country,
        "birth_date": record.birth_date.isoformat() if record.birth_date else None,
        "family_name": record.last_name_el, "given_name": record.first_name_el,
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if config["ACADEMIC_ID_ISSUER_AUTH"]:
        headers["Authorization"] = config["ACADEMIC_ID_ISSUER_AUTH"]
    request = urllib.request.Request(  # noqa: S310 - the configured issuer
        config["ACADEMIC_ID_ISSUER_URL"], method="POST", data=json.dumps(payload).encode(),
        headers=headers)
    try:
        with urllib.request.urlopen(  # noqa: S310 - the configured issuer
                request, timeout=config["ACADEMIC_ID_ISSUER_TIMEOUT_SECONDS"]) as response:
            value = json.loads(response.read(10_000)).get("academic_id", "")
    except (urllib.error.URLError, OSError, ValueError, AttributeError) as error:
        log.warning("AcademicID issuer unavailable", extra={"reason": type(error).__name__})
        raise IssuerUnavailable(type(error).__name__) from None
    if not isinstance(value, str) or not _VALID.fullmatch(value):
        log.warning("AcademicID issuer gave no valid ID")
        raise IssuerUnavailable("invalid answer")
    return value
