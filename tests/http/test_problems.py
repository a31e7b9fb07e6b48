"""Every error the API answers is a problem (RFC 9457) with a stable code a page can translate."""

from __future__ import annotations

import inspect

import httpx

import hub
from hub.core import errors
from hub.http.problems import MEDIA_TYPE, status_of
from tests.conftest import demo_hub_yaml


def test_every_error_class_has_a_code_of_its_own() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.HubError)]
    codes = [c.code for c in classes]
    assert len(classes) >= 12 and len(set(codes)) == len(codes), codes
    assert all(c.title and c.code.isidentifier() for c in classes)
    assert {c.__name__ for c in classes} <= set(hub.__all__), "plugins raise them: they are public"


def test_each_class_answers_with_its_status() -> None:
    assert status_of(errors.DeviceNotReady("x")) == 503
    assert status_of(errors.StorageKeyTaken("x")) == 409
    assert status_of(errors.StorageError("x")) == 503
    assert status_of(errors.NotifyError("x")) == 502
    assert status_of(errors.ConfigError("x")) == 500
    assert status_of(errors.NotFound("x")) == 404


def test_the_api_answers_problems_for_the_hubs_errors_http_and_bad_requests(hub_factory) -> None:  # noqa: ANN001
    running = hub_factory(demo_hub_yaml())
    with running.client("viewer") as viewer:
        cam = viewer.get("/api/v1/cameras").json()[0]["id"]
        answers = {
            "not_found": viewer.get("/api/v1/cameras/demo:nope:1"),
            "access_denied": viewer.get(f"/api/v1/cameras/{cam}/recordings"),
            "unauthorized": httpx.get(running.url + "/api/v1/cameras"),
            "invalid_request": viewer.get("/api/v1/events", params={"limit": "many"}),
        }
    for code, answer in answers.items():
        assert answer.headers["content-type"] == MEDIA_TYPE, (code, answer.text)
        body = answer.json()
        assert body["code"] == code and body["type"] == f"urn:pantau:error:{code}", body
        assert body["status"] == answer.status_code and body["title"] and body["detail"]
    assert answers["unauthorized"].headers["www-authenticate"] == "Bearer"
    assert answers["invalid_request"].json()["errors"][0]["loc"] == ["query", "limit"]
    assert "limit" in answers["invalid_request"].json()["detail"]
    spec = httpx.get(running.url + "/api/openapi.json").json()
    documented = spec["paths"]["/api/v1/cameras/{camera_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(documented), "the problems a route answers are in its OpenAPI"


def test_every_status_a_route_answers_is_in_its_openapi(hub_factory) -> None:  # noqa: ANN001
    import re

    running = hub_factory(demo_hub_yaml(extra="http: {auth_failures_per_minute: 3}\n"))
    spec = httpx.get(running.url + "/api/openapi.json").json()
    templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in spec["paths"]]
    with running.client("viewer") as viewer, running.client("operator") as operator:
        cam = viewer.get("/api/v1/cameras").json()[0]["id"]
        answers = [
            viewer.get(f"/api/v1/cameras/{cam}/recordings", params={"start": "2026-11-22T10:00:00+07:00"}),  # 403
            operator.get(f"/api/v1/cameras/{cam}/recordings", params={"start": "2026-11-22T10:00:00"}),  # 400
            viewer.get("/api/v1/cameras", headers={"Host": "evil.example"}),  # 400
            httpx.get(running.url + "/api/v1/cameras"),  # 401
            viewer.get("/api/v1/cameras/demo:nope:1"),  # 404
            viewer.get("/api/v1/events", params={"limit": "many"}),  # 422
            operator.post(f"/api/v1/cameras/{cam}/recordings/lock", content=b"{" + b" " * 100_000 + b"}",
                          headers={"Content-Type": "application/json"}),  # 413
            operator.post(f"/api/v1/cameras/{cam}/ptz", json={"action": "continuous", "pan": 0.5}),  # 501
            operator.get(f"/api/v1/cameras/{cam}/ptz/presets"),  # 501
            viewer.get("/api/v1/recordings/99999/download"),  # 404
        ]
        wrong = {"Authorization": "Bearer pt_00000000000000aa_wrong"}
        answers += [httpx.get(running.url + "/api/v1/streams", headers=wrong) for _ in range(5)]  # 401s, then 429
    statuses = {a.status_code for a in answers}
    assert {400, 401, 403, 404, 413, 422, 429, 501} <= statuses, [(a.request.url.path, a.status_code) for a in answers]
    for answer in answers:
        path = answer.request.url.path
        template = next((t for rx, t in templates if rx.match(path)), None)
        assert template is not None, f"{path} is not in the OpenAPI"
        documented = spec["paths"][template][answer.request.method.lower()]["responses"]
        assert str(answer.status_code) in documented, \
            f"{answer.request.method} {template} answers {answer.status_code}, documented {sorted(documented)}"
