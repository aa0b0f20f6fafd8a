"""The SAML signing key's rollover: the next certificate is published before it signs.

Under KEYS_DIR, beside the signing pair in use (``saml-signing.key``/``.crt``):

* ``saml-signing-next.*``: staged (``kleidi keys saml stage``). Its certificate is in the
  IdP's metadata at once, so SPs and federations have it before anything is signed with it;
* ``saml-signing-previous.*``: the pair that signed until the last activation, still
  published until ``kleidi keys saml retire`` (an SP that only just fetched the metadata
  still verifies what was signed shortly before).

``activate`` makes the next pair the one in use, at least SAML_KEY_ROLLOVER_NOTICE_SECONDS
after it was staged. Every worker notices the new files without a restart (the signer and
the metadata are rebuilt when the key files change).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from idp import keys

MANIFEST = "saml-signing.json"
ROLES = ("current", "next", "previous")
SUFFIX = {"current": "", "next": "-next", "previous": "-previous"}


class RolloverRefused(RuntimeError):
    """The step cannot be taken now; the message says why and what to do."""


def path(keys_dir, role: str, extension: str) -> Path:
    return Path(keys_dir) / f"saml-signing{SUFFIX[role]}.{extension}"


def published(keys_dir) -> list[Path]:
    """The signing certificates the metadata lists: in use, staged, previous (those that exist)."""
    return [p for p in (path(keys_dir, role, "crt") for role in ROLES) if p.exists()]


def version(keys_dir) -> tuple:
    """Changes whenever a published certificate does (for caches of the metadata)."""
    return tuple(p.stat().st_mtime_ns if p.exists() else 0
                 for p in (path(keys_dir, role, "crt") for role in ROLES))


def status(keys_dir) -> dict:
    """Each role's certificate (or None) and when the staged one was staged."""
    manifest = _manifest(keys_dir)
    return {role: str(path(keys_dir, role, "crt")) if path(keys_dir, role, "crt").exists()
            else None for role in ROLES} | {"staged_at": manifest.get("staged_at")}


def stage(keys_dir, now: datetime, common_name: str) -> Path:
    """Create the next pair (RSA-3072) and publish its certificate; refused if one is staged."""
    if path(keys_dir, "next", "key").exists():
        raise RolloverRefused("a next key is already staged: activate it first")
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    keys._write_private(path(keys_dir, "next", "key"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path(keys_dir, "next", "crt").write_bytes(keys.self_signed(key, f"{common_name} saml-signing"))
    _write_manifest(keys_dir, {"staged_at": now.isoformat()})
    return path(keys_dir, "next", "crt")


def activate(keys_dir, now: datetime, notice_seconds: int, *, force: bool = False) -> None:
    """The staged pair signs from now on; the one it replaces stays published as previous."""
    if not path(keys_dir, "next", "key").exists():
        raise RolloverRefused("no next key is staged: run `kleidi keys saml stage` first")
    staged_at = datetime.fromisoformat(_manifest(keys_dir).get("staged_at") or now.isoformat())
    ready_at = staged_at + timedelta(seconds=notice_seconds)
    if now < ready_at and not force:
        raise RolloverRefused(f"the next certificate is published since {staged_at.isoformat()}; "
                              f"it may sign from {ready_at.isoformat()} (or use --force)")
    for extension in ("key", "crt"):
        os.replace(path(keys_dir, "current", extension), path(keys_dir, "previous", extension))
    for extension in ("crt", "key"):  # the key last: a reader never pairs a new key, old cert
        target = path(keys_dir, "current", extension)
        os.replace(path(keys_dir, "next", extension), target)
        os.utime(target)  # a new mtime, which the signer's and the metadata's caches watch
    _write_manifest(keys_dir, {"activated_at": now.isoformat()})


def retire(keys_dir) -> bool:
    """Stop publishing the previous certificate and delete its pair; True if there was one."""
    found = path(keys_dir, "previous", "crt").exists()
    for extension in ("crt", "key"):
        path(keys_dir, "previous", extension).unlink(missing_ok=True)
    return found


def _manifest(keys_dir) -> dict:
    manifest = Path(keys_dir) / MANIFEST
    return json.loads(manifest.read_text()) if manifest.exists() else {}


def _write_manifest(keys_dir, data: dict) -> None:
    tmp = Path(keys_dir) / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, Path(keys_dir) / MANIFEST)
