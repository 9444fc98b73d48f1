"""The file formats ``tracker import --from`` reads, by name: each one module, whose reader
turns a file into entries (:class:`~tracker.service.formats.base.ParsedEntry`). A new format
is one new module here and its line below."""

from __future__ import annotations

from tracker.service.formats.base import Reader
from tracker.service.formats.epoch import read_epoch_file
from tracker.service.formats.tracker import read_export_file

FORMATS: dict[str, Reader] = {
    "tracker": read_export_file,  # what `tracker export` writes
    "epoch": read_epoch_file,  # Epoch AI's GPU clusters CSV (CC BY 4.0)
}
DESCRIPTIONS = {
    "tracker": "the export format",
    "epoch": "Epoch AI's GPU clusters CSV (CC BY 4.0)",
}
