"""The OpenID provider's signing keys and their rollover.

Keys live as private JWK files under KEYS_DIR (never in git), described by a
manifest ``oidc-keys.json``. For every algorithm (RS256, ES256) there is:

* one ``current`` key, the only one that signs;
* one ``next`` key, already published in the JWKS so relying parties have it
  cached before it starts signing;
* ``retired`` keys, still published until ``retire_at`` so that tokens signed
  before a rotation can still be verified, then dropped.

``rotate()`` promotes next -> current, current -> retired and creates a fresh
next key. Readers reload the manifest whenever the file is replaced, so
a rotation done by ``kleidi keys rotate`` reaches every worker without a
restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

from joserfc.jwk import ECKey, KeySet, RSAKey

MANIFEST = "oidc-keys.json"
ALGORITHMS = ("RS256", "ES256")


class MissingSigningKeys(RuntimeError):
    """Raised when no OIDC signing keys exist and they may not be created here."""


def _generate(alg: str):
    if alg == "RS256":
        key = RSAKey.generate_key(2048, private=True)
    elif alg == "ES256":
        key = ECKey.generate_key("P-256", private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {alg}")
    return key


def _write_private(path: Path, data: dict) -> None:
    # Created 0600 from the start: a private key must never be readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def _new_entry(keys_dir: Path, alg: str, state: str, now: datetime) -> dict:
    key = _generate(alg)
    kid = key.thumbprint()
    _write_private(keys_dir / f"oidc-{kid}.jwk", key.as_dict(private=True, kid=kid, alg=alg))
    return {"kid": kid, "alg": alg, "state": state, "created_at": now.isoformat()}


def _read_manifest(keys_dir: Path) -> list[dict]:
    path = keys_dir / MANIFEST
    if not path.exists():
        return []
    return json.loads(path.read_text())["keys"]


def _write_manifest(keys_dir: Path, entries: list[dict]) -> None:
    tmp = keys_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"keys": entries}, indent=2))
    os.replace(tmp, keys_dir / MANIFEST)  # atomic: readers never see half a manifest


def _prune(keys_dir: Path, entries: list[dict], now: datetime) -> list[dict]:
    kept = []
    for entry in entries:
        retire_at = entry.get("retire_at")
        if retire_at and datetime.fromisoformat(retire_at) <= now:
            (keys_dir / f"oidc-{entry['kid']}.jwk").unlink(missing_ok=True)
        else:
            kept.append(entry)
    return kept


@contextlib.contextmanager
def _locked(keys_dir: Path):
    """One writer at a time (several workers may start at once on an empty KEYS_DIR)."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    with open(keys_dir / (MANIFEST + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def initialise(keys_dir: str | os.PathLike, now: datetime) -> bool:
    """Create a current and a next key per algorithm if there are none; True if created."""
    keys_dir = Path(keys_dir)
    with _locked(keys_dir):
        return _initialise(keys_dir, now)


def _initialise(keys_dir: Path, now: datetime) -> bool:
    if _read_manifest(keys_dir):
        return False
    entries = []
    for alg in ALGORITHMS:
        entries.append(_new_entry(keys_dir, alg, "current", now))
        entries.append(_new_entry(keys_dir, alg, "next", now))
    _write_manifest(keys_dir, entries)
    return True


def rotate(keys_dir: str | os.PathLike, now: datetime, retain_seconds: int) -> list[dict]:
    """Promote next keys to signing, retire current ones for ``retain_seconds``.

    ``retain_seconds`` must cover the longest lifetime of anything signed with
    the key (ID tokens, plus the leeway relying parties allow).
    """
    keys_dir = Path(keys_dir)
    with _locked(keys_dir):
        if _initialise(keys_dir, now):
            return _read_manifest(keys_dir)
        return _rotate(keys_dir, now, retain_seconds)


def _rotate(keys_dir: Path, now: datetime, retain_seconds: int) -> list[dict]:
    entries = _prune(keys_dir, _read_manifest(keys_dir), now)
    retire_at = (now + timedelta(seconds=retain_seconds)).isoformat()
    for alg in ALGORITHMS:
        for entry in entries:
            if entry["alg"] != alg:
                continue
            if entry["state"] == "current":
                entry.update(state="retired", retire_at=retire_at)
            elif entry["state"] == "next":
                entry["state"] = "current"
        entries.append(_new_entry(keys_dir, alg, "next", now))
    _write_manifest(keys_dir, entries)
    return entries


class SigningKeys:
    """Read side of the key store, shared by the workers of one process.

    Reloads when the manifest file is replaced on disk (after a rotation).
    """

    def __init__(self, keys_dir: str | os.PathLike):
        self.keys_dir = Path(keys_dir)
        self._lock = threading.Lock()
        self._version = None
        self._entries: list[dict] = []
        self._keys: dict[str, object] = {}

    def _refresh(self) -> None:
        try:
            stat = (self.keys_dir / MANIFEST).stat()
        except FileNotFoundError as exc:
            raise MissingSigningKeys(
                f"No OIDC signing keys in {self.keys_dir}: run `kleidi keys rotate` once."
            ) from exc
        # Every write replaces the file, so a new inode tells even within one clock tick.
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if version == self._version:
            return
        with self._lock:
            entries = _read_manifest(self.keys_dir)
            keys = {}
            for entry in entries:
                data = json.loads((self.keys_dir / f"oidc-{entry['kid']}.jwk").read_text())
                keys[entry["kid"]] = KeySet.import_key_set({"keys": [data]}).keys[0]
            self._entries, self._keys, self._version = entries, keys, version

    def published(self, now: datetime) -> dict:
        """The public JWKS: current, next and not yet expired retired keys."""
        self._refresh()
        out = []
        for entry in self._entries:
            retire_at = entry.get("retire_at")
            if retire_at and datetime.fromisoformat(retire_at) <= now:
                continue
            key = self._keys[entry["kid"]]
            out.append(key.as_dict(private=False, kid=entry["kid"], alg=entry["alg"], use="sig"))
        return {"keys": out}

    def signing_key(self, alg: str):
        """The private key that signs with ``alg`` now (its ``kid`` is set)."""
        self._refresh()
        for entry in self._entries:
            if entry["alg"] == alg and entry["state"] == "current":
                return self._keys[entry["kid"]]
        raise MissingSigningKeys(f"no current {alg} key in {self.keys_dir}")

    def verification_keys(self, now: datetime) -> KeySet:
        """The key set our own signatures are checked with (e.g. id_token_hint)."""
        return KeySet.import_key_set(self.published(now))
