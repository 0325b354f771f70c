"""Lazy package exports: a package names what it offers without importing it up front.

`ggk --help` and every CLI command import all packages' `commands` modules, which import their
package first; with eager re-exports that pulled Polars, SQLAlchemy and httpx into every command
(about 2 s). A package's `__init__` instead declares `{name: module}` and gets a module-level
`__getattr__` that imports on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module `__getattr__` that imports `exports[name]` when `name` is first read."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
