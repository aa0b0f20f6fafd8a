"""TOTP (RFC 6238) authenticators and single-use recovery codes.

The TOTP secret is encrypted at rest with AES-256-GCM under a key derived from the MFA key
(``MFA_SECRET_KEY``, kept in KEYS_DIR like the other secrets), with the account id as
associated data so a sealed secret cannot be moved to another account. Recovery codes are
stored as HMAC-SHA256 digests under another derived key. Neither secrets nor codes are ever
logged or audited.

A TOTP code is accepted within ``TOTP_VALID_WINDOW`` steps of now, once: the matching time
step is claimed in the store (atomic ``add``), and no step earlier than the last one used is
accepted, so a code seen over someone's shoulder cannot be replayed within its window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from idp import clock, db
from idp.identity.models import Account
from idp.mfa.models import RecoveryCode, TotpAuthenticator
from idp.store import store

STEP_SECONDS = 30
DIGITS = 6
#: Recovery code letters: no 0/o, 1/l/i to misread.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 12


def _derived(purpose: bytes) -> bytes:
    master = current_app.config["MFA_SECRET_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def seal(account_id: int, secret: str) -> str:
    """Encrypt a TOTP secret for storage, bound to its account."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_derived(b"kleidi totp secret")).encrypt(
        nonce, secret.encode(), str(account_id).encode())
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(account_id: int, sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.removeprefix("v1:"))
    return AESGCM(_derived(b"kleidi totp secret")).decrypt(
        raw[:12], raw[12:], str(account_id).encode()).decode()


def authenticator(account: Account, confirmed: bool = True) -> TotpAuthenticator | None:
    """The account's authenticator (only a confirmed one unless ``confirmed`` is False)."""
    row = db.session().scalar(
        sa.select(TotpAuthenticator).where(TotpAuthenticator.account_id == account.id))
    if row is None or (confirmed and row.confirmed_at is None):
        return None
    return row


def begin_enrolment(account: Account) -> str:
    """A new unconfirmed secret for ``account`` (replacing an unconfirmed one); returns it."""
    row = authenticator(account, confirmed=False)
    if row is not None and row.confirmed_at is not None:
        raise ValueError("the account already has a confirmed authenticator")
    secret = pyotp.random_base32(32)
    if row is None:
        row = TotpAuthenticator(account_id=account.id)
        db.session().add(row)
    row.secret_sealed = seal(account.id, secret)
    row.created_at = clock.now()
    return secret


def enrolment_secret(account: Account) -> str | None:
    """The secret of an enrolment in progress that has not yet expired."""
    row = authenticator(account, confirmed=False)
    if row is None or row.confirmed_at is not None:
        return None
    lifetime = timedelta(seconds=current_app.config["MFA_ENROLMENT_SECONDS"])
    if _aware(row.created_at) + lifetime <= clock.now():
        return None
    return unseal(account.id, row.secret_sealed)


def provisioning_uri(account: Account, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    issuer = current_app.config["TOTP_ISSUER"] or current_app.config["ORGANIZATION_NAME_EN"]
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account.eppn, issuer_name=issuer)


def was_reused(account: Account, code: str) -> bool:
    """True if ``code`` is a current code of the account whose time step was already used
    (a second login within the same 30 seconds), so the page can say to wait for the next."""
    row = authenticator(account)
    last = store().get(f"totp:last:{account.id}")
    code = (code or "").strip().replace(" ", "")
    if row is None or last is None or len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(unseal(account.id, row.secret_sealed), digits=DIGITS, interval=STEP_SECONDS)
    now_step, window = totp.timecode(clock.now()), current_app.config["TOTP_VALID_WINDOW"]
    return any(step <= last["step"] and hmac.compare_digest(totp.generate_otp(step), code)
               for step in range(now_step - window, now_step + window + 1))


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data URI, made here: the page needs no script."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def confirm(account: Account, code: str) -> list[str] | None:
    """Finish enrolment with a first code; returns fresh recovery codes, or None if wrong."""
    secret = enrolment_secret(account)
    if secret is None or not _claim_code(account, secret, code):
        return None
    row = authenticator(account, confirmed=False)
    row.confirmed_at = row.last_used_at = clock.now()
    return new_recovery_codes(account)


def verify(account: Account, code: str) -> bool:
    """True if ``code`` is a current TOTP code of the account not used before."""
    row = authenticator(account)
    if row is None or not _claim_code(account, unseal(account.id, row.secret_sealed), code):
        return False
    row.last_used_at = clock.now()
    return True


def _claim_code(account: Account, secret: str, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = totp.timecode(clock.now())
    window = current_app.config["TOTP_VALID_WINDOW"]
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return _claim_step(account, step, window)
    return False


def _claim_step(account: Account, step: int, window: int) -> bool:
    """Mark a time step used; False if it (or a later one) already was: a replay."""
    ttl = STEP_SECONDS * (2 * window + 2)
    last = store().get(f"totp:last:{account.id}")
    if last is not None and step <= last["step"]:
        return False
    if not store().add(f"totp:used:{account.id}:{step}", {}, ttl):
        return False
    store().put(f"totp:last:{account.id}", {"step": step}, ttl)
    return True


def _code_digest(account_id: int, code: str) -> str:
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    message = f"{account_id}\n{normal}".encode()
    return hmac.new(_derived(b"kleidi recovery code"), message, hashlib.sha256).hexdigest()


def new_recovery_codes(account: Account) -> list[str]:
    """Replace the account's recovery codes with ``RECOVERY_CODE_COUNT`` new ones."""
    db.session().execute(sa.delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = []
    for _ in range(current_app.config["RECOVERY_CODE_COUNT"]):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4)))
        db.session().add(RecoveryCode(account_id=account.id, digest=_code_digest(account.id, raw)))
    return codes


def use_recovery_code(account: Account, code: str) -> bool:
    """Spend one recovery code; True for exactly one caller with a valid unused code."""
    result = db.session().execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id,
               RecoveryCode.digest == _code_digest(account.id, code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now()))
    return result.rowcount == 1


def recovery_codes_left(account: Account) -> int:
    return db.session().scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)))


def remove(account: Account) -> None:
    """Remove the authenticator and every recovery code (the caller commits)."""
    db.session().execute(sa.delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    db.session().execute(
        sa.delete(TotpAuthenticator).where(TotpAuthenticator.account_id == account.id))


def _aware(moment):
    # SQLite hands back naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)
