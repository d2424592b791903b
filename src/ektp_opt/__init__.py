"""ektp-opt: plan citywide e-KTP enrolment campaigns with CP-SAT and prove how good the plan is."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ektp-opt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
