"""Partners, their partnership agreements and the steps an agreement goes through.

A partner is an organisation that owns cameras (a shop, a telecom tower's
owner, a building, a school) and connects them to the city under an
agreement (Semarang's Perwal 5/2019, Jakarta's Pergub 238/2015).  The
agreement says which cameras, from when until when, under which signed
document, who is controller and who processor (UU PDP art. 51), and what the
city may do with them (``PermittedUses``).  It moves through
``draft -> submitted -> validating -> pending_approval -> active``, may be
``suspended`` and made ``active`` again, and ends ``expired`` or
``terminated``; each step is kept with who took it, when and why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from hub import HubModel, Location


class PartnerKind(StrEnum):
    SHOP = "shop"
    TOWER = "tower"
    BUILDING = "building"
    SCHOOL = "school"
    OTHER = "other"


class Contact(HubModel):
    name: str = Field(max_length=200, description="Who to call about the cameras.")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)


class Partner(HubModel):
    """An organisation whose own cameras are connected to the city."""

    id: str = Field(description="Partner id (lower-case letters, digits, '-'): e.g. 'menara-jaya'.")
    name: str = Field(description="The organisation's name.")
    kind: PartnerKind
    contacts: list[Contact] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list, description=(
        "Private networks (CIDR) registered for the partner, e.g. the city VPN range its devices sit in: "
        "a device address in a private range is accepted only inside one of these."))
    created_at: datetime
    created_by: str


class AgreementState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATING = "validating"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    TERMINATED = "terminated"


#: Which state may follow which.  Expired and terminated are the end.
STEPS: dict[AgreementState, set[AgreementState]] = {
    AgreementState.DRAFT: {AgreementState.SUBMITTED, AgreementState.TERMINATED},
    AgreementState.SUBMITTED: {AgreementState.VALIDATING, AgreementState.DRAFT, AgreementState.TERMINATED},
    AgreementState.VALIDATING: {AgreementState.PENDING_APPROVAL, AgreementState.DRAFT, AgreementState.TERMINATED},
    AgreementState.PENDING_APPROVAL: {AgreementState.ACTIVE, AgreementState.DRAFT, AgreementState.TERMINATED},
    AgreementState.ACTIVE: {AgreementState.SUSPENDED, AgreementState.EXPIRED, AgreementState.TERMINATED},
    AgreementState.SUSPENDED: {AgreementState.ACTIVE, AgreementState.EXPIRED, AgreementState.TERMINATED},
    AgreementState.EXPIRED: set(),
    AgreementState.TERMINATED: set(),
}


class AreaHeads(StrEnum):
    NONE = "none"
    LIVE = "live"
    PLAYBACK = "playback"


class PermittedUses(HubModel):
    """What the city may do with the partner's cameras under the agreement."""

    public_portal: bool = Field(default=False, description="Shown on the public portal (its scene approved too).")
    city_live: bool = Field(default=True, description="The city's operators watch live.")
    area_heads: AreaHeads = Field(default=AreaHeads.NONE, description="Area heads (RT/RW): none, live, or "
                                                                      "live and playback.")
    evidence_on_request: bool = Field(default=True, description="Recordings only on an approved evidence request.")
    sharing_hours: str | None = Field(default=None, max_length=300, description=(
        "Weekly hours the cameras are shared, e.g. 'mon-sun 18:00-23:59,mon-sun 00:00-06:00'; none: always."))
    time_zone: str = Field(default="Asia/Jakarta", description="Zone of the sharing hours.")
    retention_days: int | None = Field(default=None, ge=1, le=3650, description="Recordings kept at most this long.")
    substream_only: bool = Field(default=True, description="Only the substream leaves the partner's link.")
    max_sessions: int | None = Field(default=None, ge=1, le=64, description="At most this many streams at once.")
    max_kbps: int | None = Field(default=None, ge=64, le=100_000, description="At most this bit rate per stream.")
    masks_required: bool = Field(default=False, description="Privacy masks must be set before any picture "
                                                            "leaves the hub.")


class Agreement(HubModel):
    """A partnership agreement: its terms and where it stands."""

    id: str
    partner_id: str
    state: AgreementState
    document: str = Field(description="Reference of the signed document (number, date).")
    controller: str = Field(description="The personal-data controller (UU PDP art. 51), e.g. the city.")
    processor: str = Field(description="The processor, e.g. the partner.")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    uses: PermittedUses = Field(default_factory=PermittedUses)
    grace_days: int = Field(default=30, ge=0, le=3650, description="After termination, recordings kept this long.")
    created_at: datetime
    created_by: str
    changed_at: datetime | None = Field(default=None, description="When it last changed state (for a "
                                                                  "terminated one: when it ended).")


class AgreementStep(HubModel):
    """One step of an agreement's life: from, to, who, when, why."""

    agreement_id: str
    at: datetime
    by: str
    from_state: AgreementState | None
    to_state: AgreementState
    note: str | None = None


class DeviceType(StrEnum):
    """The kinds of device a partner may submit (the hub's vendor plugins that probe them)."""

    HIKVISION = "hikvision"
    DAHUA = "dahua"
    ONVIF = "onvif"
    RTSP = "rtsp"  # a camera known only by its RTSP path
    EDGE = "edge"  # the cameras a partner's edge carries (its first hello submits them; never by hand)


#: The scheme each device type's API is reached over (the address rules' port list).
DEVICE_SCHEMES: dict[DeviceType, str] = {DeviceType.HIKVISION: "http", DeviceType.DAHUA: "http",
                                         DeviceType.ONVIF: "http", DeviceType.RTSP: "rtsp", DeviceType.EDGE: "wss"}
#: Each type's port when the partner names none.
DEFAULT_PORTS: dict[DeviceType, int] = {DeviceType.HIKVISION: 80, DeviceType.DAHUA: 80, DeviceType.ONVIF: 80,
                                        DeviceType.RTSP: 554, DeviceType.EDGE: 0}


class SubmissionState(StrEnum):
    REFUSED = "refused"  # validation failed: the reason says why; nothing was added
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"  # its cameras are in the inventory
    WITHDRAWN = "withdrawn"  # taken out again (suspension, termination, the partner's own switch)


class Submission(HubModel):
    """A device a partner submitted, what validation found, and what became of it."""

    id: str
    partner_id: str
    type: DeviceType
    host: str = Field(description="As the partner wrote it.")
    port: int
    address: str | None = Field(default=None, description="The address the host was pinned to.")
    username: str
    site: str | None = None
    rtsp_port: int | None = Field(default=None, description="The device's RTSP port, when not 554.")
    path: str | None = Field(default=None, description="An RTSP camera's stream path (and query).")
    sub_path: str | None = Field(default=None, description="An RTSP camera's substream path.")
    location: Location | None = Field(default=None, description="Where the device's cameras stand.")
    area: str | None = Field(default=None, description="The area (path in hub.yaml) its cameras watch.")
    state: SubmissionState
    reason: str | None = Field(default=None, description="Why validation refused it, or a note.")
    reason_code: str | None = Field(default=None, description=(
        "What kind of refusal (address, credentials, unreachable, elsewhere, no_cameras, stream_cap, clock, area, "
        "location): the partner's page says it in the reader's language."))
    found: list[str] = Field(default_factory=list, description="The cameras the probe found, by name.")
    source: str | None = Field(default=None, description="The hub's source name once approved.")
    submitted_at: datetime
    submitted_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    checks: list[str] = Field(default_factory=list, description="What validation checked and found, in order.")


class RegisteredCamera(HubModel):
    """A partner's camera registered without sharing its video: where it is, where it looks, whom to
    ask (an evidence request can name it; an investigator asks the partner for the footage)."""

    id: str = Field(description="'partner:<partner>:<n>'.")
    partner_id: str
    name: str = Field(max_length=200)
    location: Location
    direction: float | None = Field(default=None, ge=0, lt=360, description="Viewing direction, degrees from north.")
    area: str | None = Field(default=None, max_length=200)
    contact: Contact | None = None
    note: str | None = Field(default=None, max_length=500, description="E.g. how long the owner keeps footage.")
    registered_at: datetime
    registered_by: str
