"""The plain page at ``/``: every camera with a refreshing snapshot and live view.

The page holds no data itself: its script asks for a token once (kept in the
browser's localStorage), then uses the same API as everyone else.  Live view
plays the hub's HLS with hls.js, which ``make install`` fetches from the npm
registry into ``hub/http/web/node_modules`` (nothing third-party is kept in
the tree); without it the page shows snapshots only.  The full web UI is a
later piece of work.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from hub.core.errors import NotFound
from hub.http.services import served_hub

router = APIRouter(include_in_schema=False)

#: Front-end files the page loads, by the name it asks for; installed from npm.
ASSETS = {"hls.min.js": Path(__file__).parent / "web/node_modules/hls.js/dist/hls.min.js"}


@functools.cache
def _page() -> str:
    return (Path(__file__).parent / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> str:
    return _page().replace("__TITLE__", escape(served_hub(request).config.hub.name))


@router.get("/assets/{name}")
async def asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        raise NotFound(f"no asset {name!r} (live view needs `make install`, which fetches hls.js from npm)")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})
