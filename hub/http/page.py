"""The plain page at ``/``: every camera with a live-refreshing snapshot.

The page holds no data itself: its script asks for a token once (kept in the
browser's localStorage), then uses the same API as everyone else.  The full
web UI is a later piece of work.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

@functools.cache
def _page() -> str:
    return (Path(__file__).parent / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> str:
    return _page().replace("__TITLE__", escape(request.app.state.hub.config.hub.name))
