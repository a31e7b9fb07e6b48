"""Evidence for the police: an investigator's request, a second person's approval, a signed bundle
that the hub's verifier and the bundle's own verify.py (Python and cryptography, nothing else)
accept, and that both refuse once one byte of it changes; a recording changed on disk after it
was recorded is reported, not bundled."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx

from tests.conftest import demo_hub_yaml

PASSWORD = "Sandi-Penyidik-2026"
LETTER = {"institution": "Polres Kutai Timur", "officer": "AKP Budi Santoso, NRP 78010123",
          "letter_number": "B/123/XI/2026/Reskrim", "letter_date": "2026-11-30",
          "case_reference": "LP/B/456/XI/2026", "legal_basis": "KUHAP Pasal 7; UU ITE Pasal 5",
          "reason": "Pencurian sepeda motor di depan gerbang"}


def add_user(hub, name: str, role: str) -> None:  # noqa: ANN001
    hub.add_user(name, PASSWORD, "--role", role)


def signed_in(hub, name: str) -> httpx.Client:  # noqa: ANN001
    web = httpx.Client(base_url=hub.url, timeout=60)
    answer = web.post("/api/v1/session", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    web.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return web


def bare_python(tmp: Path) -> tuple[str, dict[str, str]]:
    """A fresh virtualenv's Python that can import cryptography and nothing else of this project's
    environment (its packages linked into a folder of their own)."""
    import cffi
    import cryptography

    venv = tmp / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    only = tmp / "only-cryptography"
    only.mkdir()
    for module in (cryptography, cffi):
        os.symlink(Path(module.__file__).parent, only / Path(module.__file__).parent.name)
    site = Path(cffi.__file__).parent.parent
    for backend in site.glob("_cffi_backend*"):
        os.symlink(backend, only / backend.name)
    return str(venv / "bin" / "python"), {"PYTHONPATH": str(only), "PATH": os.environ.get("PATH", "")}


def rewritten(bundle: Path, target: Path, name: str) -> None:
    """``bundle`` copied to ``target`` with one byte of member ``name`` flipped."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            data = bytearray(source.read(item))
            if item.filename == name:
                data[len(data) // 2] ^= 0x01
            out.writestr(item, bytes(data))


def test_an_approved_request_exports_a_bundle_anyone_can_verify(hub_factory, tmp_path: Path) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    add_user(hub, "penyidik.01", "investigator")
    add_user(hub, "operator.01", "operator")
    with contextlib.closing(signed_in(hub, "penyidik.01")) as police, \
            contextlib.closing(signed_in(hub, "operator.01")) as operator:
        cams = {c["name"]: c["id"] for c in police.get("/api/v1/cameras").json()}
        gate = cams["Gate A"]
        assert police.get(f"/api/v1/cameras/{gate}/recordings").status_code == 403, "no playback for the police"
        deadline = time.monotonic() + 40
        while len(segments := operator.get(f"/api/v1/cameras/{gate}/recordings").json()) < 3:
            assert time.monotonic() < deadline, "the demo camera recorded too little"
            time.sleep(0.5)
        start, end = segments[0]["start"], segments[2]["end"]
        assert police.post("/api/v1/evidence", json={**LETTER, "camera_ids": [gate], "start": start[:19],
                                                     "end": end}).status_code == 422, "a time without its zone"
        filed = police.post("/api/v1/evidence", json={**LETTER, "camera_ids": [gate], "start": start, "end": end})
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]
        held = operator.get(f"/api/v1/cameras/{gate}/recordings", params={"start": start, "end": end}).json()
        assert held and all(s["locked"] for s in held), "the range is kept from retention at once"
        assert police.get(f"/api/v1/evidence/{request_id}/bundle").status_code == 400, "not approved yet"
        assert police.post(f"/api/v1/evidence/{request_id}/approve").status_code == 403
        own = operator.post("/api/v1/evidence", json={**LETTER, "camera_ids": [gate], "start": start, "end": end})
        assert operator.post(f"/api/v1/evidence/{own.json()['id']}/approve").status_code == 403, \
            "the requester alone cannot approve"
        approved = operator.post(f"/api/v1/evidence/{request_id}/approve", json={"note": "surat lengkap"})
        assert approved.status_code == 200 and approved.json()["decided_by"] == "user:operator.01"
        fetched = police.get(f"/api/v1/evidence/{request_id}/bundle")
        assert fetched.status_code == 200, fetched.text
        assert police.get(f"/api/v1/evidence/{request_id}").json()["state"] == "delivered"
    bundle = tmp_path / "bukti.zip"
    bundle.write_bytes(fetched.content)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        verify_text = archive.read("VERIFY.txt").decode()
    assert {"manifest.json", "manifest.sig", "VERIFY.txt", "verify.py"} <= names
    [camera] = manifest["cameras"]
    assert len(camera["segments"]) >= 3 and camera["view"]["file"] in names
    assert manifest["request"]["letter_number"] == LETTER["letter_number"]
    assert manifest["request"]["requested_by"] == "user:penyidik.01"
    assert manifest["request"]["decided_by"] == "user:operator.01"
    assert camera["device"]["serial"] and camera["covered"]["start"] and camera["checkpoint"]["signature"]
    assert "CARA MEMERIKSA" in verify_text and "HOW TO CHECK" in verify_text
    key = hub.pantau("evidence", "key", *args).stdout.strip().splitlines()[-1]
    assert key == manifest["hub"]["public_key"]

    python, env = bare_python(tmp_path)
    (tmp_path / "verify.py").write_bytes(zipfile.ZipFile(bundle).read("verify.py"))

    def bare(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, str(tmp_path / "verify.py"), str(path), "--key", key], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)

    def hubs(path: Path) -> subprocess.CompletedProcess[str]:
        return hub.pantau("evidence", "verify", str(path), "--key", key, check=False)

    for check in (bare, hubs):
        held_up = check(bundle)
        assert held_up.returncode == 0 and "holds" in held_up.stdout, held_up.stdout + held_up.stderr
    assert subprocess.run([python, "-c", "import av"], env=env, capture_output=True).returncode != 0, \
        "the bare Python has no PyAV: verify.py needs only cryptography"
    wrong_key = bare(bundle).args[:-1] + ["A" * 43 + "="]
    assert subprocess.run(wrong_key, capture_output=True, env=env, timeout=60).returncode == 1

    segment = camera["segments"][1]["file"]
    for flipped in (segment, "manifest.json", camera["view"]["file"], "verify.py"):
        broken = tmp_path / f"broken-{Path(flipped).name}.zip"
        rewritten(bundle, broken, flipped)
        for check in (bare, hubs):
            failed = check(broken)
            assert failed.returncode == 1, (flipped, failed.stdout)
            assert flipped in failed.stdout, (flipped, failed.stdout)


def test_a_recording_changed_after_it_was_recorded_is_reported_not_bundled(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    with hub.client("operator") as operator:
        gate = next(c["id"] for c in operator.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        deadline = time.monotonic() + 40
        while len(segments := operator.get(f"/api/v1/cameras/{gate}/recordings").json()) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    start, end = segments[0]["start"], segments[1]["end"]
    filed = hub.pantau("evidence", "request", "--camera", gate, "--start", start, "--end", end,
                       "--institution", LETTER["institution"], "--officer", LETTER["officer"],
                       "--letter-number", LETTER["letter_number"], "--letter-date", LETTER["letter_date"],
                       "--case", LETTER["case_reference"], "--legal-basis", LETTER["legal_basis"],
                       "--reason", LETTER["reason"], *args)
    request_id = filed.stdout.strip().splitlines()[-1]
    own = hub.pantau("evidence", "approve", request_id, *args, check=False)
    assert own.returncode != 0 and "second person" in own.stderr
    with hub.client() as admin:
        assert admin.post(f"/api/v1/evidence/{request_id}/approve").status_code == 200
        stored = sorted((hub.data_dir / "storage" / "recordings").rglob("*.mp4"))
        first = next(p for p in stored if hashlib.sha256(p.read_bytes()).hexdigest() == segments[0]["sha256"])
        data = bytearray(first.read_bytes())
        data[len(data) // 2] ^= 0xFF  # someone edits a frame on disk
        first.chmod(0o600)
        first.write_bytes(bytes(data))
        refused = admin.get(f"/api/v1/evidence/{request_id}/bundle")
    assert refused.status_code == 400 and refused.json()["code"] == "recording_tampered", refused.text
    assert f"segment {segments[0]['id']}" in refused.json()["detail"]
    exported = hub.pantau("evidence", "export", request_id, *args, check=False)
    assert exported.returncode != 0 and "not what was recorded" in exported.stderr
    listed = json.loads(hub.pantau("evidence", "list", "--json", *args).stdout)
    assert [r["state"] for r in listed if r["id"] == request_id] == ["approved"], "nothing was exported"


def test_a_refused_request_gives_its_range_back_to_retention(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as admin, hub.client("operator") as operator:
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        deadline = time.monotonic() + 40
        while len(segments := admin.get(f"/api/v1/cameras/{gate}/recordings").json()) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        body = {**LETTER, "camera_ids": [gate], "start": segments[0]["start"], "end": segments[1]["end"]}
        first = operator.post("/api/v1/evidence", json=body).json()["id"]
        second = operator.post("/api/v1/evidence", json=body).json()["id"]
        assert admin.post(f"/api/v1/evidence/{first}/refuse", json={}).status_code == 400, "a refusal says why"
        assert admin.post(f"/api/v1/evidence/{first}/refuse", json={"note": "tanpa surat resmi"}).status_code == 200
        kept = admin.get(f"/api/v1/cameras/{gate}/recordings", params={"end": segments[1]["end"]}).json()
        assert all(s["locked"] for s in kept[:2]), "the second request still holds the range"
        assert admin.post(f"/api/v1/evidence/{second}/refuse", json={"note": "duplikat"}).status_code == 200
        freed = admin.get(f"/api/v1/cameras/{gate}/recordings", params={"end": segments[1]["end"]}).json()
        assert not any(s["locked"] for s in freed[:2])
        assert admin.get(f"/api/v1/evidence/{first}/bundle").status_code == 410
        trail = admin.get("/api/v1/audit", params={"limit": 1000}).json()
    steps = [r["action"] for r in trail if r["action"].startswith("evidence_")]
    assert steps.count("evidence_request") == 2 and steps.count("evidence_refuse") == 2


async def test_each_cameras_segments_are_chained_as_they_are_indexed(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from hub.store import Store, database_url
    from hub.store.recordings import GENESIS, chain_digest

    store = Store(database_url(None, tmp_path))
    await store.migrate()
    try:
        t0 = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
        for n in range(6):  # two cameras' segments, interleaved as two recorders index them
            camera = "demo:A:1" if n % 2 == 0 else "demo:B:1"
            start = t0 + timedelta(seconds=10 * (n // 2))
            made = await store.recordings.add_segment(camera, "main", start, start + timedelta(seconds=10), 10.0,
                                                      1000 + n, f"{n:064x}", f"rec/{camera}/{n}.mp4")
            assert made is not None
        assert await store.recordings.add_segment("demo:A:1", "main", t0, t0, 1, 1, "0" * 64,
                                                  "rec/demo:A:1/0.mp4") is None, "indexed once"
        for camera in ("demo:A:1", "demo:B:1"):
            links = await store.recordings.chain_of(camera, t0, t0 + timedelta(hours=1))
            assert len(links) == 3 and links[0]["prev_chain"] == GENESIS
            for before, after in zip(links, links[1:], strict=False):
                assert after["prev_chain"] == before["chain"]
            for link in links:
                assert link["chain"] == chain_digest(link["prev_chain"], camera, link["start"], link["end"],
                                                     link["size"], link["sha256"])
            assert (await store.recordings.heads())[camera] == (links[-1]["id"], links[-1]["chain"])
    finally:
        await store.close()


async def test_retention_passes_over_a_range_while_its_request_is_open(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from hub.core.models import Camera, Device, Principal, Role
    from hub.evidence.custody import Custody
    from hub.evidence.keys import Signer
    from hub.store import Store, database_url
    from plugins.local_storage import LocalStorage
    from plugins.local_storage.config import LocalStorageConfig

    store = Store(database_url(None, tmp_path))
    await store.migrate()
    storage = LocalStorage(LocalStorageConfig(), tmp_path)
    try:
        camera = Camera(id="demo:A:1", device_id="demo:A", channel=1, name="Gerbang")
        await store.cameras.save_inventory([Device(id="demo:A", source="demo", vendor="Demo", serial="A")], [camera],
                                           {"demo"})
        t0 = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # a month ago: past any retention
        for n in range(4):
            start = t0 + timedelta(seconds=10 * n)
            await store.recordings.add_segment(camera.id, "main", start, start + timedelta(seconds=10), 10.0, 100,
                                               f"{n:064x}", f"rec/{n}.mp4")
        custody = Custody(store, storage, Signer.of(tmp_path), "Test", "0", tmp_path / "evidence")
        police = Principal(id="user:penyidik", role=Role.INVESTIGATOR)
        request = await custody.request(police, [camera.id], t0 + timedelta(seconds=5), t0 + timedelta(seconds=25),
                                        **{k: v for k, v in LETTER.items()})
        expired = {i for i, _ in await store.recordings.expired_segments(camera.id, datetime.now(UTC))}
        assert expired == {4}, "only the segment outside the range may go; the three of the range are held"
        await custody.refuse(Principal(id="user:operator", role=Role.OPERATOR), request.id, "tidak lengkap")
        assert len(await store.recordings.expired_segments(camera.id, datetime.now(UTC))) == 4
    finally:
        await storage.close()
        await store.close()
