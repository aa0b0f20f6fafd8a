"""The AcademicID and the identifiers derived from it.

A new AcademicID is random and opaque: 32 characters of ``[a-z0-9]`` from a CSPRNG (about 165
bits), so it fits eduPersonUniqueId's unique part (at most 64 alphanumerics) and says nothing
about the person. Pairwise identifiers are keyed hashes of the AcademicID and the relying
party's sector: stable for the pair, unlinkable across sectors, irreversible without the key.

Everything is issued in one case, lower case: the subject identifier profile has relying
parties compare subject-id and pairwise-id (and so eduPersonUniqueId) case-insensitively, so
two values that differ only in case would be one person to some and two to others. The
database keeps AcademicIDs unique regardless of case.

People whose identifiers went out before that rule (mixed-case AcademicIDs, upper-case
pairwise values) keep them exactly: ``released`` is their AcademicID as relying parties know
it, and what derives from it is computed as it was then (see docs/identifiers.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string

from flask import current_app

ALPHABET = string.ascii_lowercase + string.digits
#: The unique part of subject-id and pairwise-id (OASIS SAML V2.0 Subject Identifier Attributes).
UNIQUE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9=-]{0,126}")


def new_academic_id(length: int | None = None) -> str:
    """A fresh AcademicID, lower case. Uniqueness (regardless of case) is the database's."""
    length = length or current_app.config["ACADEMIC_ID_LENGTH"]
    if not 1 <= length <= 64:
        raise ValueError("an AcademicID has 1 to 64 characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def shared_unique(academic_id: str, released: str | None = None) -> str:
    """The AcademicID as relying parties get it (subject-id, eduPersonUniqueId, schGrAcPersonID):
    the one already released, if any."""
    return released or academic_id


def pairwise_unique(academic_id: str, sector: str, released: str | None = None) -> str:
    """The pairwise value for one person and one sector: 52 characters of base32, lower case
    (a-z, 2-7); for a person with identifiers ``released`` before, the value they had: keyed
    by that AcademicID, in upper case."""
    key = current_app.config["PAIRWISE_SECRET"].encode()
    basis = released or academic_id
    digest = hmac.new(key, f"{sector}\n{basis}".encode(), hashlib.sha256).digest()
    value = base64.b32encode(digest).decode().rstrip("=")
    return value if released else value.lower()


def scoped(unique: str) -> str:
    """``<unique>@<scope>`` with the IdP's scope."""
    return f"{unique}@{current_app.config['SCOPE']}"
