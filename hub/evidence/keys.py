"""The hub's signing key (Ed25519, ``cryptography``): made at first start, kept in the data
directory (0600), outside the database, so a copy of the database cannot sign anything.

``pantau evidence key`` prints the public key: give it to the courts and the
police with the first bundle, so they check every later one against it
rather than against the key a bundle carries.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "evidence-signing-key.pem"


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        #: The public key, base64 of its 32 bytes.
        self.public_key = base64.b64encode(raw).decode()
        #: SHA-256 of the public key's bytes, its first 16 hex digits: what people compare by eye.
        self.fingerprint = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def of(cls, data_dir: Path) -> Signer:
        """The hub's key, made (0600) when the data directory has none."""
        path = data_dir / KEY_FILE
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            return cls(key)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} holds no Ed25519 key")
        return cls(loaded)

    def sign(self, data: bytes) -> str:
        """The signature of ``data``, base64."""
        return base64.b64encode(self._key.sign(data)).decode()


def verifies(public_key: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s (base64 of the raw 32 bytes) over ``data``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
