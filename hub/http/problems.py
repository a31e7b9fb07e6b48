"""Errors as ``application/problem+json`` (RFC 9457), in one place.

Every error answer of the API has the same shape: ``type`` (a URN naming the
error), ``code`` (the stable code a page translates by), ``title``,
``status`` and ``detail`` (the message, in English, safe to show: errors
never carry a secret).  The hub's exception tree maps to statuses here;
FastAPI's own ``HTTPException`` and request validation answer the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from hub.core.errors import (
    AccessDenied,
    ConfigError,
    DeviceAuthFailed,
    DeviceError,
    DeviceNotReady,
    DeviceUnsupported,
    Gone,
    HubError,
    InvalidInput,
    LimitReached,
    NotFound,
    NotifyError,
    PluginError,
    StorageError,
    StorageKeyTaken,
)

MEDIA_TYPE = "application/problem+json"

#: The HTTP status of each class of the exception tree, most specific first.
STATUS: list[tuple[type[HubError], int]] = [
    (NotFound, 404),
    (AccessDenied, 403),
    (LimitReached, 429),
    (InvalidInput, 400),
    (Gone, 410),
    (DeviceNotReady, 503),
    (DeviceAuthFailed, 502),
    (DeviceUnsupported, 501),
    (DeviceError, 502),
    (StorageKeyTaken, 409),
    (StorageError, 503),
    (NotifyError, 502),
    (ConfigError, 500),
    (PluginError, 500),
    (HubError, 500),
]

#: Codes of answers that come from HTTP itself rather than from the exception tree.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_request",
              429: "too_many_requests", 501: "not_implemented", 503: "unavailable"}


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    type: str = Field(description="URN of the kind of error: urn:pantau:error:<code>.")
    code: str = Field(description="Stable code of the error, for programs and translations.")
    title: str = Field(description="Short summary of the kind of error.")
    status: int = Field(description="The HTTP status.")
    detail: str = Field(description="What went wrong this time, in English.")


def problem(status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": f"urn:pantau:error:{code}", "code": code, "title": title, "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def http_problem(exc: HTTPException) -> JSONResponse:
    """An ``HTTPException`` (FastAPI's, the guard's) as a problem, coded by its status."""
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else code
    return problem(exc.status_code, code, title, str(exc.detail), headers=dict(exc.headers or {}))


def status_of(exc: HubError) -> int:
    """The class's own ``http_status`` (a plugin's error may set one), else the tree's."""
    own = getattr(type(exc), "http_status", None)
    return own if isinstance(own, int) else next(code for cls, code in STATUS if isinstance(exc, cls))


#: What answers an error on a page (not ``/api``) that a browser asked for: request, status, code.
PageError = Callable[[Request, int, str], Awaitable[Response]]


def install(app: FastAPI, page_error: PageError | None = None) -> None:
    """Answer every error of ``app`` as a problem; one of a page a browser asked for (``Accept:
    text/html``, outside ``/api``) as ``page_error`` renders it, in the page's language."""

    def for_page(request: Request) -> bool:
        return page_error is not None and not request.url.path.startswith("/api/") \
            and "text/html" in request.headers.get("accept", "")

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        if isinstance(exc, AccessDenied) and exc.audited:
            request.state.audited = True  # the guard need not write it again
        if for_page(request) and page_error is not None:
            return await page_error(request, status_of(exc), exc.code)
        return problem(status_of(exc), exc.code, exc.title, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if for_page(request) and page_error is not None:
            return await page_error(request, exc.status_code, HTTP_CODES.get(exc.status_code, "hub_error"))
        return http_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"])
        return problem(422, "invalid_request", "The request is not valid",
                       f"{where}: {first['msg']}" if where else str(first["msg"]), errors=errors)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: ``statuses`` documented in its OpenAPI as problems."""
    return {status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": HTTPStatus(status).phrase}
            for status in statuses}


#: The problems any API route may answer with: a host the hub does not answer to (400), no or
#: a wrong token (401), the policy's refusal (403), what does not exist (404), a request that is
#: not valid (422), too many failed authentications or too much of something held (429).
COMMON = responses(400, 401, 403, 404, 422, 429)
#: A body larger than ``http.max_body_kb`` (routes that take one).
BODY = responses(413)
#: What a device may answer with: nothing it can do (501), an error of its own (502), not now (503).
DEVICE = responses(501, 502, 503)
#: The storage backend is not answering.
STORAGE = responses(503)
