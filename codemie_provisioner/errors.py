"""Errors the user is meant to read.

Why: every expected failure (a bad spec, a held lock, an Azure refusal) must reach the user as one line that
says where and what, while unexpected ones keep their traceback. `ProvisionerError` marks the expected kind,
so the CLI can print `str(err)` for those and nothing else; each part subclasses it.
"""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base of every error the CLI reports as a single line."""


class SpecError(ProvisionerError):
    """A problem in a spec, located at a file, a line and a field path.

    str() is always one line: `file:line: field: message` (the field part is left out when empty).
    """

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = _one_line(str(file))
        self.line = int(line)
        self.field = _one_line(field)
        self.message = " ".join(str(message).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
