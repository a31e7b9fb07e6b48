"""A token limited to some cameras sees, watches and reads the events of those only, on every route."""

from __future__ import annotations

import json
import time

from tests.conftest import demo_hub_yaml


def test_a_scoped_token_sees_only_its_cameras_and_their_events_on_every_route(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(motion_every=0.3))
    with hub.client() as admin:
        cams = {c["name"]: c["id"] for c in admin.get("/api/v1/cameras").json()}
        gate, classroom = cams["Gate A"], cams["Kelas 7A"]
        deadline = time.monotonic() + 30
        while {e["camera_id"] for e in admin.get("/api/v1/events", params={"limit": 1000}).json()} < {gate, classroom}:
            assert time.monotonic() < deadline, "no motion on both demo cameras"
            time.sleep(0.3)
    with hub.client("operator", ("tag:classroom:7A",)) as teacher, \
            hub.client("viewer", ("tag:no-camera-has-this",)) as nobody:
        assert [c["id"] for c in teacher.get("/api/v1/cameras").json()] == [classroom]
        events = teacher.get("/api/v1/events", params={"limit": 1000}).json()
        assert events and {e["camera_id"] for e in events} == {classroom}, "only its camera's events"
        assert teacher.get("/api/v1/events", params={"camera_id": gate}).status_code == 403
        assert {n["camera_id"] for n in teacher.get("/api/v1/streams").json()} <= {classroom}
        assert teacher.get(f"/api/v1/cameras/{gate}").status_code == 403
        assert teacher.get(f"/api/v1/cameras/{gate}/snapshot").status_code == 403
        assert teacher.post(f"/api/v1/cameras/{gate}/live").status_code == 403
        assert teacher.get(f"/api/v1/cameras/{gate}/recordings").status_code == 403
        assert teacher.get(f"/api/v1/cameras/{classroom}/recordings").status_code == 200
        assert nobody.get("/api/v1/cameras").json() == []
        assert nobody.get("/api/v1/events", params={"limit": 1000}).json() == []
        assert nobody.get("/api/v1/streams").json() == []
    listed = json.loads(hub.pantau("token", "list", "--json", "-c", str(hub.config),
                                   "--data-dir", str(hub.data_dir)).stdout)
    assert sorted(map(tuple, (t["scopes"] for t in listed))) == [(), ("tag:classroom:7A",), ("tag:no-camera-has-this",)]


def test_a_scope_that_is_no_scope_is_refused_by_the_command(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(), start=False)
    out = hub.pantau("token", "create", "--role", "viewer", "--scope", "camera", "-c", str(hub.config),
                     "--data-dir", str(hub.data_dir), check=False)
    assert out.returncode == 2 and "'camera' names no cameras: use camera:ID, area:PATH, site:ID" in out.stderr
