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
