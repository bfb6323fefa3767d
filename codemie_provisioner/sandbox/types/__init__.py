"""Per-type modules of the sandbox: each registers its `ResourceType`s (and custom routes) on import.

Why: other modules are added by different people at different times; discovering them with pkgutil means a
new `types/<domain>.py` is picked up without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_all() -> None:
    """Import every module in this package once."""
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
