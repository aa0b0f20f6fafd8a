"""Usernames: issued by the system, never reused.

A student's username carries the registration: by default the 4-digit department code and
the 8-digit registration number (``151200012345``), so the registration number derives from
it. The pattern is configuration (STUDENT_USERNAME_PATTERN).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock, db
from idp.db import Base
from idp.identity.models import Account

_GREEK_TO_LATIN = str.maketrans({
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
})


class RetiredUsername(Base):
    """A username an account no longer carries (after a transfer); it is never issued again."""

    __tablename__ = "retired_username"

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    retired_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)


class UsernameError(ValueError):
    """The registry data cannot make a username under the configured pattern."""


def student_username(department_id: str, registration_id: str) -> str:
    """The username the pattern gives; UsernameError if the data does not fit it."""
    pattern = current_app.config["STUDENT_USERNAME_PATTERN"]
    if not (department_id.isdigit() and registration_id.isdigit()):
        raise UsernameError("department and registration number must be digits")
    name = pattern.format(department=int(department_id), registration=int(registration_id))
    if not re.fullmatch(current_app.config["STUDENT_USERNAME_REGEX"], name):
        raise UsernameError("department or registration number too long for the pattern")
    return name


def staff_username(given_name: str, family_name: str) -> str:
    """A new staff username from the Latin names under STAFF_USERNAME_PATTERN (by default
    the first initial and the family name), with a number added when taken."""
    config = current_app.config
    given, family = _latin(given_name), _latin(family_name)
    name = config["STAFF_USERNAME_PATTERN"].format(given=given, family=family,
                                                   given_initial=given[:1])
    base = name[:config["STAFF_USERNAME_MAX_LENGTH"]] or "user"
    candidate, number = base, 1
    while taken(candidate):
        number += 1
        candidate = f"{base}{number}"
    return candidate


def taken(username: str) -> bool:
    """True if any account, in any state, carries or ever carried this username (accounts
    are never deleted; a username retired after a transfer is kept)."""
    session = db.session()
    return session.scalar(
        sa.select(sa.func.count()).select_from(Account).where(Account.username == username)
    ) > 0 or session.get(RetiredUsername, username) is not None


def _latin(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).translate(_GREEK_TO_LATIN)
    return re.sub(r"[^a-z0-9]", "", plain)
