"""Per-type modules of the sandbox: each registers its `ResourceType`s (and custom routes) on import.

Why: other modules are added by different people at different times; discovering them with pkgutil means a
new `types/<domain>.py` is picked up without touching this file, and a module that cannot be imported yet
(it needs a sibling that does not exist) leaves its types unregistered instead of breaking every sandbox. Such
failures are kept in `LOAD_ERRORS` and named in the sandbox's NoRegisteredProviderFound answers.
"""

from __future__ import annotations

import importlib
import pkgutil

LOAD_ERRORS: dict[str, str] = {}
_loaded = False


def load_all() -> None:
    """Import every module in this package once."""
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except ImportError as err:
            LOAD_ERRORS[info.name] = f"{type(err).__name__}: {err}"
    _loaded = True
