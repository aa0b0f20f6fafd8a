"""pysaml2's crypto backend on libxmlsec1 in-process (the `xmlsec` bindings).

pysaml2's own backend forks the `xmlsec1` program and writes temporary files for every
signature; this one signs, verifies, encrypts and decrypts in the same process, and keeps
parsed keys in memory (encryption is written with OpenSSL through `cryptography`, see
`encrypt_element`). It plugs into `saml2.sigver.SecurityContext` (see `security_context`).
Signature verification takes the key it is given (from the peer's metadata) and never one from
the message's KeyInfo; only the SAML profile of XML Signature is accepted (see hardening).
"""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.padding import PKCS7
from lxml import etree
from saml2.sigver import (
    CryptoBackend,
    DecryptError,
    EncryptError,
    RSACrypto,
    SecurityContext,
    SignatureError,
    import_rsa_key_from_file,
    pre_encrypt_assertion,
)

from idp.saml import hardening

XENC = "http://www.w3.org/2001/04/xmlenc#"
ASSERTION_XPATH = "/*[local-name()='Response']/*[local-name()='EncryptedAssertion']" \
    "/*[local-name()='Assertion']"

_SIGNING = (xmlsec.Transform.RSA_SHA256, xmlsec.Transform.RSA_SHA384, xmlsec.Transform.RSA_SHA512,
            xmlsec.Transform.ECDSA_SHA256, xmlsec.Transform.ECDSA_SHA384,
            xmlsec.Transform.ECDSA_SHA512)
_DIGESTS = (xmlsec.Transform.SHA256, xmlsec.Transform.SHA384, xmlsec.Transform.SHA512)
_C14N = (xmlsec.Transform.EXCL_C14N, xmlsec.Transform.EXCL_C14N_COMMENTS)
DATA_ENCRYPTION = {t.href: t for t in (xmlsec.Transform.AES128_GCM, xmlsec.Transform.AES256_GCM,
                                       xmlsec.Transform.AES128, xmlsec.Transform.AES256)}
_SESSION_KEY_BITS = {xmlsec.Transform.AES128_GCM.href: 128, xmlsec.Transform.AES128.href: 128}


class XmlsecBackend(CryptoBackend):
    """Sign, verify, encrypt and decrypt with libxmlsec1 in this process.

    `data_encryption` is the xmlenc URI of the block cipher for encrypted assertions (AES-GCM
    by default; 3DES, which pysaml2 would otherwise choose, is never used). The session key is
    transported with RSA-OAEP to the certificate pysaml2 passes in.
    """

    def __init__(self, data_encryption: str = xmlsec.Transform.AES256_GCM.href):
        if data_encryption not in DATA_ENCRYPTION:
            raise ValueError(f"unsupported data encryption algorithm {data_encryption}")
        self.data_encryption = DATA_ENCRYPTION[data_encryption]

    @property
    def version(self) -> str:
        return ".".join(str(n) for n in xmlsec.get_libxmlsec_version())

    def sign_statement(self, statement, node_name, key_file, node_id):
        """Fill in the signature template that pysaml2 put inside the element `node_id`."""
        root = _own_xml(statement)
        element = _element_by_id(root, node_id, node_name)
        signature = element.find(f"{{{hardening.DS}}}Signature")
        if signature is None:
            raise SignatureError(f"no signature template in {node_id}")
        try:
            hardening.signature_of(element)  # we never produce what we would refuse
            context = xmlsec.SignatureContext()
            context.key = _private_key(key_file)
            context.register_id(element, "ID")
            context.sign(signature)
        except (hardening.UnsafeMessage, xmlsec.Error) as exc:
            raise SignatureError(str(exc)) from exc
        return _serialize(root)

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        """True only if `node_id` carries a profile-conformant signature made with `cert_file`."""
        try:
            root = hardening.parse(signedtext, max_bytes=10_000_000)
            element = _element_by_id(root, node_id, node_name)
            signature = hardening.signature_of(element)
        except (hardening.UnsafeMessage, SignatureError):
            return False
        if signature is None:
            return False
        return verify_signature(element, signature, _public_key(cert_file, cert_type))

    def encrypt_assertion(self, statement, enc_key, template, key_type="", node_xpath=None,
                          node_id=None):
        """Encrypt the assertion at `node_xpath` for the certificate in the file `enc_key`."""
        if not isinstance(statement, str | bytes):
            statement = str(pre_encrypt_assertion(statement))
        root = _own_xml(statement)
        found = root.xpath(node_xpath or ASSERTION_XPATH)
        if node_id:
            found = [node for node in found if node.get("ID") == node_id]
        if not found:
            raise EncryptError("nothing to encrypt")
        for node in found:
            self._encrypt_node(node, enc_key)
        return _serialize(root)

    def encrypt(self, text, recv_key, template, key_type, xpath=""):
        """Encrypt the element at `xpath` (the whole document by default) for `recv_key`."""
        root = _own_xml(text)
        nodes = root.xpath(xpath) if xpath else [root]
        if not nodes:
            raise EncryptError("nothing to encrypt")
        encrypted = self._encrypt_node(nodes[0], recv_key)
        return _serialize(root if encrypted.getparent() is not None else encrypted)

    def _encrypt_node(self, node, cert_file):
        return encrypt_element(node, _read(cert_file), self.data_encryption.href)

    def decrypt(self, enctext, key_file):
        """Decrypt every xenc:EncryptedData of the document with the private key in `key_file`."""
        root = hardening.parse(enctext, max_bytes=10_000_000)
        manager = _manager(_read(key_file), xmlsec.KeyFormat.PEM)
        encrypted = root.findall(f".//{{{XENC}}}EncryptedData")
        if not encrypted:
            raise DecryptError("nothing encrypted")
        for node in encrypted:
            try:
                xmlsec.EncryptionContext(manager).decrypt(node)
            except xmlsec.Error as exc:
                raise DecryptError(str(exc)) from exc
        return _serialize(root)


def encrypt_element(node, certificate: bytes, data_encryption: str | None = None):
    """Replace `node` (in place) by an xenc:EncryptedData for `certificate`'s (PEM) key: a fresh
    AES session key (AES-256-GCM unless `data_encryption` names another of DATA_ENCRYPTION),
    transported with RSA-OAEP (MGF1 and digest SHA-1: rsa-oaep-mgf1p's defaults, which every
    SP decrypts). Returns the EncryptedData element.

    Written here with OpenSSL (cryptography), in the shape of libxmlsec1's template, at 0.4
    of its cost (0.13 ms an assertion against 0.32, measured in process); libxmlsec1,
    python3-saml and node's xml-encryption decrypt it (tests/test_saml_crypto.py, the
    interop tests).
    """
    cipher = DATA_ENCRYPTION[data_encryption or xmlsec.Transform.AES256_GCM.href]
    public_key = _encryption_key(certificate)
    session_key = secrets.token_bytes(_SESSION_KEY_BITS.get(cipher.href, 256) // 8)
    # lxml serializes the element with every namespace it uses declared on it, under the
    # same prefixes: the plaintext stands alone, and once decrypted back in place its
    # exclusive canonical form (hence the assertion's signature) is unchanged.
    plaintext = etree.tostring(node)
    if cipher.href in _GCM:  # XML Encryption 1.1, 5.2.4: IV (96 bits), ciphertext, tag
        iv = secrets.token_bytes(12)
        value = iv + AESGCM(session_key).encrypt(iv, plaintext, None)
    else:  # 5.2.2 (CBC): IV, then the padded text; any padding bytes, the last one counting
        iv = secrets.token_bytes(16)
        padder = PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(session_key), modes.CBC(iv)).encryptor()
        value = iv + encryptor.update(padder.update(plaintext) + padder.finalize()) \
            + encryptor.finalize()
    encrypted = etree.fromstring(_ENCRYPTED_DATA)
    method, key_info, data = encrypted
    method.set("Algorithm", cipher.href)
    key_info[0][1][0].text = base64_lines(public_key.encrypt(session_key, _RSA_OAEP))
    data[0].text = base64_lines(value)
    parent = node.getparent()
    if parent is not None:
        parent.replace(node, encrypted)
    return encrypted


_GCM = {xmlsec.Transform.AES128_GCM.href, xmlsec.Transform.AES256_GCM.href}
# rsa-oaep-mgf1p without a DigestMethod: SHA-1 for both (XML Encryption 5.4.2; OAEP's use of
# SHA-1 is not the collision-prone one).
_RSA_OAEP = asymmetric_padding.OAEP(
    mgf=asymmetric_padding.MGF1(hashes.SHA1()),  # noqa: S303
    algorithm=hashes.SHA1(), label=None)  # noqa: S303
_ENCRYPTED_DATA = f"""<xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element">
<xenc:EncryptionMethod Algorithm=""/>
<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<xenc:EncryptedKey>
<xenc:EncryptionMethod Algorithm="{xmlsec.Transform.RSA_OAEP.href}"/>
<xenc:CipherData>
<xenc:CipherValue/>
</xenc:CipherData>
</xenc:EncryptedKey>
</ds:KeyInfo>
<xenc:CipherData>
<xenc:CipherValue/>
</xenc:CipherData>
</xenc:EncryptedData>"""


@lru_cache(maxsize=256)
def _encryption_key(certificate: bytes) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM certificate (an SP's encryption certificate)."""
    try:
        key = x509.load_pem_x509_certificate(certificate).public_key()
    except ValueError as exc:
        raise EncryptError(f"not a certificate: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise EncryptError("the certificate's key is not an RSA key")
    return key


def base64_lines(data: bytes) -> str:
    """Base64 in lines of 64 characters, as libxmlsec1 writes a CipherValue or a signature's
    values."""
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[start:start + 64] for start in range(0, len(text), 64))


def certificate_pem(body: str) -> bytes:
    """PEM text of a certificate given as its base64 body (as metadata carries it)."""
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode("ascii")


def verify_signature(element, signature, key) -> bool:
    """Verify `signature` over `element` with `key`, allowing only the SAML profile's transforms."""
    context = xmlsec.SignatureContext()
    context.key = key  # a key set here means KeyInfo in the message is never consulted
    for transform in _SIGNING + _C14N:
        context.enable_signature_transform(transform)
    for transform in (*_DIGESTS, *_C14N, xmlsec.Transform.ENVELOPED):
        context.enable_reference_transform(transform)
    context.register_id(element, "ID")
    try:
        context.verify(signature)
    except xmlsec.Error:
        return False
    return True


def _own_xml(statement) -> etree._Element:
    if isinstance(statement, str):
        statement = statement.encode("utf-8")
    return hardening.parse(statement, max_bytes=50_000_000)


def _element_by_id(root, node_id, node_name):
    matches = root.xpath("//*[@ID = $id]", id=node_id) if node_id else [root]
    if len(matches) != 1:
        raise SignatureError(f"{len(matches)} elements with ID {node_id}")
    element = matches[0]
    namespace, _, local = (node_name or "").rpartition(":")
    if node_name and element.tag != f"{{{namespace}}}{local}":
        raise SignatureError(f"element {node_id} is {element.tag}, not {node_name}")
    return element


def _serialize(root) -> str:
    return etree.tostring(root, encoding="unicode")


def _private_key(key_file: str) -> xmlsec.Key:
    return _load_key(_read(key_file), xmlsec.KeyFormat.PEM)


def _public_key(cert_file: str, cert_type: str) -> xmlsec.Key:
    key_format = xmlsec.KeyFormat.CERT_DER if cert_type == "der" else xmlsec.KeyFormat.CERT_PEM
    return _load_key(_read(cert_file), key_format)


def _read(path: str) -> bytes:
    # Keys are cached by content, not by name: pysaml2 hands over fresh temporary files, and a
    # rotated key file takes effect at once.
    with open(path, "rb") as handle:
        return handle.read()


@lru_cache(maxsize=256)
def _load_key(data: bytes, key_format) -> xmlsec.Key:
    return xmlsec.Key.from_memory(data, key_format, None)


@lru_cache(maxsize=256)
def certificate_key(body: str) -> xmlsec.Key:
    """An xmlsec key from a certificate's base64 body, as metadata carries it."""
    return xmlsec.Key.from_memory(certificate_pem(body), xmlsec.KeyFormat.CERT_PEM, None)


@lru_cache(maxsize=64)
def _manager(data: bytes, key_format) -> xmlsec.KeysManager:
    # A keys manager costs ~13 ms to create (it sets up an X.509 store): one per key.
    manager = xmlsec.KeysManager()
    manager.add_key(_load_key(data, key_format))
    return manager


def security_context(config, data_encryption: str | None = None) -> SecurityContext:
    """A pysaml2 SecurityContext for `config` (a saml2.config.Config) on this backend."""
    backend = XmlsecBackend(data_encryption) if data_encryption else XmlsecBackend()
    encryption_keys = [pair["key_file"] for pair in config.encryption_keypairs or []
                       if "key_file" in pair]
    return SecurityContext(
        backend, config.key_file, cert_file=config.cert_file, metadata=config.metadata,
        only_use_keys_in_metadata=True, enc_key_files=encryption_keys,
        encryption_keypairs=config.encryption_keypairs,
        sec_backend=_redirect_signer(config.key_file), delete_tmpfiles=True,
    )


def _redirect_signer(key_file):
    # pysaml2 signs HTTP-Redirect messages (our LogoutRequests) with this one, in-process too.
    return RSACrypto(import_rsa_key_from_file(key_file)) if key_file else None

