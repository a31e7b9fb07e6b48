"""Pantau Hub: a plugin-based integration hub for city CCTV.

Plugin authors need only ``from hub import hookimpl``.
"""

from importlib.metadata import PackageNotFoundError, version

from hub.core.hookspecs import hookimpl

try:
    __version__ = version("pantau-hub")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "hookimpl"]
