"""``pantau user add|list|disable|enable|passwd``: the people who sign in to the hub's pages.

A new user's password is generated (printed once, as the last line) unless
``--password-stdin`` reads it; the hub keeps only its argon2id hash.
Disabling a user or changing a password ends every session of the user at
once (within 5 s on a hub that checked the session a moment before).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console

from hub.access.accounts import read_import
from hub.commands import config_option, data_dir_option, fail_on_errors, with_store
from hub.core.models import Role
from hub.store.users import Users, hash_password

_T = TypeVar("_T")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password (read from stdin, or generated) and whether it was generated."""
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise click.UsageError("--password-stdin: no password on stdin")
        return text, False
    return secrets.token_urlsafe(15), True


def _users(config_file: Path, data_dir: Path | None, work: Callable[[Users], Awaitable[_T]]) -> _T:
    return with_store(config_file, data_dir, lambda store: work(store.users))


@click.group()
def user() -> None:
    """Manage the users who sign in to the hub's pages."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="Role of the user.")
@click.option("--name", "display_name", default=None, help="The name shown for the user (default: the username).")
@click.option("--scope", "scopes", multiple=True, metavar="camera:ID|area:PATH|site:ID|tag:TAG",
              help="Only these cameras (repeat for more).")
@click.option("--locale", type=click.Choice(["id", "en"]), default="id", show_default=True,
              help="Language of the user's pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@config_option
@data_dir_option
@fail_on_errors
def user_add(username: str, role: str, display_name: str | None, scopes: tuple[str, ...], locale: str,
             password_stdin: bool, config_file: Path, data_dir: Path | None) -> None:
    """Add a user; a generated password is printed once, as the last line."""
    password, generated = _password(password_stdin)
    _users(config_file, data_dir, lambda users: users.add_user(username, Role(role), password, display_name,
                                                               list(scopes), locale))
    click.echo(f"Added {role} user {username}.", err=True)
    if generated:
        click.echo("Password (shown once; give it to the user safely):", err=True)
        click.echo(password)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def user_list(as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The users: name, role, scopes, whether disabled (never a password or its hash)."""
    rows = _users(config_file, data_dir, lambda users: users.list_users())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.table import Table

    table = Table("username", "name", "role", "scopes", "disabled")
    for r in rows:
        table.add_row(r["username"], r["name"], r["role"], ", ".join(r["scopes"]) or "all",
                      "yes" if r["disabled"] else "")
    Console().print(table)


@user.command("disable")
@click.argument("username")
@config_option
@data_dir_option
@fail_on_errors
def user_disable(username: str, config_file: Path, data_dir: Path | None) -> None:
    """Disable a user: signing in is refused and every session of theirs ends."""
    _users(config_file, data_dir, lambda users: users.set_disabled(username, True))
    click.echo(f"Disabled {username}; their sessions have ended.", err=True)


@user.command("enable")
@click.argument("username")
@config_option
@data_dir_option
@fail_on_errors
def user_enable(username: str, config_file: Path, data_dir: Path | None) -> None:
    """Enable a disabled user again."""
    _users(config_file, data_dir, lambda users: users.set_disabled(username, False))
    click.echo(f"Enabled {username}.", err=True)


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@config_option
@data_dir_option
@fail_on_errors
def user_passwd(username: str, password_stdin: bool, config_file: Path, data_dir: Path | None) -> None:
    """Set a user's password (a generated one is printed once, as the last line); their sessions end."""
    password, generated = _password(password_stdin)
    _users(config_file, data_dir, lambda users: users.set_password(username, password))
    click.echo(f"Changed the password of {username}; their sessions have ended.", err=True)
    if generated:
        click.echo(password)


@click.group("users")
def users_group() -> None:
    """Many users at once."""


@users_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@data_dir_option
@fail_on_errors
def users_import(csv_file: Path, config_file: Path, data_dir: Path | None) -> None:
    """Create or update the users of CSV_FILE (header: username,name,role,area,phone) in one go.

    Every row is checked first: a bad one is reported with its line and nothing is made.  New
    users get a generated password, printed once as CSV (username,password) on stdout; users
    already there get the row's name, role, area and phone and keep their password."""
    rows, problems = read_import(csv_file.read_bytes(), str(csv_file))
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"nothing imported: {len(problems)} problems", err=True)
        sys.exit(2)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    known = with_store(config_file, data_dir, lambda store: store.users.existing([r.username for r in rows]))
    fresh = [r.username for r in rows if r.username not in known]
    passwords = {name: secrets.token_urlsafe(15) for name in fresh}
    hashes: dict[str, str] = {}
    # argon2id takes tens of milliseconds a password on purpose; its C code runs outside the GIL.
    with Progress(TextColumn("hashing new passwords"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as progress, \
            ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        task = progress.add_task("hash", total=len(fresh))
        for name, digest in zip(fresh, pool.map(hash_password, (passwords[n] for n in fresh)), strict=True):
            hashes[name] = digest
            progress.advance(task)
    created, updated = with_store(config_file, data_dir, lambda store: store.users.import_users(rows, hashes))
    if created:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["username", "password"])
        for name in created:
            out.writerow([name, passwords[name]])
    click.echo(f"imported {csv_file}: {len(created)} new users (their passwords above, shown once), "
               f"{len(updated)} updated", err=True)
