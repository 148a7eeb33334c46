"""Loading the package under test (``impls`` by default, or ``--impl PACKAGE`` /
``NNPARITY_IMPL``). The harness reaches it only through the public contract."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

__all__ = ["Impl", "ImplError", "load_impl", "DEFAULT_IMPL", "IMPL_ENV"]

DEFAULT_IMPL = "impls"
IMPL_ENV = "NNPARITY_IMPL"


class ImplError(Exception):
    """The package under test cannot be used (missing, or without the contract)."""


@dataclass(frozen=True)
class Impl:
    name: str
    package: ModuleType

    @property
    def nn(self):
        return self.package.nn

    def vjp(self, *args, **kwargs):
        return self.package.vjp(*args, **kwargs)

    def has(self, class_name: str) -> bool:
        return isinstance(getattr(self.nn, class_name, None), type)

    @property
    def root(self) -> str:
        return os.path.dirname(os.path.abspath(self.package.__file__))


def load_impl(name: str | None = None) -> Impl:
    name = name or os.environ.get(IMPL_ENV) or DEFAULT_IMPL
    try:
        package = importlib.import_module(name)
    except ImportError as e:
        raise ImplError(f"cannot import the implementation package {name!r}: {e}") from None
    missing = [attr for attr in ("nn", "vjp") if not hasattr(package, attr)]
    if missing:
        raise ImplError(f"package {name!r} does not implement the nnparity contract: it lacks {', '.join(missing)} "
                        "(see README, 'The public contract')")
    return Impl(name, package)
