"""The password policy (NIST SP 800-63B, section 5.1.1.2).

A password is accepted when it is long enough (10 characters, 15 recommended), not absurdly
long, not in the shipped list of common and breached passwords, and does not contain the
username or the person's names. There are no composition rules ("one digit, one symbol"):
they make passwords harder to remember without making them harder to guess.

Lengths and comparisons use the NFKC form, which is also the form that is hashed
(:func:`idp.credentials.passwords.normalize`), so what is checked is what is stored.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.bloom"
MAGIC = b"KLBLOOM1"
HEADER = struct.Struct(">8sQIQ")  # magic, bits, hashes, entries
MIN_NAME_LENGTH = 3

#: Why a password was refused, in the words shown on the page.
PROBLEMS = {
    "too_short": _l("The password is too short: use at least %(min)s characters."),
    "too_long": _l("The password is too long: use at most %(max)s characters."),
    "common": _l("This password is in a list of common or leaked passwords. Choose another."),
    "username": _l("The password must not contain your username."),
    "name": _l("The password must not contain your name."),
    "mismatch": _l("The two passwords are not the same."),
}


class BloomFilter:
    """A set with no false negatives and a small, known rate of false positives.

    The bit positions of an entry are ``h1 + i * h2`` (Kirsch and Mitzenmacher's double
    hashing) from the two halves of the first 16 bytes of its SHA-256.
    """

    def __init__(self, bits: int, hashes: int, entries: int, array: bytearray | bytes):
        self.bits, self.hashes, self.entries, self.array = bits, hashes, entries, array

    @classmethod
    def empty(cls, bits: int, hashes: int, entries: int) -> BloomFilter:
        return cls(bits, hashes, entries, bytearray((bits + 7) // 8))

    @classmethod
    def from_bytes(cls, data: bytes) -> BloomFilter:
        magic, bits, hashes, entries = HEADER.unpack_from(data)
        if magic != MAGIC or len(data) != HEADER.size + (bits + 7) // 8:
            raise ValueError("not a Kleidi bloom filter")
        return cls(bits, hashes, entries, data[HEADER.size:])

    def to_bytes(self) -> bytes:
        return HEADER.pack(MAGIC, self.bits, self.hashes, self.entries) + bytes(self.array)

    def _positions(self, item: bytes):
        digest = hashlib.sha256(item).digest()
        first, second = struct.unpack_from(">QQ", digest)
        second |= 1
        return ((first + i * second) % self.bits for i in range(self.hashes))

    def add(self, item: bytes) -> None:
        for position in self._positions(item):
            self.array[position >> 3] |= 1 << (position & 7)

    def __contains__(self, item: bytes) -> bool:
        return all(self.array[p >> 3] & (1 << (p & 7)) for p in self._positions(item))


@lru_cache(maxsize=4)
def common_passwords(path: str = str(COMMON_PASSWORDS)) -> BloomFilter:
    """The shipped list, read once per process."""
    return BloomFilter.from_bytes(Path(path).read_bytes())


@dataclass(frozen=True)
class PasswordPolicy:
    """The limits of the policy; :func:`policy` builds it from the configuration."""

    min_length: int = 10
    recommended_length: int = 15
    max_length: int = 256
    blocklist: str = str(COMMON_PASSWORDS)

    def problems(self, password: str, confirmation: str | None = None, *,
                 username: str | None = None, names: tuple[str, ...] = ()) -> list[str]:
        """The reasons (keys of :data:`PROBLEMS`) to refuse ``password``; empty if none."""
        password = unicodedata.normalize("NFKC", password)
        if confirmation is not None and password != unicodedata.normalize("NFKC", confirmation):
            return ["mismatch"]
        if len(password) < self.min_length:
            return ["too_short"]
        if len(password) > self.max_length:
            return ["too_long"]
        found = []
        if self.is_common(password):
            found.append("common")
        folded = fold(password)
        if username and fold(username) in folded:
            found.append("username")
        if any(len(fold(name)) >= MIN_NAME_LENGTH and fold(name) in folded
               for part in names for name in part.split()):
            found.append("name")
        return found

    def is_common(self, password: str) -> bool:
        blocklist = common_passwords(self.blocklist)
        candidates = {password, password.lower()}
        return any(candidate.encode() in blocklist for candidate in candidates)

    def messages(self, problems: list[str]) -> list[str]:
        """The problems as sentences in the current language."""
        limits = {"min": self.min_length, "max": self.max_length}
        return [str(PROBLEMS[problem]) % limits for problem in problems]


def fold(text: str) -> str:
    """Compare without case or accents: "Παπαδόπουλος" is found in "ΠΑΠΑΔΟΠΟΥΛΟΣ2024!"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def policy() -> PasswordPolicy:
    """The configured policy (the defaults outside an application)."""
    if not has_app_context():
        return PasswordPolicy()
    config = current_app.config
    return PasswordPolicy(
        min_length=config["PASSWORD_MIN_LENGTH"],
        recommended_length=config["PASSWORD_RECOMMENDED_LENGTH"],
        max_length=config["PASSWORD_MAX_LENGTH"],
        blocklist=config["PASSWORD_BLOCKLIST"] or str(COMMON_PASSWORDS),
    )
