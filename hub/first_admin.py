"""The first admin: a hub that has no admin user makes one at start, so `make run` can be used at once.

Its password is random and shown once: on the console when the hub runs in
one (a terminal), else in ``<data_dir>/initial-admin-password`` (mode 0600),
whose path, never its content, the log names.  It never reaches the log.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

from hub.core.models import Role
from hub.store import Store

log = logging.getLogger("pantau")

USERNAME = "admin"
FILE = "initial-admin-password"


async def first_admin(store: Store, data_dir: Path) -> bool:
    """Make the first admin when there is none; whether one was made."""
    users = store.users
    if await users.admins_exist():
        return False
    password = secrets.token_urlsafe(15)
    await users.add_user(USERNAME, Role.ADMIN, password, "Administrator")
    if sys.stdout.isatty():
        print(f"\n  Pantau Hub: the first admin is {USERNAME!r} with the password {password}\n"
              "  (shown once; change it with `pantau user passwd admin`)\n", flush=True)
        log.warning("the first admin user was made; its password was shown on the console once",
                    extra={"username": USERNAME})
        return True
    path = data_dir / FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    log.warning("the first admin user was made; its password is in the file named here (delete it once read)",
                extra={"username": USERNAME, "file": str(path)})
    return True
