"""The applicant's view: an application found only by its serial number *and* its secret.

Nothing is said about a serial number without its secret (the same APPLY-001 whether or not
the serial exists, after the same work), and look-ups are limited per address and per serial.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from idp import db, errors
from idp.identity.applications import codewords
from idp.identity.applications.models import Application
from idp.identity.applications.submission import SECRET_PURPOSE
from idp.store import store

_NOBODY = "0" * 64


def look_up(serial: str, secret: str, ip: str | None) -> Application:
    """The application of ``serial`` if ``secret`` is its secret; APPLY-001 otherwise,
    APPLY-002 past a look-up limit."""
    config = current_app.config
    serial = (serial or "").strip()[:20]
    if ip and store().incr(f"apply:status:ip:{ip}", 3600) > \
            config["APPLICATION_STATUS_LOOKUPS_PER_IP_HOUR"]:
        raise errors.KleidiError("APPLY-002")
    key = f"apply:status:serial:{codewords.digest('serial', serial)[:32]}"
    if store().incr(key, 3600) > config["APPLICATION_STATUS_LOOKUPS_PER_SERIAL_HOUR"]:
        raise errors.KleidiError("APPLY-002")
    found = db.session().scalar(sa.select(Application).where(Application.serial == serial))
    stored = found.secret_digest if found is not None else _NOBODY
    if not codewords.same(stored, SECRET_PURPOSE, secret) or found is None:
        raise errors.KleidiError("APPLY-001")
    return found
