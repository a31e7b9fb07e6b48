"""The partners' device passwords at rest: encrypted (Fernet: AES-128-CBC and HMAC-SHA256, from
``cryptography``) with a key of the plugin's own, kept in its folder of the hub's data directory
(mode 0600), never in the database next to what it opens, never in a log or an answer."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hub import HubError


class Vault:
    def __init__(self, folder: Path) -> None:
        path = folder / "vault.key"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(Fernet.generate_key())
        self._fernet = Fernet(path.read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise HubError("a partner's device password cannot be opened with this hub's key "
                           "(data/plugins/tower_partner/vault.key was replaced?)") from None
