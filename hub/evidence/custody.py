"""Chain of custody: evidence requests from filing to delivery, checkpoints of the segment chains,
and the signed bundle (``hub.evidence.verify_bundle`` checks it without the hub).

- ``request``: an investigator (or an operator for them) files a request; the
  range of every camera is locked from retention at once (the segments it
  locked are noted, so they are released when no request holds them).
- ``approve`` / ``refuse``: by a second person with ``approve_evidence``,
  never the requester (two-person rule).
- ``bundle``: for an approved request, a ZIP of the master copy (each
  recorded segment bit for bit), the joined MP4 for viewing, ``manifest.json``
  and its Ed25519 signature, ``VERIFY.txt`` and ``verify.py``.  Before a
  segment goes in, it is read back from storage and its SHA-256 compared with
  the one indexed when it was recorded, and its camera's chain is walked to a
  signed checkpoint: a segment changed after it was recorded fails the export
  (``EvidenceError``, naming it) rather than going into the bundle.
- ``checkpoint_all``: every 10 minutes the hub signs each camera's chain head.

Every step is in the audit log.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hub.core.errors import AccessDenied, Gone, InvalidInput, NotFound
from hub.core.models import Principal, PrivacyMask, utcnow
from hub.core.storage import StorageBackend
from hub.evidence import verify_bundle
from hub.evidence.keys import Signer
from hub.export import export_range
from hub.masks import redact
from hub.store import Store
from hub.store.evidence import EvidenceRequest, EvidenceState
from hub.store.recordings import chain_digest, utc_text

#: The longest range one request may cover, per camera.
LONGEST = timedelta(hours=24)
#: Cameras one request may name.
MOST_CAMERAS = 16


class EvidenceError(InvalidInput):
    """A request cannot be filed, decided or exported as asked; the message says why."""

    code = "evidence_invalid"
    title = "The evidence request cannot be done so"


class TamperedRecording(EvidenceError):
    """A recorded segment no longer matches what was indexed when it was recorded."""

    code = "recording_tampered"
    title = "A recording changed after it was recorded"


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    size: int


VERIFY_TEXT = """\
CARA MEMERIKSA BUKTI INI (Bahasa Indonesia)
==========================================
Berkas ZIP ini berisi rekaman asli dari Pantau Hub ({hub}), permintaan {request_id}.
1. Pasang Python 3 dan paket cryptography:  pip install cryptography
   (dengan PyAV, pip install av, setiap bingkai video juga diuraikan).
2. Jalankan:  python verify.py BERKAS.zip --key {public_key}
   Kunci publik hub ini: {public_key} (sidik jari {fingerprint}). Bandingkan
   dengan kunci yang diberikan operator hub secara terpisah.
3. Hasil "holds" berarti: tanda tangan Ed25519 atas manifest.json sah, setiap
   berkas sama persis (SHA-256) dengan yang tercatat, rantai hash setiap kamera
   utuh sampai titik periksa yang ditandatangani hub saat rekaman dibuat, dan
   setiap segmen rekaman utuh. Selain itu verify.py menyebut berkas atau bagian
   yang tidak cocok dan keluar dengan status 1.
Berkas di master/ adalah segmen asli apa adanya (tidak pernah dikodekan ulang);
berkas di view/ adalah gabungannya untuk ditonton.

HOW TO CHECK THIS EVIDENCE (English)
====================================
This ZIP holds original recordings from Pantau Hub ({hub}), request {request_id}.
1. Install Python 3 and the cryptography package:  pip install cryptography
   (with PyAV, pip install av, every video frame is decoded too).
2. Run:  python verify.py FILE.zip --key {public_key}
   This hub's public key: {public_key} (fingerprint {fingerprint}). Compare it
   with the key the hub's operator gave you separately.
3. "holds" means: the Ed25519 signature over manifest.json is valid, every file
   is exactly (SHA-256) as recorded, each camera's hash chain is unbroken up to
   a checkpoint the hub signed when the footage was recorded, and every segment
   is whole. Otherwise verify.py names the file or field that fails and exits 1.
The files under master/ are the recorded segments as they are (never re-encoded);
those under view/ join them for watching.
"""


def _slug(camera_id: str) -> str:
    return camera_id.replace(":", "_").replace("/", "_")


class Custody:
    def __init__(self, store: Store, storage: StorageBackend, signer: Signer, hub_name: str, version: str,
                 work_dir: Path, masks: Callable[[str], list[PrivacyMask]] | None = None) -> None:
        self.store, self.storage, self.signer = store, storage, signer
        #: A camera's privacy masks: a camera with some gets a redacted copy beside the master.
        self.masks = masks or (lambda camera_id: [])
        self.hub_name, self.version = hub_name, version
        self.work_dir = work_dir
        #: Called with a line of progress while a bundle is made (the CLI's progress bar).
        self.progress: Callable[[str], None] | None = None

    # -- requests ---------------------------------------------------------------------

    async def request(self, by: Principal, camera_ids: list[str], start: datetime, end: datetime,
                      ask_owners: list[dict[str, Any]] | None = None, **letter: str) -> EvidenceRequest:
        """File a request; its range is locked from retention at once."""
        if start.tzinfo is None or end.tzinfo is None:
            raise EvidenceError("start and end need a time zone (2026-11-30T21:00:00+08:00)")
        if not start < end or end - start > LONGEST:
            raise EvidenceError(f"the range must end after it starts and cover at most {LONGEST}")
        camera_ids = list(dict.fromkeys(camera_ids))
        if not (camera_ids or ask_owners) or len(camera_ids) + len(ask_owners or []) > MOST_CAMERAS:
            raise EvidenceError(f"a request names 1 to {MOST_CAMERAS} cameras")
        for camera_id in camera_ids:
            if await self.store.cameras.known_camera(camera_id) is None:
                raise NotFound(f"no camera {camera_id[:100]!r}")
        for field in ("institution", "officer", "letter_number", "letter_date", "case_reference", "legal_basis",
                      "reason"):
            if not str(letter.get(field, "")).strip():
                raise EvidenceError(f"{field} is required: a request without it cannot be accounted for")
        made = EvidenceRequest.model_validate({
            "id": secrets.token_hex(6), "state": EvidenceState.REQUESTED, "camera_ids": camera_ids,
            "ask_owners": ask_owners or [], "start": start,
            "end": end, "requested_by": by.id, "requested_at": utcnow(),
            **{k: str(v).strip()[:2000] for k, v in letter.items()}})
        await self.store.evidence.add(made)
        await self._hold(made)
        await self.store.audit.record(by, "evidence_request", None, True,
                                      f"{made.id}: {made.institution}, letter {made.letter_number}, "
                                      f"{len(camera_ids)} cameras, {utc_text(start)} to {utc_text(end)}")
        return made

    async def _hold(self, request: EvidenceRequest) -> None:
        """Lock the request's range of every camera, and note which segments it holds: all of them
        but those locked by hand before (an operator's lock is released by hand, not by a refusal)."""
        holding = []
        for camera_id in request.camera_ids:
            segments = await self.store.recordings.segments(camera_id, request.start, request.end, 10_000)
            locked_before = {s.id for s in segments if s.locked}
            by_requests = await self.store.evidence.held(sorted(locked_before)) if locked_before else set()
            ids = await self.store.recordings.lock_range(camera_id, request.start, request.end, True)
            holding += [i for i in ids if i not in locked_before or i in by_requests]
        if holding:
            await self.store.evidence.hold(request.id, sorted(set(holding)))

    async def _release(self, request: EvidenceRequest) -> None:
        for segment_id in await self.store.evidence.releasable(request.id):
            await self.store.recordings.set_locked(segment_id, False)

    async def get(self, request_id: str) -> EvidenceRequest:
        found = await self.store.evidence.get(request_id)
        if found is None:
            raise NotFound(f"no evidence request {request_id[:40]!r}")
        return found

    async def approve(self, by: Principal, request_id: str, note: str | None = None) -> EvidenceRequest:
        """Approve (a second person: never the requester)."""
        request = await self.get(request_id)
        if request.requested_by == by.id:
            await self.store.audit.record(by, "evidence_approve", None, False, f"{request.id}: own request")
            raise AccessDenied("a request is approved by a second person, never by the one who filed it")
        moved = await self.store.evidence.step(request.id, EvidenceState.APPROVED, decided_by=by.id,
                                               decided_at=utcnow(), decision_note=note)
        if moved is None:
            raise EvidenceError(f"request {request.id} is {request.state}, not waiting for a decision")
        await self._hold(moved)  # segments finished since the request was filed
        await self.store.audit.record(by, "evidence_approve", None, True, f"{request.id}: {note or ''}".strip())
        return moved

    async def refuse(self, by: Principal, request_id: str, note: str) -> EvidenceRequest:
        request = await self.get(request_id)
        if request.requested_by == by.id:
            raise AccessDenied("a request is decided by a second person, never by the one who filed it")
        if not note.strip():
            raise EvidenceError("a refusal says why")
        moved = await self.store.evidence.step(request.id, EvidenceState.REFUSED, decided_by=by.id,
                                               decided_at=utcnow(), decision_note=note.strip()[:2000])
        if moved is None:
            raise EvidenceError(f"request {request.id} is {request.state}, not waiting for a decision")
        await self._release(moved)
        await self.store.audit.record(by, "evidence_refuse", None, True, f"{request.id}: {note.strip()[:300]}")
        return moved

    async def expire(self, older_than: timedelta) -> list[str]:
        """Requests waiting for a decision longer than ``older_than`` expire; their holds are released."""
        cutoff = utcnow() - older_than
        ended = []
        for request in await self.store.evidence.requests(EvidenceState.REQUESTED):
            if request.requested_at < cutoff:
                moved = await self.store.evidence.step(request.id, EvidenceState.EXPIRED)
                if moved is not None:
                    await self._release(moved)
                    await self.store.audit.record("hub", "evidence_expire", None, True, request.id)
                    ended.append(request.id)
        return ended

    # -- checkpoints ----------------------------------------------------------------------

    async def checkpoint(self, camera_id: str, segment_id: int, chain: str) -> dict[str, Any]:
        """Sign the statement that the camera's chain reached ``chain`` at ``segment_id``, now."""
        at = utcnow()
        statement = json.dumps({"camera_id": camera_id, "segment_id": segment_id, "chain": chain,
                                "at": utc_text(at), "hub_fingerprint": self.signer.fingerprint},
                               sort_keys=True, separators=(",", ":"))
        signature = self.signer.sign(statement.encode())
        await self.store.evidence.add_checkpoint(camera_id, segment_id, chain, at, statement, signature)
        return {"camera_id": camera_id, "segment_id": segment_id, "chain": chain, "at": at,
                "statement": statement, "signature": signature}

    async def checkpoint_all(self) -> int:
        """Sign the head of every camera whose chain moved since its last checkpoint; how many."""
        heads = await self.store.recordings.heads()
        done = await self.store.evidence.last_checkpoints()
        signed = 0
        for camera_id, (segment_id, chain) in heads.items():
            if done.get(camera_id, -1) < segment_id:
                await self.checkpoint(camera_id, segment_id, chain)
                signed += 1
        return signed

    # -- the bundle -----------------------------------------------------------------------

    async def bundle(self, by: Principal, request_id: str) -> Bundle:
        """Export an approved request's bundle (a new file each time); the request becomes exported."""
        request = await self.get(request_id)
        if request.state not in (EvidenceState.APPROVED, EvidenceState.EXPORTED, EvidenceState.DELIVERED):
            if request.state in (EvidenceState.REFUSED, EvidenceState.EXPIRED):
                raise Gone(f"request {request.id} was {request.state}: there is nothing to export")
            raise EvidenceError(f"request {request.id} is {request.state}: it is exported once approved")
        work = self.work_dir / f"{request.id}-{secrets.token_hex(4)}"
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        try:
            files: dict[str, Path] = {}
            cameras = [await self._camera_part(request, camera_id, work, files) for camera_id in request.camera_ids]
            exported_at = utcnow()
            verify_source = await asyncio.to_thread(Path(verify_bundle.__file__).read_text, "utf-8")
            texts = {"verify.py": verify_source,
                     "VERIFY.txt": VERIFY_TEXT.format(hub=self.hub_name, request_id=request.id,
                                                      public_key=self.signer.public_key,
                                                      fingerprint=self.signer.fingerprint)}
            for name, text in texts.items():
                path = work / name
                await asyncio.to_thread(path.write_text, text, "utf-8")
                files[name] = path
            manifest = {
                "format": verify_bundle.FORMAT,
                "hub": {"name": self.hub_name, "version": self.version, "public_key": self.signer.public_key,
                        "fingerprint": self.signer.fingerprint},
                "request": {k: (utc_text(v) if isinstance(v, datetime) else v) for k, v in request.model_dump(
                    include={"id", "institution", "officer", "letter_number", "letter_date", "case_reference",
                             "legal_basis", "reason", "requested_by", "requested_at", "decided_by", "decided_at",
                             "decision_note"}).items()},
                "range": {"start": utc_text(request.start), "end": utc_text(request.end)},
                "exported_at": utc_text(exported_at), "exported_by": by.id,
                "cameras": cameras,
                "ask_owners": request.ask_owners,  # footage the hub does not hold: whom to ask
                "files": {name: await asyncio.to_thread(_file_entry, path) for name, path in sorted(files.items())},
            }
            manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            signature = self.signer.sign(manifest_bytes)
            out = self.work_dir / f"evidence-{request.id}-{exported_at:%Y%m%dT%H%M%SZ}.zip"
            await asyncio.to_thread(_zip, out, manifest_bytes, signature, files)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)
        entry = await asyncio.to_thread(_file_entry, out)
        await self.store.evidence.step(request.id, EvidenceState.EXPORTED, exported_at=exported_at,
                                       bundle_sha256=entry["sha256"])
        await self.store.audit.record(by, "evidence_export", None, True,
                                      f"{request.id}: bundle {entry['sha256'][:16]}, {entry['size']} bytes")
        return Bundle(out, entry["sha256"], entry["size"])

    async def delivered(self, by: Principal, request_id: str) -> None:
        await self.store.evidence.step(request_id, EvidenceState.DELIVERED, delivered_at=utcnow())
        await self.store.audit.record(by, "evidence_deliver", None, True, request_id)

    async def _camera_part(self, request: EvidenceRequest, camera_id: str, work: Path,
                           files: dict[str, Path]) -> dict[str, Any]:
        camera = await self.store.cameras.known_camera(camera_id)
        links = await self.store.recordings.chain_of(camera_id, request.start, request.end)
        part: dict[str, Any] = {"id": camera_id, "name": camera.name if camera else None,
                                "area": camera.area if camera else None,
                                "location": camera.location.model_dump() if camera and camera.location else None,
                                "direction": camera.direction if camera else None}
        device = await self.store.cameras.known_device(camera.device_id) if camera else None
        part["device"] = ({"id": device.id, "vendor": device.vendor, "model": device.model, "serial": device.serial,
                           "firmware": device.firmware} if device else None)
        segments = []
        for n, link in enumerate(links, 1):
            name = f"master/{_slug(camera_id)}/{n:05d}-{link['start']:%Y%m%dT%H%M%S}.mp4"
            path = work / name
            if self.progress is not None:
                self.progress(f"{camera_id}: segment {n} of {len(links)}")
            await self._fetch(link["key"], path)
            digest, size = await asyncio.to_thread(_digest, path)
            if digest != link["sha256"] or size != link["size"]:
                raise TamperedRecording(
                    f"segment {link['id']} of {camera_id} ({utc_text(link['start'])}) is not what was recorded: "
                    f"its SHA-256 or size differs from the one indexed when it was recorded; the bundle was not made")
            if chain_digest(link["prev_chain"], camera_id, link["start"], link["end"], link["size"],
                            link["sha256"]) != link["chain"]:
                raise TamperedRecording(f"segment {link['id']} of {camera_id}: its index entry was changed "
                                        "(the chain link does not hold); the bundle was not made")
            files[name] = path
            segments.append({"file": name, "segment_id": link["id"], "start": utc_text(link["start"]),
                             "end": utc_text(link["end"]), "size": link["size"], "sha256": link["sha256"],
                             "prev_chain": link["prev_chain"], "chain": link["chain"]})
        if not segments:
            part.update(segments=[], chain_after=[], checkpoint=None, covered=None, gaps=[], view=None)
            return part
        for earlier, later in zip(segments, segments[1:], strict=False):
            if later["prev_chain"] != earlier["chain"]:
                raise TamperedRecording(f"{camera_id}: the chain breaks before segment {later['segment_id']} "
                                        "(a segment of the range was removed or moved)")
        last_id = segments[-1]["segment_id"]
        checkpoint = await self.store.evidence.checkpoint_covering(camera_id, last_id)
        if checkpoint is None:
            checkpoint = await self.checkpoint(camera_id, last_id, segments[-1]["chain"])
        after = await self._links_between(camera_id, last_id, int(checkpoint["segment_id"]))
        prev = segments[-1]["chain"]
        for link in after:
            if link["prev_chain"] != prev:
                raise TamperedRecording(f"{camera_id}: the chain breaks between the range and its checkpoint")
            prev = link["chain"]
        if prev != checkpoint["chain"]:
            raise TamperedRecording(f"{camera_id}: the chain does not reach its signed checkpoint")
        part["segments"] = segments
        part["chain_after"] = after
        part["checkpoint"] = {"segment_id": checkpoint["segment_id"], "chain": checkpoint["chain"],
                              "statement": checkpoint["statement"], "signature": checkpoint["signature"]}
        starts = [datetime.fromisoformat(s["start"]) for s in segments]
        ends = [datetime.fromisoformat(s["end"]) for s in segments]
        part["covered"] = {"start": utc_text(starts[0]), "end": utc_text(ends[-1])}
        part["gaps"] = [[utc_text(e), utc_text(s)] for e, s in zip(ends, starts[1:], strict=False)
                        if (s - e).total_seconds() > 1.0]
        offset = await self.store.status.clock_offset(device.source, starts[0]) if device else None
        part["clock_offset"] = ({"seconds": offset[1], "measured_at": utc_text(offset[0])} if offset else None)
        joined = await export_range(self.store.recordings, self.storage, camera_id, request.start, request.end,
                                    work / "join" / _slug(camera_id))
        view = f"view/{_slug(camera_id)}.mp4"
        await asyncio.to_thread((work / "view").mkdir, exist_ok=True)
        await asyncio.to_thread(shutil.move, joined.path, work / view)
        files[view] = work / view
        part["view"] = {"file": view, "start": utc_text(joined.start), "seconds": round(joined.seconds, 3)}
        masks = self.masks(camera_id)
        if masks:  # for those who may not see behind the masks; the master stays whole
            redacted = f"redacted/{_slug(camera_id)}.mp4"
            await asyncio.to_thread((work / "redacted").mkdir, exist_ok=True)
            await asyncio.to_thread(redact, work / view, work / redacted, masks)
            files[redacted] = work / redacted
            part["redacted"] = {"file": redacted, "masks": [m.model_dump(mode="json") for m in masks]}
        return part

    async def _links_between(self, camera_id: str, after_id: int, through_id: int) -> list[dict[str, Any]]:
        """The chain entries of the camera after ``after_id`` through ``through_id`` (no files)."""
        if through_id <= after_id:
            return []
        found = await self.store.recordings.links(camera_id, after_id, through_id)
        return [{"segment_id": r["id"], "start": utc_text(r["start"]), "end": utc_text(r["end"]), "size": r["size"],
                 "sha256": r["sha256"], "prev_chain": r["prev_chain"], "chain": r["chain"]} for r in found]

    async def _fetch(self, key: str, path: Path) -> None:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        local = self.storage.local_path(key)
        if local is not None:
            await asyncio.to_thread(shutil.copyfile, local, path)
            return
        with path.open("wb") as out:  # noqa: ASYNC230 - chunks between awaits
            async for chunk in self.storage.read(key):
                out.write(chunk)


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _file_entry(path: Path) -> dict[str, Any]:
    digest, size = _digest(path)
    return {"sha256": digest, "size": size}


def _zip(out: Path, manifest: bytes, signature: str, files: dict[str, Path]) -> None:
    partial = out.with_suffix(".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", manifest)
        archive.writestr("manifest.sig", signature + "\n")
        for name, path in sorted(files.items()):
            archive.write(path, name)
    partial.replace(out)


__all__ = ["Bundle", "Custody", "EvidenceError", "TamperedRecording"]
