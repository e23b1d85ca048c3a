"""FormatError, raised for any sgns file (vectors, vocabulary, models,
phrases) that does not follow its format. A module of its own, without NumPy,
so that every reader can raise it without loading the others."""

from __future__ import annotations

import os


class FormatError(ValueError):
    """A vector or vocabulary file that does not follow the format.

    Attributes: path, position (byte offset or 1-based line, see `unit`).
    """

    def __init__(self, path, message: str, position: int | None = None, unit: str = "byte"):
        self.path = os.fsdecode(path)
        self.position = position
        where = f" at {unit} {position}" if position is not None else ""
        super().__init__(f"{self.path}{where}: {message}")
