"""A partner's device from submission to the inventory: validated, approved, added while the hub runs.

``submit`` checks the address (``guard.pin``: the host resolved once and
pinned), then has the hub probe the device over the pinned address
(``HubContext.probe_source``: the vendor plugin's own probe, HTTP redirects
refused by the hub's device client), and checks that every stream the
device reports is at that same address (a device that names another host
for its RTSP is refused: that too would be a way to make the hub connect
where the partner could not).  Whatever the outcome it is kept, refused with
its reason or waiting for approval, with the password sealed (``vault``).
``approve`` (an operator's, with the agreement in force) marks it approved;
``Sharing`` keeps the running hub's sources in step with the agreements
(``HubContext.add_source``/``remove_source``, tagged ``partner:<id>``): in
while the partner's agreement is active, out within a couple of seconds of a
suspension or termination, back on resumption and after a restart.
Nothing here echoes a password.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from urllib.parse import quote, urlsplit

from hub import (
    DeviceAuthFailed,
    DeviceError,
    DeviceInventory,
    HubContext,
    InvalidInput,
    Location,
    Principal,
    StreamRole,
    utcnow,
)
from plugins.tower_partner import edge_city
from plugins.tower_partner.guard import AddressRefused, PinnedAddress, own_addresses, pin
from plugins.tower_partner.models import (
    DEFAULT_PORTS,
    DEVICE_SCHEMES,
    Agreement,
    AgreementState,
    DeviceType,
    PermittedUses,
    Submission,
    SubmissionState,
)
from plugins.tower_partner.policy import POLICY
from plugins.tower_partner.store import PartnerError, PartnerStore
from plugins.tower_partner.vault import Vault

log = logging.getLogger(__name__)

PLUGIN = "tower_partner"
#: A device whose clock is further off than this is refused: its recordings would carry the wrong time.
MAX_CLOCK_DRIFT_SECONDS = 300


def vault(context: HubContext) -> Vault:
    return Vault(context.plugin_dir(PLUGIN))


def _settings(submission: Submission, password: str, agreement: Agreement | None = None) -> dict[str, object]:
    """The source's settings as hub.yaml would hold them: the pinned address, never the name; the
    agreement's caps (sessions at once, the substream only, a bit rate)."""
    settings: dict[str, object] = {
        "type": submission.type.value, "name": submission.source or f"partner-{submission.id}",
        "site": submission.site, "area": submission.area,
        "location": submission.location.model_dump() if submission.location else None}
    if submission.type == DeviceType.RTSP:
        netloc = f"[{submission.address}]" if ":" in (submission.address or "") else submission.address
        auth = f"{quote(submission.username, safe='')}:{quote(password, safe='')}@" if submission.username else ""
        settings |= {"url": f"rtsp://{auth}{netloc}:{submission.port}{submission.path or '/'}",
                     "device_id": submission.id, "camera_name": submission.site or submission.host}
        if submission.sub_path:
            settings["sub_url"] = f"rtsp://{auth}{netloc}:{submission.port}{submission.sub_path}"
    else:
        settings |= {"host": submission.address, "port": submission.port, "username": submission.username,
                     "password": password}
        if submission.rtsp_port:
            settings["rtsp_port"] = submission.rtsp_port
    return _terms(settings, submission.partner_id, agreement)


def _terms(settings: dict[str, object], partner_id: str, agreement: Agreement | None) -> dict[str, object]:
    """A partner source's settings with what its agreement says of every stream: the partner's tag,
    at most so many sessions, the substream only, a bit rate; ``public`` when it may be on the portal."""
    settings = {**settings, "tags": [f"partner:{partner_id}"]}
    if agreement is not None:
        uses = agreement.uses
        if uses.max_sessions is not None:
            settings["max_sessions"] = uses.max_sessions
        if uses.substream_only:
            settings["streams"] = ["sub"]
        if uses.max_kbps is not None:
            settings["max_kbps"] = uses.max_kbps
        if uses.public_portal:  # may be on the portal once an operator approves its scene
            settings["tags"] = [f"partner:{partner_id}", "public"]
    return {k: v for k, v in settings.items() if v is not None}


def _elsewhere(found: list[DeviceInventory], pinned: PinnedAddress) -> str | None:
    """A stream URL of the probe's cameras at another host than the pinned address, or None."""
    for inventory in found:
        for camera in inventory.cameras:
            for stream in camera.streams:
                url = stream.url.get_secret_value() if stream.url is not None else None
                host = urlsplit(url).hostname if url else None
                if host is not None and host.strip("[]") != pinned.address:
                    return host
    return None


class Refused(Exception):
    """Validation refused the device: a code the partner's page translates, and the reason in full."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def _within_caps(found: list[DeviceInventory], uses: PermittedUses) -> str:
    """What the agreement's stream cap leaves of each camera; ``Refused`` when a camera keeps none."""
    kept = 0
    for inventory in found:
        for camera in inventory.cameras:
            usable = [s for s in camera.streams if (not uses.substream_only or s.role == StreamRole.SUB)
                      and (uses.max_kbps is None or s.bitrate is None or s.bitrate <= uses.max_kbps * 1000)]
            if not usable:
                offered = ", ".join(f"{s.role.value} {round(s.bitrate / 1000)} kbit/s" if s.bitrate else s.role.value
                                    for s in camera.streams) or "none"
                cap = " and ".join(filter(None, ["the substream only" if uses.substream_only else "",
                                                 f"at most {uses.max_kbps} kbit/s" if uses.max_kbps else ""]))
                raise Refused("stream_cap", f"camera {camera.name[:80]!r} has no stream the agreement shares "
                                            f"({cap}); it offers {offered}")
            kept += len(usable)
    return f"{kept} streams within the agreement's cap"


def _clock(found: list[DeviceInventory]) -> str:
    drift = next((f.clock_drift_seconds for f in found if f.clock_drift_seconds is not None), None)
    if drift is None:
        return "the device does not tell its clock"
    if abs(drift) > MAX_CLOCK_DRIFT_SECONDS:
        raise Refused("clock", f"the device's clock is {drift:+.0f} s off the hub's (at most "
                               f"{MAX_CLOCK_DRIFT_SECONDS} s): set its time or NTP, or its recordings carry the "
                               "wrong time")
    return f"clock {drift:+.0f} s off the hub's"


def _placed(context: HubContext, location: Location | None, area_path: str | None) -> str | None:
    """Where the cameras stand, checked against the areas' outlines; ``Refused`` outside them."""
    if area_path is not None and area_path not in context.areas:
        raise Refused("area", f"area {area_path[:100]!r} is not one of the hub's areas")
    if location is None:
        return None
    where = f"{location.lat:.5f}, {location.lon:.5f}"
    area = context.areas.get(area_path) if area_path else None
    if area is not None and area.outline is not None:
        if not area.contains(location):
            raise Refused("location", f"the location {where} lies outside {area.name}")
        return f"location inside {area.name}"
    outlined = [a for a in context.areas.values() if a.outline is not None]
    if outlined:
        inside = next((a for a in outlined if a.contains(location)), None)
        if inside is None:
            raise Refused("location", f"the location {where} lies outside the city's areas "
                                      f"({', '.join(a.name for a in outlined[:3])})")
        return f"location inside {inside.name}"
    return "location kept (no area has an outline to check it against)"


async def submit(context: HubContext, store: PartnerStore, who: Principal, partner_id: str, kind: DeviceType,
                 host: str, port: int | None, username: str, password: str, site: str | None, *,
                 rtsp_port: int | None = None, path: str | None = None, sub_path: str | None = None,
                 location: Location | None = None, area: str | None = None) -> Submission:
    """Validate and keep a partner's device: ``refused`` with the reason, or ``pending_approval``."""
    if kind == DeviceType.EDGE:
        raise PartnerError("an edge's cameras are submitted by the edge itself when it first links (pantau edge)")
    partner = await store.partner(partner_id)
    agreement = await store.current(partner_id)  # NotFound: no agreement, nothing to submit under
    if agreement.state == AgreementState.SUSPENDED:
        raise PartnerError(f"the agreement of {partner_id} is suspended: resume it before adding devices")
    if agreement.state == AgreementState.DRAFT:  # the first device puts the agreement up for review
        await store.move(agreement.id, AgreementState.SUBMITTED, who.id, f"device {host[:100]} submitted")
        agreement = await store.move(agreement.id, AgreementState.VALIDATING, who.id, "validating the device")
    made = Submission(id=secrets.token_hex(6), partner_id=partner_id, type=kind, host=host[:253],
                      port=port or DEFAULT_PORTS[kind], username=username, site=site, state=SubmissionState.REFUSED,
                      submitted_at=utcnow(), submitted_by=who.id, rtsp_port=rtsp_port, path=path,
                      sub_path=sub_path, location=location, area=area)
    sealed = vault(context).seal(password)
    public = urlsplit(context.links.public_url or "").hostname
    checks: list[str] = []
    code = "unreachable"
    try:
        placed = _placed(context, location, area)
        pinned = await pin(DEVICE_SCHEMES[kind], host, port, partner.networks, own_addresses([public or ""]))
        checks.append(f"address {pinned.netloc} pinned")
        if rtsp_port is not None:  # the streams too: checked, and at the same address
            rtsp = await pin("rtsp", pinned.address, rtsp_port, partner.networks, own_addresses([public or ""]))
            checks.append(f"RTSP at {rtsp.netloc}")
        made = made.model_copy(update={"address": pinned.address, "port": pinned.port})
        found = await context.probe_source(_settings(made, password), limit=20)
        elsewhere = _elsewhere(found, pinned)
        if elsewhere is not None:
            raise Refused("elsewhere", f"{pinned.netloc} reports its streams at {elsewhere}, another host: "
                                       "the hub connects to the address it checked only")
        names = [c.name for inventory in found for c in inventory.cameras]
        if not names:
            raise Refused("no_cameras", f"{pinned.netloc}: the device answered but has no cameras")
        checks.append(f"signed in: {len(names)} cameras")
        checks.append(_within_caps(found, agreement.uses))
        checks.append(_clock(found))
        if placed:
            checks.append(placed)
    except Refused as refused:
        reason, code = str(refused), refused.code
    except AddressRefused as refused:
        reason, code = str(refused), "address"
    except DeviceAuthFailed:
        reason, code = f"{host[:100]}: the device refused the username or password", "credentials"
    except (DeviceError, InvalidInput) as err:
        reason = f"{host[:100]}: {err}"
    else:
        made = made.model_copy(update={"state": SubmissionState.PENDING_APPROVAL, "found": names, "checks": checks,
                                       "reason": f"under agreement {agreement.document}"})
        if agreement.state == AgreementState.VALIDATING:
            await store.move(agreement.id, AgreementState.PENDING_APPROVAL, who.id,
                             f"device {pinned.netloc} valid: {len(names)} cameras")
        return await store.save_submission(made, sealed)
    if agreement.state == AgreementState.VALIDATING:  # back to the partner, with the reason
        await store.move(agreement.id, AgreementState.DRAFT, who.id, reason[:1000])
    log.info("partner device refused", extra={"partner": partner_id, "reason": reason[:300]})
    return await store.save_submission(made.model_copy(update={"reason": reason[:1000], "reason_code": code,
                                                               "checks": checks}), sealed)


async def edge_linked(store: PartnerStore, who: Principal, partner_id: str, devices: list[DeviceInventory],
                      edge: str) -> Submission | None:
    """A partner's edge said hello: its first hello (none pending or approved yet) is a submission of
    the cameras it carries, checked against the agreement's cap and waiting for an operator's approval
    as any device; afterwards its cameras follow what it says.  None when one was made before."""
    made_before = [s for s in await store.submissions(partner_id) if s.type == DeviceType.EDGE
                   and s.state in (SubmissionState.PENDING_APPROVAL, SubmissionState.APPROVED)]
    if made_before:
        return None
    agreement = await store.current(partner_id)
    if agreement.state == AgreementState.DRAFT:
        await store.move(agreement.id, AgreementState.SUBMITTED, who.id, f"edge {edge[:100]} linked")
        agreement = await store.move(agreement.id, AgreementState.VALIDATING, who.id, "validating the edge's cameras")
    names = [c.name for inventory in devices for c in inventory.cameras]
    made = Submission(id=secrets.token_hex(6), partner_id=partner_id, type=DeviceType.EDGE, host=edge[:253], port=0,
                      username="", state=SubmissionState.REFUSED, submitted_at=utcnow(), submitted_by=who.id,
                      source=f"edge-{partner_id}", found=names)
    try:
        if not names:
            raise Refused("no_cameras", f"the edge {edge[:100]} carries no cameras (its hub.yaml's sources)")
        checks = [f"edge {edge[:100]} linked: {len(names)} cameras", _within_caps(devices, agreement.uses)]
    except Refused as refused:
        if agreement.state == AgreementState.VALIDATING:
            await store.move(agreement.id, AgreementState.DRAFT, who.id, str(refused)[:1000])
        return await store.save_submission(made.model_copy(update={"reason": str(refused)[:1000],
                                                                   "reason_code": refused.code}))
    if agreement.state == AgreementState.VALIDATING:
        await store.move(agreement.id, AgreementState.PENDING_APPROVAL, who.id,
                         f"edge {edge[:100]} valid: {len(names)} cameras")
    return await store.save_submission(made.model_copy(update={
        "state": SubmissionState.PENDING_APPROVAL, "checks": checks,
        "reason": f"under agreement {agreement.document}"}))


async def approve(context: HubContext, store: PartnerStore, who: Principal, submission_id: str) -> Submission:
    """Approve a validated device (its partner's agreement in force, or put in force by this); the
    running hub adds its cameras at once (``Sharing.sync``)."""
    submission, _ = await store.submission(submission_id)
    if submission.state != SubmissionState.PENDING_APPROVAL:
        raise PartnerError(f"submission {submission_id} is {submission.state.value}: only one pending approval "
                           "is approved")
    agreement = await store.current(submission.partner_id)
    if agreement.state == AgreementState.PENDING_APPROVAL:  # approving its first device puts it in force
        agreement = await store.move(agreement.id, AgreementState.ACTIVE, who.id,
                                     f"approved with device {submission.host}")
    if agreement.state != AgreementState.ACTIVE:
        raise PartnerError(f"the agreement of {submission.partner_id} is {agreement.state.value}: "
                           "a device is approved under an agreement in force")
    approved = await store.save_submission(submission.model_copy(update={
        "state": SubmissionState.APPROVED, "source": submission.source or f"partner-{submission.id}",
        "decided_at": utcnow(),
        "decided_by": who.id}))
    if running is not None:
        await running.sync()
    return approved


class Sharing:
    """Keeps the running hub's partner sources what the agreements say, every ``SYNC_SECONDS``:
    the approved devices of the partners whose agreement is active are in, the rest out (a
    suspension or termination, made here or with ``pantau partner`` in another process, takes the
    cameras out, their live views and recording with them; a resumption brings them back)."""

    SYNC_SECONDS = 1.5

    def __init__(self, context: HubContext, store: PartnerStore) -> None:
        self.context = context
        self.store = store
        self.vault = vault(context)
        #: The sources this plugin has in the hub now, by name.
        self.added: set[str] = set()
        #: Every camera a partner's device ever brought, camera id -> partner (for retention).
        self.owners: dict[str, str] = {}
        self._owners_read = False
        #: Each partner's latest agreement, ended ones included (for retention).
        self.latest: dict[str, Agreement] = {}
        self._lock = asyncio.Lock()
        #: The last agreement step written to the hub's audit log (kept in a file across restarts).
        self._mark = context.plugin_dir(PLUGIN) / "audited-steps"
        self._audited = int(self._mark.read_text() or 0) if self._mark.exists() else 0

    async def sync(self) -> None:
        async with self._lock:
            agreements = await self.store.agreements()  # oldest change first: the latest wins
            now = utcnow()
            for agreement in agreements:
                if agreement.state in (AgreementState.ACTIVE, AgreementState.SUSPENDED) \
                        and agreement.valid_until is not None and agreement.valid_until <= now:
                    await self.store.move(agreement.id, AgreementState.EXPIRED, "hub",
                                          f"valid until {agreement.valid_until.isoformat()}")
                    agreements = await self.store.agreements()
            POLICY.agreements = {a.partner_id: a for a in agreements
                                 if a.state not in (AgreementState.EXPIRED, AgreementState.TERMINATED)}
            POLICY.paused = set(await self.store.paused())
            self.latest = {a.partner_id: a for a in agreements}
            if not self._owners_read:  # only this process adds partner sources: read once, then kept here
                self.owners = await self.store.camera_owners()
                self._owners_read = True
            POLICY.unmasked = {c for c, partner in self.owners.items()
                               if (a := POLICY.agreements.get(partner)) is not None and a.uses.masks_required
                               and not self.context.privacy_masks(c)}
            await self._audit_steps()
            active = {a.partner_id for a in agreements if a.state == AgreementState.ACTIVE}
            approved = [s for s in await self.store.submissions(state=SubmissionState.APPROVED)
                        if s.partner_id in active]
            wanted = {s.source or f"partner-{s.id}": s for s in approved if s.type != DeviceType.EDGE}
            edges = {f"edge-{s.partner_id}": s.partner_id for s in approved if s.type == DeviceType.EDGE and (
                f"edge-{s.partner_id}" in self.added or (
                    (link := edge_city.LINKS.get(s.partner_id)) is not None and link.devices is not None))}
            for name in sorted(self.added - wanted.keys() - edges.keys()):
                self.added.discard(name)
                try:
                    await self.context.remove_source(name)
                except Exception as err:
                    log.warning("a partner's device could not be taken out", extra={"source": name,
                                                                                     "error": type(err).__name__})
                else:
                    log.info("a partner's device stopped sharing", extra={"source": name})
            for name, submission in wanted.items():
                if name not in self.added:
                    _, sealed = await self.store.submission(submission.id)
                    await self._join(name, submission.partner_id, _settings(
                        submission, self.vault.open(sealed), POLICY.agreements.get(submission.partner_id)))
            for name, partner in edges.items():
                if name not in self.added:
                    await self._join(name, partner, _terms({"type": "edge", "name": name, "partner": partner},
                                                           partner, POLICY.agreements.get(partner)))

    async def _join(self, name: str, partner: str, settings: dict[str, object]) -> None:
        """Add a partner's source to the hub and remember the cameras it brought (one partner's device
        that fails must not keep the others out)."""
        try:
            cameras = await self.context.add_source(settings)
        except Exception as err:
            log.warning("a partner's source could not be added", extra={"source": name, "error": type(err).__name__})
            return
        self.added.add(name)
        await self.store.remember_cameras(partner, name, [c.id for c in cameras])
        self.owners |= {c.id: partner for c in cameras}
        terms = POLICY.agreements.get(partner)
        if terms is not None and terms.uses.masks_required:  # nothing shown until their masks are set
            POLICY.unmasked |= {c.id for c in cameras if not self.context.privacy_masks(c.id)}

    def retention(self, camera_id: str) -> float | None:
        """The agreement's cap on how long a partner camera's recordings are kept, in days: its
        ``retention_days``; once the agreement is terminated and its grace period over, 0 (all go)."""
        partner = self.owners.get(camera_id)
        agreement = self.latest.get(partner) if partner else None
        if agreement is None:
            return None
        if agreement.state == AgreementState.TERMINATED and agreement.changed_at is not None \
                and utcnow() >= agreement.changed_at + timedelta(days=agreement.grace_days):
            return 0
        return agreement.uses.retention_days

    async def _audit_steps(self) -> None:
        """Write the agreements' new steps, whoever took them (the API, ``pantau partner`` in another
        process, the hub's expiry), to the hub's audit log, once each."""
        steps = await self.store.steps_after(self._audited)
        for step_id, step in steps:
            await self.context.audit(step.by, f"agreement_{step.to_state.value}", None, True,
                                     f"{step.agreement_id} ({step.from_state.value if step.from_state else 'new'}"
                                     f" -> {step.to_state.value}){': ' + step.note if step.note else ''}")
            self._audited = step_id
        if steps:
            self._mark.write_text(str(self._audited))

    async def run(self) -> None:
        while True:
            try:
                await self.sync()
            except Exception:
                log.exception("keeping the partners' devices in step with their agreements failed")
            await asyncio.sleep(self.SYNC_SECONDS)


#: The hub process's one ``Sharing`` (``hub_startup`` makes it; the routes use it).
running: Sharing | None = None
