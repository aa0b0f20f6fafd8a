"""Codes people copy from an email or a sheet of paper: the status secret and the hand-over
code. Random from the CSPRNG, in an alphabet without look-alikes (no 0/O, 1/I/L), in groups
of four; stored only as a keyed hash, compared by that hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def new(groups: int) -> str:
    """``groups`` groups of four characters (about 19.8 bits each), joined by dashes."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(groups))


def normalize(typed: str) -> str:
    """What was typed, without spaces, dashes or case: the form that is hashed."""
    return _NOT_CODE.sub("", (typed or "").upper())


def digest(purpose: str, code: str) -> str:
    """The keyed hash stored for ``code`` (bound to ``purpose``)."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"kleidi application codes",
                   hashlib.sha256).digest()
    return hmac.new(key, f"{purpose}\n{normalize(code)}".encode(), hashlib.sha256).hexdigest()


def same(stored: str, purpose: str, typed: str) -> bool:
    """Constant-time comparison of a typed code with a stored hash."""
    return hmac.compare_digest(stored, digest(purpose, typed))
