"""Citizen reports over Open311 against the endpoint simulator: filing once,
following the agency, outages of the endpoint, deadlines and bad answers."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import aiomqtt
import pytest

from hub.app import Hub
from hub.core.config import load_config
from hub.core.errors import ConfigError
from hub.core.models import Event, EventKind, EventState, Role, utcnow
from hub.core.plugins import Plugins
from hub.testing.net import free_port
from hub.testing.sim import Open311Simulator
from hub.testing.waiting import until
from plugins.jaki_reports.models import REPORT_CLOSED, REPORT_FILED, ReportState
from plugins.jaki_reports.store import ReportStore


def reports_of(hub: Hub) -> ReportStore:
    """The plugin's table of reports, in the running hub's database."""
    return ReportStore(hub.context.database)

ROOT = Path(__file__).resolve().parents[3]

RULES = """\
    rules:
      - {name: tamper, kinds: [tamper], service_code: VANDALISME, attributes: {OBJEK: kamera CCTV},
         description: "Kamera {camera} dirusak pada {at}."}
      - {name: flood-gate, kinds: [intrusion], tags: [flood-gate], service_code: BANJIR}
      - {name: offline, offline_for: 2h, service_code: CCTV-RUSAK,
         description: "Kamera {camera} mati sejak {since} ({duration})."}
"""


def pantau(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=ROOT, capture_output=True, text=True)


def hub_yaml(tmp_path: Path, sim: Open311Simulator, extra: str = "", rules: str = RULES,
             notifier_extra: str = "    poll_interval: 1s\n") -> Path:
    port = free_port()
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"""\
version: 1
hub: {{name: Test Hub}}
http: {{port: {port}, public_url: "http://127.0.0.1:{port}"}}
recording: {{default: {{mode: "off"}}}}
health: {{enabled: false}}
sources:
  - type: demo
    name: demo
    width: 160
    height: 90
    sub_width: 160
    sub_height: 90
    fps: 5
    motion_every: 0
    cameras:
      - {{name: Pintu Air Manggarai, tags: [flood-gate], location: {{lat: -6.2094, lon: 106.8497}}}}
      - {{name: Taman Suropati, location: {{lat: -6.1994, lon: 106.8326}}}}
      - {{name: Gudang Tanpa Lokasi}}
notifiers:
  - type: open311
    name: jaki
    endpoint: {sim.url}
    api_key: {sim.api_key}
    retry_max_seconds: 1
{notifier_extra}{rules}{extra}""")
    return cfg


async def start_hub(cfg: Path) -> Hub:
    plugins = Plugins().load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    return hub


def cameras_by_name(hub: Hub) -> dict[str, str]:
    return {c.name: c.id for c in hub.inventory.cameras.values()}


@pytest.fixture
async def endpoint():
    sim = await Open311Simulator().start()
    yield sim
    await sim.stop()


async def test_a_tamper_event_is_filed_once_with_location_text_and_a_snapshot_anyone_can_open(
        endpoint: Open311Simulator, tmp_path: Path) -> None:
    hub = await start_hub(hub_yaml(tmp_path, endpoint))
    try:
        cam = cameras_by_name(hub)["Taman Suropati"]
        for _ in range(3):  # the camera keeps reporting tamper: still one report
            hub.publish(Event(camera_id=cam, kind=EventKind.TAMPER, state=EventState.START))
        await until(lambda: len(endpoint.filed) == 1, 20)
        await asyncio.sleep(1.5)
        assert len(endpoint.filed) == 1
        filed = next(iter(endpoint.filed.values()))
        f = filed.fields
        assert (f["service_code"], f["attribute[OBJEK]"]) == ("VANDALISME", "kamera CCTV")
        assert (float(f["lat"]), float(f["long"])) == pytest.approx((-6.1994, 106.8326))
        assert f["description"].startswith("Kamera Taman Suropati dirusak pada ")
        assert "Ref: pantau-" in f["description"]

        # The snapshot link works for the officer, who has no token; a forged one does not.
        async with aiohttp.ClientSession() as http:
            async with http.get(f["media_url"]) as resp:
                assert resp.status == 200 and resp.content_type == "image/jpeg"
                assert (await resp.read())[:3] == b"\xff\xd8\xff"
            url = urlsplit(f["media_url"])
            forged = f"{url.scheme}://{url.netloc}{url.path}?expires={int(parse_qs(url.query)['expires'][0]) + 9999}" \
                     f"&sig={parse_qs(url.query)['sig'][0]}"
            async with http.get(forged) as resp:
                assert resp.status == 403

        reports = await reports_of(hub).reports("jaki")
        assert len(reports) == 1 and reports[0].state == ReportState.OPEN
        report = reports[0]
        assert report.external_id == filed.id and report.occurrences == 3
        assert report.deadline is not None and report.filed_at is not None
        assert report.deadline - report.filed_at == timedelta(days=6)

        # The agency closes it: the hub sees that at the next poll, and a new tamper is a new report.
        endpoint.close(filed.id, "Kamera sudah diperbaiki.")

        async def closed() -> bool:
            got = await reports_of(hub).get(report.id)
            return got is not None and got.state == ReportState.CLOSED

        await until(closed, 10)
        got = await reports_of(hub).get(report.id)
        assert got is not None and got.status_notes == "Kamera sudah diperbaiki."

        async def told() -> bool:  # the filing and the closing are events too, kept beside the others
            kinds = [e.kind for e in await hub.store.events.events(cam)]
            return REPORT_FILED in kinds and REPORT_CLOSED in kinds

        await until(told, 5)
        hub.publish(Event(camera_id=cam, kind=EventKind.TAMPER))
        await until(lambda: len(endpoint.filed) == 2, 20)
    finally:
        await hub.stop()


async def test_the_endpoint_down_for_a_while_then_every_report_is_filed_exactly_once(
        endpoint: Open311Simulator, tmp_path: Path) -> None:
    hub = await start_hub(hub_yaml(tmp_path, endpoint))
    try:
        cams = cameras_by_name(hub)
        await endpoint.stop()
        hub.publish(Event(camera_id=cams["Taman Suropati"], kind=EventKind.TAMPER))
        hub.publish(Event(camera_id=cams["Pintu Air Manggarai"], kind=EventKind.TAMPER))
        hub.publish(Event(camera_id=cams["Pintu Air Manggarai"], kind=EventKind.INTRUSION))
        hub.publish(Event(camera_id=cams["Taman Suropati"], kind=EventKind.INTRUSION))  # no flood-gate tag

        async def pending_with_errors() -> bool:
            found = await reports_of(hub).reports("jaki", state=ReportState.PENDING)
            return len(found) == 3 and all(r.attempts >= 2 and r.last_error for r in found)

        await until(pending_with_errors, 20)
        assert "cannot connect" in (await reports_of(hub).reports("jaki"))[0].last_error  # type: ignore[operator]
        await endpoint.start()
        await until(lambda: len(endpoint.filed) == 3, 20)
        await asyncio.sleep(2)
        codes = sorted(r.service_code for r in endpoint.filed.values())
        assert codes == ["BANJIR", "VANDALISME", "VANDALISME"]
        assert all(r.state == ReportState.OPEN for r in await reports_of(hub).reports("jaki"))
    finally:
        await hub.stop()


async def test_a_lost_answer_does_not_file_the_report_twice(endpoint: Open311Simulator, tmp_path: Path) -> None:
    hub = await start_hub(hub_yaml(tmp_path, endpoint))
    try:
        endpoint.lose_response = True  # stored by the endpoint, but the hub never hears so
        hub.publish(Event(camera_id=cameras_by_name(hub)["Taman Suropati"], kind=EventKind.TAMPER))
        await until(lambda: len(endpoint.filed) == 1, 20)

        async def uncertain() -> bool:
            found = await reports_of(hub).reports("jaki")
            return bool(found) and "uncertain_since" in found[0].data

        await until(uncertain, 10)
        endpoint.lose_response = False
        await until(lambda: any("start_date" in r for r in endpoint.requests), 20)

        async def opened() -> bool:
            found = await reports_of(hub).reports("jaki")
            return found[0].state == ReportState.OPEN

        await until(opened, 20)
        assert len(endpoint.filed) == 1
        assert (await reports_of(hub).reports("jaki"))[0].external_id == next(iter(endpoint.filed))
    finally:
        await hub.stop()


async def test_a_camera_offline_longer_than_the_rule_allows_gets_one_report_per_outage(
        endpoint: Open311Simulator, tmp_path: Path) -> None:
    hub = await start_hub(hub_yaml(tmp_path, endpoint))
    try:
        cams = cameras_by_name(hub)
        gate, park = cams["Pintu Air Manggarai"], cams["Taman Suropati"]
        now = utcnow()
        # The gate camera went down 3 h ago (confirmed again after a restart 1 min ago);
        # the park camera only 1 h ago.
        await hub.store.status.record_status(gate, "online", now - timedelta(hours=5))
        await hub.store.status.record_status(gate, "offline", now - timedelta(hours=3))
        await hub.store.status.record_status(gate, "offline", now - timedelta(minutes=1))
        await hub.store.status.record_status(park, "offline", now - timedelta(hours=1))
        await until(lambda: len(endpoint.filed) == 1, 20)
        filed = next(iter(endpoint.filed.values()))
        assert filed.service_code == "CCTV-RUSAK"
        assert filed.fields["description"].startswith("Kamera Pintu Air Manggarai mati sejak ")
        assert "(3h" in filed.fields["description"]
        assert "media_url" not in filed.fields  # no picture from a camera that is down

        # Still the same outage after the agency closed the report: no new report.
        endpoint.close(filed.id)

        async def closed() -> bool:
            return (await reports_of(hub).reports("jaki"))[0].state == ReportState.CLOSED

        await until(closed, 10)
        await asyncio.sleep(2)
        assert len(endpoint.filed) == 1
        # Back online, then down again for over 2 h: a new outage, a new report.
        await hub.store.status.record_status(gate, "online", utcnow() - timedelta(minutes=200))
        await hub.store.status.record_status(gate, "offline", utcnow() - timedelta(minutes=130))
        await until(lambda: len(endpoint.filed) == 2, 20)
    finally:
        await hub.stop()


async def test_a_report_past_its_deadline_raises_escalation_notices_through_mqtt(
        endpoint: Open311Simulator, mosquitto, tmp_path: Path) -> None:  # noqa: ANN001
    extra = (f"  - {{type: mqtt, name: broker, host: 127.0.0.1, port: {mosquitto.port}, retry_max_seconds: 1,"
             f" ha_discovery: false}}\n")
    timing = "    deadline: 4s\n    escalate: [-2s, 0s, 2s]\n    poll_interval: 1s\n"
    cfg = hub_yaml(tmp_path, endpoint, extra=extra, notifier_extra=timing)
    got: list[dict] = []

    async def listen() -> None:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="officer") as client:
            await client.subscribe("pantau/+/event", qos=1)
            async for message in client.messages:
                got.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.5)
    hub = await start_hub(cfg)
    try:
        cam = cameras_by_name(hub)["Taman Suropati"]
        hub.publish(Event(camera_id=cam, kind=EventKind.TAMPER))

        def notices() -> list[dict]:
            return [e for e in got if e["kind"] == "report_escalation"]

        await until(lambda: len(notices()) == 3, 30)
        points = [e["data"]["point"] for e in notices()]
        assert points == ["-2s", "0s", "2s"]
        assert [e["data"]["overdue"] for e in notices()] == [False, True, True]
        first = notices()[0]
        assert first["camera_id"] == cam and first["data"]["service_request_id"] == next(iter(endpoint.filed))
        assert any(e["kind"] == "report_filed" for e in got)
        report = (await reports_of(hub).reports("jaki"))[0]
        assert report.overdue and report.escalations == ["-2s", "0s", "2s"]
        await asyncio.sleep(1.5)
        assert len(notices()) == 3, "each point is announced once"
    finally:
        await hub.stop()
        listener.cancel()


async def test_refusals_and_garbage_are_logged_with_context_and_lose_no_other_report(
        endpoint: Open311Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules = RULES + "      - {name: typo, kinds: [line_crossing], service_code: NO-SUCH-SERVICE}\n"
    hub = await start_hub(hub_yaml(tmp_path, endpoint, rules=rules))
    caplog.set_level(logging.INFO, logger="pantau.notifier.jaki")
    try:
        cams = cameras_by_name(hub)
        endpoint.faults.garbage = True
        endpoint.faults.paths = {"/open311/v2/requests.json"}
        hub.publish(Event(camera_id=cams["Taman Suropati"], kind=EventKind.LINE_CROSSING))   # unknown service
        hub.publish(Event(camera_id=cams["Gudang Tanpa Lokasi"], kind=EventKind.TAMPER))      # no location
        hub.publish(Event(camera_id=cams["Pintu Air Manggarai"], kind=EventKind.TAMPER))

        async def garbled() -> bool:
            found = await reports_of(hub).reports("jaki", state=ReportState.PENDING)
            return any("not JSON" in (r.last_error or "") for r in found)

        await until(garbled, 20)
        endpoint.faults.garbage = False
        await until(lambda: len(endpoint.filed) == 1, 20)

        async def settled() -> bool:
            return not await reports_of(hub).reports("jaki", state=ReportState.PENDING)

        await until(settled, 20)
        by_rule = {(r.rule, r.camera_id): r for r in await reports_of(hub).reports("jaki")}
        typo = by_rule[("typo", cams["Taman Suropati"])]
        nowhere = by_rule[("tamper", cams["Gudang Tanpa Lokasi"])]
        assert typo.state == ReportState.REJECTED and "NO-SUCH-SERVICE not found" in (typo.last_error or "")
        assert nowhere.state == ReportState.REJECTED and "has no location" in (nowhere.last_error or "")
        assert by_rule[("tamper", cams["Pintu Air Manggarai"])].state == ReportState.OPEN
        refused = [r for r in caplog.records if r.getMessage() == "the endpoint refused a report for good"]
        assert {getattr(r, "rule", None) for r in refused} == {"typo", "tamper"}
        assert any(getattr(r, "service_code", None) == "NO-SUCH-SERVICE" for r in caplog.records), \
            "the unknown service code is named at start"
        assert endpoint.api_key not in caplog.text
    finally:
        await hub.stop()


async def test_the_webhook_fetches_a_report_now_and_the_api_and_cli_show_it(tmp_path: Path) -> None:
    sim = await Open311Simulator(tokens=True, numeric_ids=True).start()
    hub = await start_hub(hub_yaml(tmp_path, sim, notifier_extra="    poll_interval: 1h\n"))
    try:
        cam = cameras_by_name(hub)["Taman Suropati"]
        hub.publish(Event(camera_id=cam, kind=EventKind.TAMPER))
        await until(lambda: len(sim.filed) == 1, 20)
        request_id = next(iter(sim.filed))
        await until(sim.tokens_ready)  # the token becomes an id
        base = f"http://127.0.0.1:{hub.port}/api/v1"
        token = await hub.store.tokens.create_token(Role.VIEWER, "jaki-callback")
        auth = {"Authorization": f"Bearer {token}"}
        sim.close(request_id, "Selesai.")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/plugins/open311/jaki/callback", json={"service_request_id": 1}) as resp:
                assert resp.status == 401
            # The first call-back resolves the token to the request id; it is unknown until then.
            await hub.notifiers["jaki"].poll()  # type: ignore[attr-defined]
            async with http.post(f"{base}/plugins/open311/jaki/callback", headers=auth,
                                 data={"service_request_id": request_id}) as resp:
                assert resp.status == 202, await resp.text()
                assert (await resp.json())["state"] == "closed"
            async with http.post(f"{base}/plugins/open311/jaki/callback", headers=auth,
                                 json={"service_request_id": "999999"}) as resp:
                assert resp.status == 404
            async with http.get(f"{base}/reports", headers=auth) as resp:
                listed = await resp.json()
        assert [(r["camera_id"], r["state"], r["external_id"]) for r in listed] == [(cam, "closed", request_id)]
        assert listed[0]["status_notes"] == "Selesai." and listed[0]["overdue"] is False
    finally:
        await hub.stop()
        await sim.stop()
    out = await asyncio.to_thread(pantau, "reports", "--json", "-c", str(tmp_path / "hub.yaml"))
    assert out.returncode == 0, out.stderr
    assert [r["external_id"] for r in json.loads(out.stdout)] == [request_id]
    table = await asyncio.to_thread(pantau, "reports", "-c", str(tmp_path / "hub.yaml"))
    assert "closed" in table.stdout and request_id in table.stdout


@pytest.mark.parametrize(("rule", "message"), [
    ("{name: r, service_code: X}", "give either 'kinds' (events) or 'offline_for'"),
    ("{name: r, service_code: X, kinds: [tamper], offline_for: 2h}", "not both"),
    ("{name: r, service_code: X, offline_for: two hours}", "is not a duration"),
    ("{name: r, service_code: X, kinds: [tamper], description: 'Kamera {kamera}'}", "unknown placeholder(s) kamera"),
    ("{name: r, service_code: X, kinds: [report_escalation]}", "cannot raise reports"),
])
def test_a_wrong_rule_is_a_clear_config_error(tmp_path: Path, rule: str, message: str) -> None:
    sim = Open311Simulator()
    cfg = hub_yaml(tmp_path, sim, rules=f"    rules:\n      - {rule}\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg, Plugins().load())
    assert message in str(err.value)
    assert "hub.yaml:" in str(err.value) and "notifiers[0].rules[0]" in str(err.value)
