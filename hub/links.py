"""Shared links: a signed, expiring URL to one stored object, for people with no token.

A citizen-report app shows the officer a snapshot from a link in the
report; that officer has no Pantau token.  ``LinkSigner`` signs a storage
key and an expiry time with HMAC-SHA256, and ``GET /shared/<key>`` serves the
object only while the signature matches and the time has not passed.  Links
are made only when ``http.public_url`` is set.  The key lives in
``http.link_secret`` or, by default, in ``link-secret`` in the data directory
(created on first use, readable by the hub's user only).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote


class LinkSigner:
    def __init__(self, secret: bytes, public_url: str | None) -> None:
        self._secret = secret
        self.public_url = public_url.rstrip("/") if public_url else None

    @classmethod
    def from_config(cls, configured: str | None, public_url: str | None, data_dir: Path) -> LinkSigner:
        if configured:
            return cls(configured.encode(), public_url)
        path = data_dir / "link-secret"
        try:
            secret = path.read_bytes().strip()
        except FileNotFoundError:
            secret = secrets.token_hex(32).encode()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secret)
        return cls(secret, public_url)

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, key: str, seconds: float) -> str | None:
        """A public URL to the object under ``key`` for ``seconds``; None without ``http.public_url``."""
        if self.public_url is None:
            return None
        expires = int(time.time() + seconds)
        return f"{self.public_url}/shared/{quote(key)}?expires={expires}&sig={self.signature(key, expires)}"

    def valid(self, key: str, expires: int, sig: str) -> bool:
        return expires > time.time() and hmac.compare_digest(sig, self.signature(key, expires))
