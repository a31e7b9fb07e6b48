"""Accounts made in bulk: the CSV of ``pantau users import`` and of the console's users page.

A city hands out thousands of accounts at once (every RT head of Semarang):
``read_import`` checks every row of the CSV first (``username,name,role,area,phone``,
in any order) and reports each problem with its line; ``import_accounts``
then makes the new users with generated passwords (returned once, never
kept) and updates the ones already there, who keep their passwords.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

from hub.core.models import Role
from hub.store.users import USERNAME, ImportedUser, Users, hash_password

#: The columns ``pantau users import`` reads, in any order.
IMPORT_COLUMNS = ("username", "name", "role", "area", "phone")
_AREA = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")


def read_import(data: bytes, path: str) -> tuple[list[ImportedUser], list[str]]:
    """The rows of a CSV to import, and its problems as ``FILE:LINE: column: message`` (``path``
    names the file in them).  Nothing is made from a file with any problem."""
    problems: list[str] = []
    rows: list[ImportedUser] = []
    try:
        text = data.decode("utf-8-sig")  # spreadsheets save UTF-8 with a BOM
    except UnicodeDecodeError as err:
        return [], [f"{path}: cannot read it ({type(err).__name__}: save it as UTF-8 CSV)"]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"{path}:1: the header row lacks {', '.join(missing)} (it needs {','.join(IMPORT_COLUMNS)})"]
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        where = f"{path}:{line}"
        username, name, role, area, phone = ((record.get(c) or "").strip() for c in IMPORT_COLUMNS)
        bad: list[str] = []
        if not USERNAME.fullmatch(username):
            bad.append(f"username: {username[:70]!r} is not 2-64 lower-case letters, digits, '.', '_' or '-'")
        elif username in seen:
            bad.append(f"username: {username!r} is on line {seen[username]} already")
        seen.setdefault(username, line)
        if role not in {r.value for r in Role}:
            bad.append(f"role: {role[:40]!r} is none of {', '.join(r.value for r in Role)}")
        if area and not _AREA.fullmatch(area):
            bad.append(f"area: {area[:80]!r} is not a path such as jawa-tengah/semarang/krapyak/rw04/rt03")
        elif not area and role in ("area_head", "watch"):
            bad.append(f"area: an {role} needs the area they look after")
        if phone and not _PHONE.fullmatch(phone):
            bad.append(f"phone: {phone[:40]!r} is not a phone number")
        problems += [f"{where}: {problem}" for problem in bad]
        if not bad:
            rows.append(ImportedUser(username, name or username, Role(role), [f"area:{area}"] if area else [],
                                     phone or None))
    if not rows and not problems:
        problems.append(f"{path}: no rows under the header")
    return rows, problems




async def import_accounts(users: Users, rows: list[ImportedUser]) -> tuple[dict[str, str], list[str]]:
    """Make and update the users of ``rows``: the new ones' passwords by username, and the
    usernames updated.  argon2id is slow on purpose; its C code hashes in threads outside the GIL."""
    known = await users.existing([r.username for r in rows])
    passwords = {r.username: secrets.token_urlsafe(15) for r in rows if r.username not in known}

    def hash_all() -> dict[str, str]:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            return dict(zip(passwords, pool.map(hash_password, passwords.values()), strict=True))

    hashes = await asyncio.to_thread(hash_all)
    created, updated = await users.import_users(rows, hashes)
    return {name: passwords[name] for name in created}, updated
