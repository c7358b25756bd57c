"""qcmcp: a Model Context Protocol server for the QuantConnect platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qcmcp")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"
