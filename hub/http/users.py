"""Accounts over HTTP, for the console's users page: the list, and a CSV of many at once.

``GET /api/v1/users`` lists every user (never a password or its hash);
``POST /api/v1/users/import`` takes the CSV of ``pantau users import``
(``text/csv``, up to 4 MiB: tens of thousands of rows) and answers either
every problem with its line (400, nothing made) or the new users' generated
passwords, shown this once, and the usernames updated.  Both need ``manage``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from hub.access.accounts import import_accounts, read_import
from hub.core.models import Action
from hub.http import problems
from hub.http.auth import require
from hub.http.problems import problem
from hub.http.services import served_hub

router = APIRouter(tags=["users"], responses=problems.COMMON)


class Imported(BaseModel):
    """What an import made."""

    created: dict[str, str] = Field(description="New users' generated passwords, by username: shown this once.")
    updated: list[str] = Field(description="Users already there, given the row's name, role, area and phone.")


@router.get("/users")
async def list_users(request: Request, who: Any = require(Action.MANAGE)) -> list[dict[str, Any]]:
    return await served_hub(request).store.users.list_users()


@router.post("/users/import", response_model=Imported, responses=problems.BODY,
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}})
async def import_users(request: Request, who: Any = require(Action.MANAGE)) -> Any:
    """Make and update users from a CSV (header ``username,name,role,area,phone``); every row is
    checked first, and a file with any problem makes nothing (400 with ``problems``: each with its line)."""
    hub = served_hub(request)
    rows, found = read_import(await request.body(), "upload.csv")
    if found:
        return problem(400, "import_invalid", "The CSV has problems; nothing was imported",
                       f"{len(found)} problems, the first: {found[0]}", problems=found[:500])
    created, updated = await import_accounts(hub.store.users, rows)
    await hub.store.audit.record(who, "import_users", None, True, f"{len(created)} new, {len(updated)} updated")
    return Imported(created=created, updated=updated)
