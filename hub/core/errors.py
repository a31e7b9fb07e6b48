"""The one exception tree of Pantau Hub.

Every error the hub raises on purpose is a ``HubError``, so a caller can catch
the hub's failures without catching programming mistakes::

    HubError
    ├── ConfigError            hub.yaml or a plugin option is wrong (exit code 2)
    ├── PluginError            a plugin failed to load or broke a hook contract
    ├── DeviceError            a camera, NVR or partner device misbehaved
    │   ├── DeviceNotReady     unreachable, timed out, busy: retry later
    │   ├── DeviceAuthFailed   credentials refused: retrying will not help
    │   └── DeviceUnsupported  the device lacks the capability asked for
    ├── StorageError           a storage backend could not read, write or delete
    │   └── StorageKeyTaken    an object is stored under that key already (never replaced)
    ├── NotifyError            a notifier could not deliver (the outbox retries)
    ├── AccessDenied           the policy engine refused an action
    ├── LimitReached           a principal holds as much of something as it may (live views)
    ├── InvalidInput           what was asked cannot be done so (a bad grant, a short password)
    ├── Gone                   it existed, and may not be used any more (a used invitation)
    └── NotFound               an inventory item or recording does not exist

Messages name what failed (host and port, camera id, storage key) and never
carry a password, a token or a URL with credentials in it: they end up in
logs and API responses.  Library errors are translated at the edge with
``raise ... from err`` so the cause stays available to a debugger.

Every class has a stable ``code`` (``device_not_ready``, ``access_denied``,
...) and a ``title``: the API answers with them as ``application/problem+json``
(RFC 9457), and a page translates by code, never by the English message.
A subclass of a plugin's own inherits its parent's code unless it sets one.
"""

from __future__ import annotations


class HubError(Exception):
    """Base class of every error Pantau Hub raises on purpose."""

    code = "hub_error"
    title = "The hub could not do it"


class ConfigError(HubError):
    """The configuration is invalid.

    ``problems`` holds one ``ConfigProblem`` per finding so the CLI can print
    them all as ``FILE:LINE: key.path: message``.
    """

    code = "config_invalid"
    title = "The configuration is invalid"

    def __init__(self, problems: list[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem(file=None, line=None, path="", message=problems)]
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))


class ConfigProblem:
    """One finding in a configuration file, with where it was found."""

    __slots__ = ("file", "line", "path", "message")

    def __init__(self, file: str | None, line: int | None, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.path = path
        self.message = message

    def format(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        key = self.path or "(top level)"
        return f"{where}: {key}: {self.message}"

    def __repr__(self) -> str:
        return f"ConfigProblem({self.format()!r})"


class PluginError(HubError):
    """A plugin could not be loaded or broke a hook's contract."""

    code = "plugin_failed"
    title = "A plugin failed"


class DeviceError(HubError):
    """A device (camera, NVR, DVR, partner link) failed."""

    code = "device_error"
    title = "The device failed"


class DeviceNotReady(DeviceError):
    """The device is unreachable, slow or busy; the hub retries with backoff."""

    code = "device_not_ready"
    title = "The device is not reachable now"


class DeviceAuthFailed(DeviceError):
    """The device refused the configured credentials; retrying will not help."""

    code = "device_auth_failed"
    title = "The device refused the credentials"


class DeviceUnsupported(DeviceError):
    """The device does not offer the capability that was asked for."""

    code = "device_unsupported"
    title = "The device cannot do that"


class StorageError(HubError):
    """A storage backend could not complete an operation."""

    code = "storage_error"
    title = "Storage failed"


class StorageKeyTaken(StorageError):
    """An object is stored under the key already: a write replaces one only when told to.

    A recording segment is written once; a second segment under the same key
    would silently take the first one's place and leave its index row pointing
    at other footage.
    """

    code = "storage_key_taken"
    title = "An object is stored under that key already"


class NotifyError(HubError):
    """A notifier could not deliver a message; the outbox will retry it."""

    code = "notify_failed"
    title = "A notification could not be delivered"


class AccessDenied(HubError):
    """The policy engine refused an action to a principal."""

    code = "access_denied"
    title = "Access denied"

    def __init__(self, message: str = "", *, audited: bool = False) -> None:
        super().__init__(message)
        #: The refusal is in the audit log already (the HTTP guard writes the others).
        self.audited = audited


class LimitReached(HubError):
    """A principal already holds as much of something as it may (live views, say)."""

    code = "limit_reached"
    title = "Limit reached"


class InvalidInput(HubError):
    """What a user, a script or a partner asked for cannot be done so; the message says what to change."""

    code = "invalid_input"
    title = "The request cannot be done so"


class Gone(HubError):
    """It existed and may not be used any more (an invitation used or expired)."""

    code = "gone"
    title = "No longer available"


class NotFound(HubError):
    """The camera, device or recording asked for does not exist."""

    code = "not_found"
    title = "Not found"
