"""Field encryption and blind indexes for sensitive personal information (security.md, PIPL
art. 28): ID numbers and health declarations are stored only as ciphertext, looked up by a
keyed hash.

Ciphertext format: "v1$<cipher>$<base64 nonce ‖ ciphertext ‖ tag>". The cipher is recorded per
value, so switching HONGFENG_FIELD_CIPHER (aes-256-gcm ↔ sm4-gcm) affects new writes only and
every stored value stays readable. The field name is bound in as associated data: a ciphertext
copied from one column into another does not decrypt.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

AES = "aes"
SM4 = "sm4"
_NONCE = 12
_TAG = 16


class DecryptionError(Exception):
    """A stored value could not be decrypted (wrong key, or tampered)."""


@lru_cache(maxsize=4)
def _subkey(master: str, purpose: str, length: int) -> bytes:
    """Separate keys for separate jobs, derived from the one configured secret."""
    return hmac.new(master.encode(), f"hongfeng:{purpose}".encode(), hashlib.sha256).digest()[
        :length
    ]


def _cipher_name() -> str:
    return SM4 if settings.FIELD_CIPHER == "sm4-gcm" else AES


def _sm4_encrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _sm4_decrypt(key: bytes, nonce: bytes, blob: bytes, aad: bytes) -> bytes:
    body, tag = blob[:-_TAG], blob[-_TAG:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def encrypt(plaintext: str, *, field: str) -> str:
    """Encrypt one value for one field; empty stays empty."""
    if not plaintext:
        return ""
    cipher = _cipher_name()
    nonce = os.urandom(_NONCE)
    aad = field.encode()
    if cipher == AES:
        key = _subkey(settings.FIELD_ENCRYPTION_KEY, "aes-256-gcm", 32)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), aad)
    else:
        key = _subkey(settings.FIELD_ENCRYPTION_KEY, "sm4-gcm", 16)
        sealed = _sm4_encrypt(key, nonce, plaintext.encode(), aad)
    return f"v1${cipher}${base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, field: str) -> str:
    if not token:
        return ""
    try:
        version, cipher, payload = token.split("$", 2)
        raw = base64.b64decode(payload, validate=True)
    except ValueError:
        raise DecryptionError("malformed ciphertext") from None
    if version != "v1" or cipher not in (AES, SM4):
        raise DecryptionError("unknown ciphertext format")
    nonce, sealed, aad = raw[:_NONCE], raw[_NONCE:], field.encode()
    try:
        if cipher == AES:
            key = _subkey(settings.FIELD_ENCRYPTION_KEY, "aes-256-gcm", 32)
            return AESGCM(key).decrypt(nonce, sealed, aad).decode()
        key = _subkey(settings.FIELD_ENCRYPTION_KEY, "sm4-gcm", 16)
        return _sm4_decrypt(key, nonce, sealed, aad).decode()
    except (InvalidTag, ValueError):
        raise DecryptionError("ciphertext does not decrypt with this key") from None


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash for exact lookup and duplicate detection without storing the value. Without
    the key, nobody can test guesses against it (an ID number has too little entropy for a plain
    hash)."""
    key = _subkey(settings.BLIND_INDEX_KEY, "blind-index", 32)
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
