"""Pantau Hub: a plugin-based integration hub for city CCTV.

This module is the public surface for plugin authors: everything a plugin
may import from the hub is here (``__all__``), besides the device helpers in
``hub.devices`` and the test kit in ``hub.testing``.  The rest of the hub
(``hub.app``, the stream graph, the outbox, the store) may change under a
plugin between releases; these names keep their meaning.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from hub.access.schedule import Schedule, ScheduleError
from hub.commands import (
    LocalCameras,
    ask_hub,
    cli_principal,
    config_option,
    data_dir_option,
    fail_on_errors,
    local_cameras,
    open_database,
)
from hub.core.context import HubContext, SharedLinks, SqlDatabase, request_context, request_principal
from hub.core.errors import (
    AccessDenied,
    ConfigError,
    DeviceAuthFailed,
    DeviceError,
    DeviceNotReady,
    DeviceUnsupported,
    Gone,
    HubError,
    InvalidInput,
    LimitReached,
    NotFound,
    NotifyError,
    PluginError,
    StorageError,
    StorageKeyTaken,
)
from hub.core.hookspecs import (
    RegisterAccessPolicy,
    RegisterJob,
    RegisterMigrations,
    RegisterNotifier,
    RegisterRoutes,
    RegisterSourceType,
    RegisterStorageBackend,
    hookimpl,
)
from hub.core.models import (
    Action,
    Area,
    AreaPath,
    Camera,
    CameraStatus,
    Device,
    DeviceInventory,
    DeviceKind,
    DiscoveredDevice,
    Duration,
    Event,
    EventKind,
    EventState,
    HubModel,
    Location,
    Principal,
    PrivacyMask,
    PtzAction,
    PtzCommand,
    PtzPreset,
    Role,
    Site,
    Stream,
    StreamRole,
    camera_id,
    format_duration,
    utcnow,
)
from hub.core.notify import Notifier, NotifierConfig, PartlyDelivered
from hub.core.policy import AccessPolicy, Decision, Reach, Resource
from hub.core.retry import Backoff, backoff_delay
from hub.core.selectors import CameraIndex, selects_any
from hub.core.sources import CameraSource, MediaInput, SourceConfig, SourceContext, UrlMediaInput
from hub.core.storage import StorageBackend, StorageConfig, StorageUsage, check_key
from hub.http.problems import responses as problem_responses
from hub.store.database import UTCDateTime

if TYPE_CHECKING:
    from hub.http.auth import websocket_principal
    from hub.web.pages import PluginPages


def __getattr__(name: str) -> Any:
    """The parts of the surface that pull in the web stack, imported when first used (every
    ``pantau`` command imports ``hub``; most never need them)."""
    if name == "PluginPages":
        from hub.web.pages import PluginPages

        return PluginPages
    if name == "websocket_principal":
        from hub.http.auth import websocket_principal

        return websocket_principal
    raise AttributeError(f"module 'hub' has no attribute {name!r}")


try:
    __version__ = version("pantau-hub")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AccessDenied", "AccessPolicy", "Action", "Area", "AreaPath", "Backoff", "Camera", "CameraIndex", "CameraSource",
    "CameraStatus", "ConfigError", "Decision", "Device", "DeviceAuthFailed", "DeviceError", "DeviceInventory",
    "DeviceKind", "DeviceNotReady", "DeviceUnsupported", "DiscoveredDevice", "Duration", "Event", "EventKind",
    "EventState", "Gone", "HubContext", "HubError", "HubModel", "InvalidInput", "LimitReached", "LocalCameras",
    "Location", "MediaInput", "NotFound", "Notifier", "NotifierConfig", "NotifyError", "PartlyDelivered",
    "PluginPages", "PluginError", "Principal", "PrivacyMask", "PtzAction", "PtzCommand", "PtzPreset", "Reach",
    "RegisterAccessPolicy", "RegisterJob", "RegisterMigrations", "RegisterNotifier", "RegisterRoutes",
    "RegisterSourceType", "RegisterStorageBackend", "Resource", "Role", "Schedule", "ScheduleError", "SharedLinks",
    "Site", "SourceConfig", "SourceContext", "SqlDatabase", "StorageBackend", "StorageConfig", "StorageError",
    "StorageKeyTaken", "StorageUsage", "Stream", "StreamRole", "UTCDateTime", "UrlMediaInput", "ask_hub",
    "backoff_delay", "camera_id", "check_key", "cli_principal", "config_option", "data_dir_option", "fail_on_errors",
    "format_duration", "hookimpl", "local_cameras", "open_database", "problem_responses", "request_context",
    "request_principal", "selects_any", "utcnow", "websocket_principal", "__version__",
]
