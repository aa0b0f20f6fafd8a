"""saml:EncryptedID (SAML core 2.2.4): a NameID that an SP encrypted for the IdP's encryption
key, as Shibboleth SP sends it in LogoutRequests when its encryption is on.

Only what SAML's encryption profile uses is accepted, checked before any key is touched: an
AES block cipher (CBC or GCM) for the data and RSA-OAEP for the key (RSA PKCS#1 v1.5 and 3DES,
whose padding errors leak the plaintext to a patient sender, are refused). The session key may
sit inside EncryptedData's KeyInfo or beside it in the EncryptedID, as the profile allows.
"""

from __future__ import annotations

import copy
from functools import lru_cache

import xmlsec
from lxml import etree

XENC = "http://www.w3.org/2001/04/xmlenc#"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DATA_ALGORITHMS = frozenset(t.href for t in (
    xmlsec.Transform.AES128, xmlsec.Transform.AES192, xmlsec.Transform.AES256,
    xmlsec.Transform.AES128_GCM, xmlsec.Transform.AES192_GCM, xmlsec.Transform.AES256_GCM))
KEY_TRANSPORT = frozenset({xmlsec.Transform.RSA_OAEP.href,
                           "http://www.w3.org/2009/xmlenc11#rsa-oaep"})


class Undecryptable(ValueError):
    """No key of the IdP opens this EncryptedID, or it is not shaped as the profile says."""


def decrypt(encrypted_id: etree._Element, private_keys: list[bytes]) -> etree._Element:
    """The saml:NameID inside `encrypted_id`, opened by the first of `private_keys` (PEM)
    that can; `encrypted_id` itself is left as it was."""
    candidates = len(_encrypted_keys(encrypted_id))  # one per recipient key, say in a rollover
    for key in private_keys:
        for position in range(candidates):
            data = _with_key_inline(copy.deepcopy(encrypted_id), position)
            try:
                found = xmlsec.EncryptionContext(_manager(key)).decrypt(data)
            except xmlsec.Error:
                continue
            if isinstance(found, etree._Element) and found.tag == f"{{{SAML}}}NameID":
                return found
            raise Undecryptable("the encrypted identifier is not a NameID")
    raise Undecryptable("no decryption key of this IdP opens it")


def _encrypted_keys(encrypted_id: etree._Element) -> list[etree._Element]:
    """The session key's encryptions: inside EncryptedData's KeyInfo, or beside it."""
    data = encrypted_id.find(f"{{{XENC}}}EncryptedData")
    if data is None:
        raise Undecryptable("no EncryptedData")
    _check(data, DATA_ALGORITHMS)
    keys = data.findall(f"{{{DS}}}KeyInfo/{{{XENC}}}EncryptedKey") or \
        encrypted_id.findall(f"{{{XENC}}}EncryptedKey")
    if not keys:
        raise Undecryptable("no EncryptedKey")
    for key in keys:
        _check(key, KEY_TRANSPORT)
    return keys


def _with_key_inline(encrypted_id: etree._Element, position: int) -> etree._Element:
    """The EncryptedData with only its `position`-th EncryptedKey, inside its KeyInfo (where
    libxmlsec looks, and stops at the first key it cannot open)."""
    key = _encrypted_keys(encrypted_id)[position]
    data = encrypted_id.find(f"{{{XENC}}}EncryptedData")
    key_info = data.find(f"{{{DS}}}KeyInfo")
    if key_info is None:
        key_info = etree.SubElement(data, f"{{{DS}}}KeyInfo")
    for child in list(key_info):
        key_info.remove(child)  # RetrievalMethod, KeyName: they named the key placed here
    key_info.append(key)
    return data


def _check(element: etree._Element, allowed: frozenset) -> None:
    method = element.find(f"{{{XENC}}}EncryptionMethod")
    if method is None or method.get("Algorithm") not in allowed:
        raise Undecryptable("encryption algorithm not accepted")


@lru_cache(maxsize=16)
def _manager(key: bytes) -> xmlsec.KeysManager:
    # A keys manager costs milliseconds to set up (an X.509 store): one per key, kept.
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(key, xmlsec.KeyFormat.PEM, None))
    return manager
