"""``GET /shared/<key>``: an object from storage behind a signed, expiring link (``hub.links``)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from hub.core.errors import NotFound
from hub.http.services import served_hub

router = APIRouter(include_in_schema=False)


@router.get("/shared/{key:path}")
async def shared(key: str, request: Request, expires: Annotated[int, Query()] = 0,
                 sig: Annotated[str, Query(max_length=128)] = "") -> StreamingResponse:
    hub = served_hub(request)
    if not (sig.isascii() and hub.links.valid(key, expires, sig)):
        raise HTTPException(403, "this link is not valid or has expired")
    chunks = hub.storage.read(key)
    try:
        first = await anext(chunks)
    except (StopAsyncIteration, NotFound):
        raise HTTPException(404, "the linked object is no longer kept") from None

    async def body():  # type: ignore[no-untyped-def]
        yield first
        async for chunk in chunks:
            yield chunk

    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return StreamingResponse(body(), media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
