"""The AcademicID and the identifiers derived from it.

A new AcademicID is random and opaque: 32 alphanumeric characters from a CSPRNG (about 190
bits), so it fits eduPersonUniqueId's unique part (at most 64 alphanumerics) and says nothing
about the person. Pairwise identifiers are keyed hashes of the AcademicID and the relying
party's sector: stable for the pair, unlinkable across sectors, irreversible without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string

from flask import current_app

ALPHABET = string.ascii_letters + string.digits
#: The unique part of subject-id and pairwise-id (OASIS SAML V2.0 Subject Identifier Attributes).
UNIQUE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9=-]{0,126}")


def new_academic_id(length: int | None = None) -> str:
    """A fresh AcademicID. Uniqueness is enforced by the database."""
    length = length or current_app.config["ACADEMIC_ID_LENGTH"]
    if not 1 <= length <= 64:
        raise ValueError("an AcademicID has 1 to 64 characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def pairwise_unique(academic_id: str, sector: str) -> str:
    """The pairwise value for one person and one sector: 52 characters of base32 (A-Z, 2-7)."""
    key = current_app.config["PAIRWISE_SECRET"].encode()
    digest = hmac.new(key, f"{sector}\n{academic_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")


def scoped(unique: str) -> str:
    """``<unique>@<scope>`` with the IdP's scope."""
    return f"{unique}@{current_app.config['SCOPE']}"
