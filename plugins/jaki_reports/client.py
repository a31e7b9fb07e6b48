"""An Open311 GeoReport v2 client (JSON format) with aiohttp.

Answers are read leniently, as real endpoints differ: ids may be numbers or
strings, a single request may come as an object or as a one-item list, and
fields may be missing or null.  Anything that is not Open311 JSON becomes an
``Open311Error`` that says whether the request may have been stored
(``uncertain``), was refused for good (``refused``), or surely was not
stored; the message names the endpoint (never the key) and what it answered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import aiohttp
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from yarl import URL

from hub import NotifyError


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_text)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ServiceRequest(_Lenient):
    service_request_id: Text
    status: str
    service_code: Text | None = None
    status_notes: str | None = None
    agency_responsible: str | None = None
    description: str | None = None
    requested_datetime: datetime | None = None
    updated_datetime: datetime | None = None
    expected_datetime: datetime | None = None


class Created(_Lenient):
    service_request_id: Text | None = None
    token: Text | None = None
    service_notice: str | None = None


class Service(_Lenient):
    service_code: Text
    service_name: str | None = None


class Open311Error(NotifyError):
    def __init__(self, message: str, *, status: int | None = None, refused: bool = False,
                 uncertain: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.refused = refused      # the endpoint said no for good (bad field, unknown service)
        self.uncertain = uncertain  # the endpoint may have stored the request anyway


def _items(data: Any, model: type[_Lenient]) -> list[Any]:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("expected a JSON list")
    return [model.model_validate(item) for item in data]


def _glimpse(body: bytes) -> str:
    text = body[:120].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text) + ("..." if len(body) > 120 else "")


def answer(what: str, status: int, body: bytes) -> Any:
    """The JSON of an endpoint's answer; ``Open311Error`` for an error status or what is not JSON."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        data = None
    if status >= 400:
        detail = ""
        if isinstance(data, list) and data and isinstance(data[0], dict):
            detail = "; ".join(str(e.get("description") or e.get("code")) for e in data if isinstance(e, dict))
        message = f"{what}: HTTP {status}" + (f": {detail[:300]}" if detail else f" ({_glimpse(body)})")
        refused = status in (400, 404, 422) and bool(detail)
        raise Open311Error(message, status=status, refused=refused, uncertain=status >= 500)
    if data is None:
        raise Open311Error(f"{what}: the answer is not JSON ({_glimpse(body)})", status=status, uncertain=True)
    return data


def read(what: str, data: Any, model: type[_Lenient]) -> list[Any]:
    """The answer as a list of ``model`` (one object is a list of one); ``Open311Error`` otherwise."""
    try:
        return _items(data, model)
    except (ValueError, ValidationError) as err:
        first = str(err).splitlines()[0][:160]
        raise Open311Error(f"{what}: the answer is not what Open311 sends ({first})", uncertain=True) from None


class Open311Client:
    def __init__(self, endpoint: str, api_key: str, jurisdiction_id: str | None, timeout: float) -> None:
        url = URL(endpoint.rstrip("/"))
        self.base = url
        self.where = str(url.with_user(None).with_password(None))
        self._key = api_key
        self._jurisdiction = jurisdiction_id
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params = dict(extra or {})
        if self._jurisdiction:
            params["jurisdiction_id"] = self._jurisdiction
        return params

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    form: dict[str, str] | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, raise_for_status=False)
        what = f"{method} {self.where}/{path}"
        sent = False
        try:
            async with self._session.request(method, self.base / path, params=params, data=form) as resp:
                sent = True
                body = await resp.read()
                status = resp.status
        except aiohttp.ClientConnectorError as err:
            raise Open311Error(f"{what}: cannot connect ({type(err).__name__})") from None
        except TimeoutError:
            raise Open311Error(f"{what}: no answer within {self._timeout.total:g} s", uncertain=True) from None
        except aiohttp.ClientError as err:
            raise Open311Error(f"{what}: the connection failed ({type(err).__name__})",
                               uncertain=sent or form is not None) from None
        return answer(what, status, body)

    async def services(self) -> list[Service]:
        return read("services", await self._call("GET", "services.json", params=self._params()), Service)

    async def create(self, fields: dict[str, str]) -> Created:
        """POST requests.json; ``fields`` are the form fields other than the key."""
        form = self._params(fields) | {"api_key": self._key}
        created: list[Created] = read("requests.json", await self._call("POST", "requests.json", form=form),
                                            Created)
        if not created or not (created[0].service_request_id or created[0].token):
            raise Open311Error(f"POST {self.where}/requests.json: the answer has neither a service_request_id "
                               "nor a token", uncertain=True)
        return created[0]

    async def requests(self, ids: Sequence[str]) -> list[ServiceRequest]:
        params = self._params({"service_request_id": ",".join(ids)})
        return read("requests.json", await self._call("GET", "requests.json", params=params), ServiceRequest)

    async def search(self, service_code: str, start: datetime) -> list[ServiceRequest]:
        params = self._params({"service_code": service_code, "start_date": start.isoformat(timespec="seconds")})
        return read("requests.json", await self._call("GET", "requests.json", params=params), ServiceRequest)

    async def token(self, token: str) -> str | None:
        """The request id a token stands for, or None while the endpoint has none yet."""
        found: list[Created] = read("tokens", await self._call("GET", f"tokens/{token}.json",
                                                                      params=self._params()), Created)
        return found[0].service_request_id if found else None
