"""A client's public keys published at its ``jwks_uri`` (private_key_jwt), fetched when
needed and kept OIDC_JWKS_URI_CACHE_SECONDS in this process."""

from __future__ import annotations

import json
import logging
import time
import urllib.request

from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)
MAX_BYTES = 100_000


def published(jwks_uri: str) -> KeySet:
    """The keys at ``jwks_uri`` (an empty set if they cannot be fetched or read)."""
    cache = current_app.extensions.setdefault("kleidi.oidc.client_keys", {})
    hit = cache.get(jwks_uri)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    keys = _fetch(jwks_uri)
    cache[jwks_uri] = (time.monotonic() + current_app.config["OIDC_JWKS_URI_CACHE_SECONDS"], keys)
    return keys


def _fetch(jwks_uri: str) -> KeySet:
    try:
        with urllib.request.urlopen(jwks_uri, timeout=5) as answer:  # noqa: S310 (checked scheme)
            return KeySet.import_key_set(json.loads(answer.read(MAX_BYTES + 1)[:MAX_BYTES]))
    except (OSError, ValueError, JoseError) as error:
        log.warning("client keys not fetched", extra={"jwks_uri": jwks_uri, "error": str(error)})
        return KeySet([])
