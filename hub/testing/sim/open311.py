"""A simulated Open311 GeoReport v2 endpoint (a citizen-report app such as JAKI).

Written from the frozen v2 specification (``../shared/TEST_PEERS.md``):
``GET services.json``, ``GET services/<code>.json``, ``POST requests.json``
(form-encoded, ``api_key``), ``GET requests.json`` (by id list, service,
status, date range), ``GET requests/<id>.json``, ``GET tokens/<token>.json``.
Answers are JSON arrays as in v2; errors are an HTTP status with
``[{"code": ..., "description": ...}]`` (400 missing or bad field, 403 bad
key, 404 unknown service or request).  Only the ``.json`` format is served.

The agency's side is a method call: ``close(request_id, notes)``.  Faults on
demand come from ``Faults`` (status, garbage, hang, delay, truncate), plus
``lose_response``: the request is stored and the connection dropped before
the answer, the case a client cannot tell from a failure.  With
``numeric_ids`` ids are JSON numbers (as many real servers send); with
``tokens`` a POST answers a token that becomes a request id after
``token_delay`` seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from hub.testing.sim.base import DeviceSimulator

SERVICES: list[dict[str, Any]] = [
    {"service_code": "CCTV-RUSAK", "service_name": "CCTV rusak / mati", "description": "Kamera CCTV tidak berfungsi",
     "metadata": False, "type": "realtime", "keywords": "cctv, kamera", "group": "fasilitas umum"},
    {"service_code": "VANDALISME", "service_name": "Vandalisme fasilitas umum", "description": "Perusakan",
     "metadata": True, "type": "realtime", "keywords": "vandal", "group": "ketertiban"},
    {"service_code": "BANJIR", "service_name": "Banjir / genangan", "description": "Genangan air",
     "metadata": False, "type": "realtime", "keywords": "banjir, pintu air", "group": "sumber daya air"},
]

ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "VANDALISME": [{"variable": True, "code": "OBJEK", "datatype": "string", "required": True, "order": 1,
                    "description": "Objek yang dirusak", "datatype_description": None}],
}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ServiceRequest:
    id: str
    service_code: str
    fields: dict[str, str]
    requested: datetime
    status: str = "open"
    status_notes: str | None = None
    agency_responsible: str | None = "Dinas Komunikasi, Informatika dan Statistik"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


class Open311Simulator(DeviceSimulator):
    def __init__(self, api_key: str = "sim-open311-key", jurisdiction_id: str | None = None,
                 numeric_ids: bool = False, tokens: bool = False, token_delay: float = 0.5,
                 port: int | None = None) -> None:
        super().__init__(port=port)
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.numeric_ids = numeric_ids
        self.tokens = tokens
        self.token_delay = token_delay
        self.lose_response = False
        self.services = [dict(s) for s in SERVICES]
        self.attributes = {k: list(v) for k, v in ATTRIBUTES.items()}
        self.filed: dict[str, ServiceRequest] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._ids = itertools.count(638_001)

    def tokens_ready(self) -> bool:
        """Whether every token handed out so far resolves to its request id by now."""
        now = self.loop.time()
        return all(now >= ready for _, ready in self._tokens.values())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/open311/v2"

    def authorized(self, request: web.Request) -> bool:
        return True  # Open311 authenticates writes with api_key, checked per route

    def routes(self) -> list[web.RouteDef]:
        base = "/open311/v2"
        return [
            web.get(base + "/services.{fmt}", self.list_services),
            web.get(base + "/services/{code}.{fmt}", self.service_definition),
            web.post(base + "/requests.{fmt}", self.create),
            web.get(base + "/requests.{fmt}", self.list_requests),
            web.get(base + "/requests/{id}.{fmt}", self.get_request),
            web.get(base + "/tokens/{token}.{fmt}", self.get_token),
        ]

    # -- the agency's side ------------------------------------------------------

    def close(self, request_id: str, notes: str = "Sudah ditangani petugas.") -> None:
        req = self.filed[str(request_id)]
        req.status, req.status_notes, req.updated = "closed", notes, datetime.now(UTC)

    def by_description(self, text: str) -> list[ServiceRequest]:
        return [r for r in self.filed.values() if text in r.fields.get("description", "")]

    # -- answers -------------------------------------------------------------

    @staticmethod
    def error(status: int, description: str) -> web.Response:
        return web.json_response([{"code": status, "description": description}], status=status)

    def _check_common(self, request: web.Request, params: Any) -> web.Response | None:
        if request.match_info.get("fmt") != "json":
            return self.error(400, "only the json format is served here")
        if self.jurisdiction_id and params.get("jurisdiction_id") != self.jurisdiction_id:
            return self.error(400 if not params.get("jurisdiction_id") else 404,
                              "jurisdiction_id not provided or not found")
        return None

    def _id(self, value: str) -> Any:
        return int(value) if self.numeric_ids else value

    def _render(self, req: ServiceRequest) -> dict[str, Any]:
        f = req.fields
        return {
            "service_request_id": self._id(req.id), "status": req.status, "status_notes": req.status_notes,
            "service_name": next((s["service_name"] for s in self.services
                                  if s["service_code"] == req.service_code), None),
            "service_code": req.service_code, "description": f.get("description"),
            "agency_responsible": req.agency_responsible, "service_notice": None,
            "requested_datetime": _iso(req.requested), "updated_datetime": _iso(req.updated),
            "expected_datetime": _iso(req.requested + timedelta(days=6)),
            "address": f.get("address_string"), "address_id": f.get("address_id"), "zipcode": None,
            "lat": float(f["lat"]) if "lat" in f else None, "long": float(f["long"]) if "long" in f else None,
            "media_url": f.get("media_url"),
        }

    async def list_services(self, request: web.Request) -> web.Response:
        return self._check_common(request, request.query) or web.json_response(self.services)

    async def service_definition(self, request: web.Request) -> web.Response:
        if bad := self._check_common(request, request.query):
            return bad
        code = request.match_info["code"]
        if not any(s["service_code"] == code for s in self.services):
            return self.error(404, f"service_code {code} not found")
        return web.json_response({"service_code": code, "attributes": self.attributes.get(code, [])})

    async def create(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/x-www-form-urlencoded":
            return self.error(400, "the body must be application/x-www-form-urlencoded")
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        if bad := self._check_common(request, params):
            return bad
        if not params.get("api_key"):
            return self.error(400, "api_key was not provided")
        if not secrets.compare_digest(params["api_key"], self.api_key):
            return self.error(403, "api_key is not valid")
        code = params.get("service_code")
        if not code:
            return self.error(400, "service_code was not provided")
        if not any(s["service_code"] == code for s in self.services):
            return self.error(404, f"service_code {code} not found")
        has_point = "lat" in params and "long" in params
        if not (has_point or params.get("address_string") or params.get("address_id")):
            return self.error(400, "a location (lat and long, address_string or address_id) is required")
        if has_point:
            try:
                lat, lon = float(params["lat"]), float(params["long"])
            except ValueError:
                return self.error(400, "lat and long must be numbers")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                return self.error(400, "lat or long out of range")
        if len(params.get("description", "")) > 4000:
            return self.error(400, "description is longer than 4000 characters")
        for attr in self.attributes.get(code, []):
            if attr["required"] and not params.get(f"attribute[{attr['code']}]"):
                return self.error(400, f"attribute[{attr['code']}] is required for {code}")
        now = datetime.now(UTC)
        req = ServiceRequest(str(next(self._ids)), code, params, now, updated=now)
        self.filed[req.id] = req
        if self.lose_response:
            if request.transport is not None:
                request.transport.close()
            await asyncio.sleep(0.1)
            raise ConnectionResetError("simulated: the answer was lost")
        if self.tokens:
            token = secrets.token_hex(8)
            self._tokens[token] = (req.id, asyncio.get_running_loop().time() + self.token_delay)
            return web.json_response([{"token": token, "service_notice": "Laporan diterima."}])
        return web.json_response([{"service_request_id": self._id(req.id),
                                   "service_notice": "Laporan diterima.", "account_id": None}])

    async def list_requests(self, request: web.Request) -> web.Response:
        q = request.query
        if bad := self._check_common(request, q):
            return bad
        found = list(self.filed.values())
        if q.get("service_request_id"):
            wanted = {i.strip() for i in q["service_request_id"].split(",")}
            found = [r for r in found if r.id in wanted]
        else:
            if q.get("service_code"):
                found = [r for r in found if r.service_code == q["service_code"]]
            if q.get("status"):
                states = set(q["status"].split(","))
                found = [r for r in found if r.status in states]
            try:
                start = datetime.fromisoformat(q["start_date"]) if q.get("start_date") else None
                end = datetime.fromisoformat(q["end_date"]) if q.get("end_date") else None
            except ValueError:
                return self.error(400, "start_date and end_date must be ISO 8601 times")
            if start is not None:
                found = [r for r in found if r.requested >= start]
            if end is not None:
                found = [r for r in found if r.requested <= end]
            found = found[-1000:]
        return web.json_response([self._render(r) for r in found])

    async def get_request(self, request: web.Request) -> web.Response:
        if bad := self._check_common(request, request.query):
            return bad
        req = self.filed.get(request.match_info["id"])
        if req is None:
            return self.error(404, f"service_request_id {request.match_info['id']} not found")
        return web.json_response([self._render(req)])

    async def get_token(self, request: web.Request) -> web.Response:
        if bad := self._check_common(request, request.query):
            return bad
        token = request.match_info["token"]
        if token not in self._tokens:
            return self.error(404, f"token {token} not found")
        request_id, ready_at = self._tokens[token]
        ready = asyncio.get_running_loop().time() >= ready_at
        return web.json_response([{"service_request_id": self._id(request_id) if ready else None, "token": token}])
