"""Secrets and keys under KEYS_DIR: generated in development, required in production."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from idp.config import ConfigurationError

#: Secrets read from KEYS_DIR/<file> when not set in the configuration.
SECRET_FILES = {"SECRET_KEY": "secret_key", "PAIRWISE_SECRET": "pairwise_secret"}
#: Key pairs every deployment needs (the SAML signing key, its encryption key).
KEY_PAIRS = ("saml-signing", "saml-encryption")


def load_secrets(config: dict) -> None:
    """Fill SECRET_KEY and PAIRWISE_SECRET from KEYS_DIR, generating them in development."""
    keys_dir = Path(config["KEYS_DIR"])
    for name, filename in SECRET_FILES.items():
        if config.get(name):
            continue
        path = keys_dir / filename
        if not path.exists() and config["ENV"] != "production":
            _write_private(path, secrets.token_urlsafe(48).encode())
        if path.exists():
            config[name] = path.read_text().strip()


def ensure_dev_keys(keys_dir: str | Path, common_name: str = "kleidi-dev") -> list[Path]:
    """Create the missing key pairs (RSA-2048, self-signed for ten years); return what was made."""
    keys_dir = Path(keys_dir)
    made = []
    for name in KEY_PAIRS:
        key_path, cert_path = keys_dir / f"{name}.key", keys_dir / f"{name}.crt"
        if key_path.exists() and cert_path.exists():
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(key_path, key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
        cert_path.write_bytes(self_signed(key, f"{common_name} {name}"))
        made.append(key_path)
    return made


def self_signed(key: rsa.RSAPrivateKey, common_name: str, days: int = 3650) -> bytes:
    """A self-signed certificate (PEM) for ``key``: SAML metadata carries keys this way."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def check_keys(config: dict) -> None:
    """Refuse to start in production while a key pair is missing."""
    keys_dir = Path(config["KEYS_DIR"])
    missing = [
        str(keys_dir / f"{name}.{ext}")
        for name in KEY_PAIRS
        for ext in ("key", "crt")
        if not (keys_dir / f"{name}.{ext}").exists()
    ]
    if missing:
        raise ConfigurationError("missing key files: " + ", ".join(missing))


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
