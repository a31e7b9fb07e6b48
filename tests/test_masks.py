"""Privacy masks: a uniform grey in snapshots, in the public stream and in a bundle's redacted copy;
the recording (the master copy of evidence) keeps the whole picture; liftable masks only for a
stated reason by those who may."""

from __future__ import annotations

import io
import re
import time
import zipfile

import av
import numpy as np
from PIL import Image

from hub.testing.media import demo_h264
from tests.conftest import demo_hub_yaml

WINDOW = [[0.5, 0.4], [0.95, 0.4], [0.95, 0.95], [0.5, 0.95]]  # permanent: a neighbour's window
DOOR = [[0.05, 0.4], [0.4, 0.4], [0.4, 0.95], [0.05, 0.95]]  # liftable: a shop's door
#: Inside each mask, away from its edges (where JPEG and H.264 blur the border).
WINDOW_IN, DOOR_IN = (0.6, 0.5, 0.85, 0.85), (0.12, 0.5, 0.33, 0.85)


def region(pixels: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = box
    return pixels[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)].astype(np.float32)


def grey(pixels: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether the region is the masks' uniform grey: red, green and blue all 128 and flat.  (The demo's
    picture is a colour wave whose three channels never agree, so a picture with no mask never is.)"""
    part = region(pixels, box).reshape(-1, 3)
    return bool(np.abs(part.mean(axis=0) - 128).max() < 6 and part.std(axis=0).max() < 4)


def jpeg_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def video_pixels(data: bytes) -> np.ndarray:
    """The last frame of an MP4 (or an init segment and a media segment joined), as RGB."""
    with av.open(io.BytesIO(data), format="mp4") as media:
        frames = [f.to_ndarray(format="rgb24") for f in media.decode(video=0)]
    assert frames, "no frame decoded"
    return frames[-1]


def test_masks_cover_what_leaves_the_hub_and_the_recording_keeps_the_picture(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    with hub.client() as admin, hub.client("viewer") as viewer, hub.client("operator") as operator:
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        bad = admin.put(f"/api/v1/cameras/{gate}/masks", json=[{"name": "x", "polygon": [[0, 0], [2, 0], [1, 1]]}])
        assert bad.status_code == 422 and "outside the picture" in bad.text
        set_ = admin.put(f"/api/v1/cameras/{gate}/masks", json=[
            {"name": "jendela", "kind": "permanent", "polygon": WINDOW, "reason": "jendela rumah no. 12"},
            {"name": "pintu", "kind": "liftable", "polygon": DOOR}])
        assert set_.status_code == 200 and [m["name"] for m in set_.json()] == ["jendela", "pintu"]
        assert viewer.get(f"/api/v1/cameras/{gate}/masks").json() == set_.json()

        shown = jpeg_pixels(viewer.get(f"/api/v1/cameras/{gate}/snapshot").content)
        assert grey(shown, WINDOW_IN) and grey(shown, DOOR_IN)
        assert region(shown, (0.05, 0.2, 0.95, 0.35)).std() > 10, "the rest of the picture is there"
        assert viewer.get(f"/api/v1/cameras/{gate}/snapshot",
                          params={"unmask_reason": "mencari pelaku"}).status_code == 403
        lifted = jpeg_pixels(admin.get(f"/api/v1/cameras/{gate}/snapshot",
                                       params={"unmask_reason": "LP/B/456: mencari pelaku"}).content)
        assert grey(lifted, WINDOW_IN), "a permanent mask is never lifted"
        assert not grey(lifted, DOOR_IN), "a liftable one is, for a stated reason"
        assert any(r["action"] == "lift_mask" and r["reason"] == "LP/B/456: mencari pelaku"
                   for r in admin.get("/api/v1/audit").json())

        hub.pantau("public", "approve", gate, "--url", hub.url, *args)
        public = admin.get("/api/v1/public/cameras").json()
        assert grey(jpeg_pixels(admin.get(public[0]["snapshot"]).content), DOOR_IN)
        playlist = public[0]["live"]
        deadline = time.monotonic() + 30
        while (listing := admin.get(playlist)).status_code != 200 or not re.search(r"\.m4s$", listing.text, re.M):
            assert time.monotonic() < deadline, listing.text
            time.sleep(0.5)
        base = playlist.rsplit("/", 1)[0]
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', listing.text).group(1)
        segment = re.findall(r"^(s\d+_\d+\.m4s)$", listing.text, re.M)[-1]
        frame = video_pixels(admin.get(f"{base}/{init}").content + admin.get(f"{base}/{segment}").content)
        assert grey(frame, WINDOW_IN) and grey(frame, DOOR_IN), "the public stream is masked"
        assert region(frame, (0.05, 0.2, 0.95, 0.35)).std() > 10

        recorded = admin.get(f"/api/v1/cameras/{gate}/recordings").json()
        master = video_pixels(admin.get(recorded[-1]["download_url"]).content)
        assert not grey(master, WINDOW_IN) and not grey(master, DOOR_IN), "the recording keeps the whole picture"

        filed = operator.post("/api/v1/evidence", json={
            "camera_ids": [gate], "start": recorded[0]["start"], "end": recorded[-1]["end"],
            "institution": "Polsek Semarang Barat", "officer": "Bripka Joko", "letter_number": "B/77/XII/2026",
            "letter_date": "2026-12-01", "case_reference": "LP/77/XII/2026", "legal_basis": "KUHAP Pasal 7",
            "reason": "pencurian"}).json()["id"]
        assert admin.post(f"/api/v1/evidence/{filed}/approve").status_code == 200
        bundle = zipfile.ZipFile(io.BytesIO(admin.get(f"/api/v1/evidence/{filed}/bundle").content))
    names = bundle.namelist()
    redacted = next(n for n in names if n.startswith("redacted/"))
    masked = video_pixels(bundle.read(redacted))
    assert grey(masked, WINDOW_IN) and grey(masked, DOOR_IN)
    first_master = next(n for n in sorted(names) if n.startswith("master/"))
    assert not grey(video_pixels(bundle.read(first_master)), WINDOW_IN), "the master is whole"


def test_a_masked_output_that_cannot_mask_shows_nothing(tmp_path) -> None:  # noqa: ANN001
    from hub.core.models import PrivacyMask, StreamRole
    from hub.masks import MaskedHlsOutput

    data = demo_h264(6, 320, 180, 10)
    output = MaskedHlsOutput("demo:B:1", StreamRole.SUB, tmp_path / "live",
                             [PrivacyMask(name="jendela", polygon=[(0.5, 0.4), (0.9, 0.4), (0.9, 0.9)])], 1.0, 100)
    with av.open(io.BytesIO(data), format="mpegts") as media:
        stream = media.streams.video[0]
        packets = [p for p in media.demux(stream) if p.size]
        output.begin(stream)
        for packet in packets[:30]:
            output.packet(packet, time.time())
        assert list((tmp_path / "live").glob("*.m4s")), "it was writing masked segments"

        def broken(frame):  # noqa: ANN001, ANN202 - the masks cannot be painted (a picture of a new size, say)
            raise ValueError("cannot paint")

        output.masker.frame = broken
        for packet in packets[30:]:
            output.packet(packet, time.time())
    assert not list((tmp_path / "live").glob("*")), "nothing is left to serve, rather than the raw picture"
    assert output.stats.errors == 1 and "not shown" in (output.stats.last_error or "")
