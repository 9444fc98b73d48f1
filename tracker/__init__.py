"""The sovereign-AI capacity tracker: AI accelerators announced, planned and online, by country
and vendor, each figure with its source.

As a library::

    import tracker
    with tracker.open("sqlite:///my.db") as t:
        t.summary(region="europe").rows

``open``, ``Tracker``, ``Table`` and ``TrackerWarning`` are loaded on first use, so that the
``tracker`` command's ``--help`` does not load the database layer (see :mod:`tracker.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from tracker.api import Tracker, TrackerWarning, open
    from tracker.service.tables import Table

_LAZY = {
    "open": "tracker.api",
    "diff": "tracker.api",
    "Tracker": "tracker.api",
    "TrackerWarning": "tracker.api",
    "Table": "tracker.service.tables",
}
__all__ = ["Table", "Tracker", "TrackerWarning", "__version__", "diff", "open"]


# Submodules a notebook reaches as attributes (``tracker.errors.InvalidValue``), loaded then.
_SUBMODULES = ("api", "errors")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"tracker.{name}")
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})
