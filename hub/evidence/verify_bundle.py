#!/usr/bin/env python3
"""Check a Pantau Hub evidence bundle, without the hub.

    python verify.py BUNDLE.zip [--key PUBLIC_KEY]

Needs Python 3.10 or later and the ``cryptography`` package
(``pip install cryptography``); with PyAV (``pip install av``) it also
decodes every frame of every segment, else it checks each segment's MP4
structure.  It checks, and names the file or field when one fails:

1. the signature (Ed25519) over ``manifest.json``, against ``--key`` (the
   hub's public key as ``pantau evidence key`` prints it, base64, or a file
   holding it); without ``--key``, against the key the bundle carries, and it
   says so: compare that key's fingerprint with the one the hub's operator
   gave you;
2. the SHA-256 and size of every file the manifest lists;
3. each camera's hash chain: every segment's link recomputed from the
   previous link and the segment's own fields, up to a checkpoint the hub
   signed when it was made (so the footage is unchanged since it was
   recorded, not only since it was exported);
4. that every segment is whole MP4 (and, with PyAV, decodes).

Exit status 0 when everything holds, 1 otherwise.  This file is part of the
bundle (``verify.py``) and of Pantau Hub (``hub/evidence/verify_bundle.py``,
used by ``pantau evidence verify``); it imports nothing of the hub.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import struct
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "pantau-evidence/1"
GENESIS = "0" * 64
#: Files a bundle holds besides those its manifest lists.
UNLISTED = {"manifest.json", "manifest.sig"}


def utc_text(when: str) -> str:
    """A time as the chain writes it (UTC, microseconds, +00:00), from the manifest's ISO 8601."""
    parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def chain_digest(prev: str, camera_id: str, start: str, end: str, size: int, sha256: str) -> str:
    """A segment's link: SHA-256 of, one per line, the previous link, the camera id, start, end,
    size in bytes and the segment file's SHA-256."""
    text = "\n".join([prev, camera_id, utc_text(start), utc_text(end), str(size), sha256])
    return hashlib.sha256(text.encode()).hexdigest()


def signature_holds(public_key: str, data: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.strip(), validate=True))
        key.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def mp4_problem(data: bytes) -> str | None:
    """Why ``data`` is not whole MP4 (boxes that do not add up, no movie header, no media), or None."""
    offset, kinds = 0, []
    while offset < len(data):
        if len(data) - offset < 8:
            return f"{len(data) - offset} stray bytes at the end"
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            if len(data) - offset < 16:
                return "a box's 64-bit size is cut off"
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8 or offset + size > len(data):
            return f"box {kind.decode('latin-1')!r} at byte {offset} runs past the end"
        kinds.append(kind)
        offset += size
    if b"moov" not in kinds:
        return "no movie header (moov)"
    if b"mdat" not in kinds:
        return "no media data (mdat)"
    return None


def decode_problem(data: bytes) -> str | None:
    """With PyAV: why a segment does not decode (None when every frame does, or PyAV is absent)."""
    try:
        import av
    except ImportError:
        return None
    try:
        media: Any = av.open(io.BytesIO(data), format="mp4")
        with media:
            frames = sum(1 for _ in media.decode(video=0))
    except Exception as err:  # PyAV raises a family of its own
        return f"does not decode ({type(err).__name__})"
    return None if frames else "holds no frame"


def check(bundle: Path, key: str | None = None) -> tuple[list[str], list[str]]:
    """(problems, notes) of a bundle: no problems means it holds."""
    problems: list[str] = []
    notes: list[str] = []
    try:
        archive = zipfile.ZipFile(bundle)
    except (OSError, zipfile.BadZipFile) as err:
        return [f"{bundle}: not a readable ZIP ({err})"], notes
    with archive:
        names = set(archive.namelist())
        for needed in ("manifest.json", "manifest.sig"):
            if needed not in names:
                return [f"{needed}: missing from the bundle"], notes
        manifest_bytes = archive.read("manifest.json")
        signature = archive.read("manifest.sig").decode("ascii", "replace")
        try:
            manifest: dict[str, Any] = json.loads(manifest_bytes)
        except ValueError:
            return ["manifest.json: not JSON"], notes
        carried = str(manifest.get("hub", {}).get("public_key", ""))
        if key is None:
            key = carried
            fingerprint = manifest.get("hub", {}).get("fingerprint")
            notes.append(f"checked against the key the bundle carries (fingerprint {fingerprint}); compare it "
                         "with the fingerprint the hub's operator gave you, or pass --key")
        if not signature_holds(key, manifest_bytes, signature):
            problems.append("manifest.json: the signature (manifest.sig) does not match it with this key")
            return problems, notes  # nothing the manifest says can be trusted
        if manifest.get("format") != FORMAT:
            problems.append(f"manifest.json: format {manifest.get('format')!r}, this checker reads {FORMAT}")
            return problems, notes
        listed: dict[str, dict[str, Any]] = manifest.get("files", {})
        contents: dict[str, bytes] = {}
        for name, expected in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: listed in the manifest, missing from the bundle")
                continue
            data = archive.read(name)
            contents[name] = data
            if len(data) != expected.get("size"):
                problems.append(f"{name}: {len(data)} bytes, the manifest says {expected.get('size')}")
            elif hashlib.sha256(data).hexdigest() != expected.get("sha256"):
                problems.append(f"{name}: its SHA-256 differs from the manifest's")
        for extra in sorted(names - set(listed) - UNLISTED):
            problems.append(f"{extra}: in the bundle but not in the manifest")
        for camera in manifest.get("cameras", []):
            problems += _chain_problems(camera, key)
            for segment in camera.get("segments", []):
                held = contents.get(segment["file"])
                if held is None:
                    continue
                why = mp4_problem(held) or decode_problem(held)
                if why:
                    problems.append(f"{segment['file']}: {why}")
    return problems, notes


def _chain_problems(camera: dict[str, Any], key: str) -> list[str]:
    camera_id = camera.get("id", "?")
    where = f"manifest.json cameras[{camera_id}]"
    links = [*camera.get("segments", []), *camera.get("chain_after", [])]
    if not links:
        return []
    problems = []
    prev = links[0].get("prev_chain", "")
    for link in links:
        label = link.get("file") or f"segment {link.get('segment_id')}"
        if link.get("prev_chain") != prev:
            problems.append(f"{where}: {label} does not follow the segment before it (a segment is missing, "
                            "added or moved)")
        recomputed = chain_digest(link.get("prev_chain", ""), camera_id, link["start"], link["end"],
                                  int(link["size"]), link["sha256"])
        if recomputed != link.get("chain"):
            problems.append(f"{where}: the chain link of {label} does not hold (its fields were changed)")
        prev = link.get("chain", "")
    checkpoint = camera.get("checkpoint") or {}
    try:
        statement = json.loads(checkpoint.get("statement", ""))
    except ValueError:
        return [*problems, f"{where}: the checkpoint's statement is not JSON"]
    if not signature_holds(key, checkpoint.get("statement", "").encode(), checkpoint.get("signature", "")):
        problems.append(f"{where}: the checkpoint's signature does not hold")
    if (statement.get("camera_id"), statement.get("segment_id"), statement.get("chain")) != \
            (camera_id, links[-1].get("segment_id"), links[-1].get("chain")):
        problems.append(f"{where}: the chain does not end at the signed checkpoint")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Pantau Hub evidence bundle.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--key", help="The hub's public key (base64), or a file holding it.")
    args = parser.parse_args(argv)
    key = args.key
    if key is not None and Path(key).is_file():
        key = Path(key).read_text().strip().split()[-1]
    problems, notes = check(args.bundle, key)
    for note in notes:
        print(f"note: {note}")
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        print(f"{args.bundle}: does not hold ({len(problems)} problem{'s' if len(problems) != 1 else ''})")
        return 1
    print(f"{args.bundle}: holds (signature, every file's hash, the chain to a signed checkpoint, every segment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
