"""The password policy (NIST SP 800-63B, section 5.1.1.2).

A password is accepted when it is long enough (10 characters, 15 recommended), not absurdly
long, not in the shipped list of common and breached passwords, not such a password (or a
common word) with digits, a year or symbols added before or after it ("Welcome2024!",
"kalimera2024"), not built on the institution's own words (its names, domains and the words
an operator lists: "KleidiUniversity2025!", "Example.edu2025!"), and does not contain the
username or the person's names. There are no composition rules ("one digit, one symbol"):
they make passwords harder to remember without making them harder to guess.

Lengths and comparisons use the NFKC form, which is also the form that is hashed
(:func:`idp.credentials.passwords.normalize`), so what is checked is what is stored.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.bloom"
MAGIC = b"KLBLOOM1"
HEADER = struct.Struct(">8sQIQ")  # magic, bits, hashes, entries
MIN_NAME_LENGTH = 3
#: A common word must have this many letters to be looked for inside an affixed password.
MIN_WORD_LENGTH = 4
#: What people add before or after a word to pass a check: digits, symbols, spaces.
AFFIX = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: At most this many digits added count as padding (a year, "123"); more may be a real secret.
MAX_PADDING_DIGITS = 4
#: Institution words this short only count once a longer one is present ("edu", "gr").
MIN_TRIGGER_LENGTH = 4
#: Greek letters in Latin ("greeklish", after ELOT 743), as people type the name without a
#: Greek keyboard.
GREEKLISH = str.maketrans({
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r",
    "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o"})

#: Why a password was refused, in the words shown on the page.
PROBLEMS = {
    "too_short": _l("The password is too short: use at least %(min)s characters."),
    "too_long": _l("The password is too long: use at most %(max)s characters."),
    "common": _l("This password is in a list of common or leaked passwords. Choose another."),
    "username": _l("The password must not contain your username."),
    "name": _l("The password must not contain your name."),
    "institution": _l("The password must not be built on the name or the web address of the "
                      "institution. Choose something of your own."),
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


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Short common passwords and words (zxcvbn's list of the 30,000 most used passwords,
    from 4 letters up: "iloveyou", "welcome", "kalimera"), the stems that people pad with a
    year or a symbol to reach the minimum length."""
    return frozenset(word for word in FREQUENCY_LISTS["passwords"] if len(word) >= MIN_WORD_LENGTH)


def institution_words(*texts: str) -> tuple[str, ...]:
    """The words of ``texts`` (names, domains, configured words) as the policy compares them:
    folded, letters only, with the Latin spelling of Greek ones; longest first."""
    words = set()
    for text in texts:
        for word in re.split(r"[\W\d_]+", fold(text)):
            if len(word) >= 2:
                words.update({word, word.translate(GREEKLISH)})
    return tuple(sorted(words, key=lambda word: (-len(word), word)))


@dataclass(frozen=True)
class PasswordPolicy:
    """The limits of the policy; :func:`policy` builds it from the configuration."""

    min_length: int = 10
    recommended_length: int = 15
    max_length: int = 256
    blocklist: str = str(COMMON_PASSWORDS)
    #: The institution's own words (see :func:`institution_words`).
    institution: tuple[str, ...] = ()

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
        if self.is_common(password) or self.is_padded_common(password):
            found.append("common")
        if self.is_institutional(password):
            found.append("institution")
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

    def is_padded_common(self, password: str) -> bool:
        """A common password or word with a few digits (a year) or symbols added before or
        after it."""
        stem = AFFIX.sub("", password)
        padding = sum(c.isdigit() for c in password) - sum(c.isdigit() for c in stem)
        if stem == password or len(stem) < MIN_WORD_LENGTH or padding > MAX_PADDING_DIGITS:
            return False
        folded = fold(stem)
        return folded in common_words() or self.is_common(stem) or stem.lower() in common_words()

    def is_institutional(self, password: str) -> bool:
        """Built on the institution's words: once its letters lose those words, what is left
        is too short to count or is itself a common word ("ilove" + "upatras")."""
        letters = "".join(c for c in fold(password) if c.isalpha())
        if not any(len(word) >= MIN_TRIGGER_LENGTH and word in letters
                   for word in self.institution):
            return False
        rest = letters
        for word in self.institution:
            rest = rest.replace(word, "")
        return len(rest) < MIN_WORD_LENGTH or rest in common_words()

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
        institution=_institution_words(
            config["ORGANIZATION_NAME_EL"], config["ORGANIZATION_NAME_EN"], config["SCOPE"],
            *config["INSTITUTION_DOMAINS"], *config["ROLE_DOMAINS"].values(),
            *config["PASSWORD_INSTITUTION_WORDS"]),
    )


@lru_cache(maxsize=8)
def _institution_words(*texts: str) -> tuple[str, ...]:
    return institution_words(*texts)
