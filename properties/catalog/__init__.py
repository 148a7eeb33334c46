"""The catalog: one Entry per torch.nn class, gathered from the family modules.

A family module (``core``, ``activations``, ``losses``, ...) defines ``ENTRIES``
(a list of :class:`nnparity.catalog.Entry`). Classes deliberately left out are in
``scope.py`` with a reason. Adding a family module means adding its name to
``FAMILIES``. The harness finds this module through ``[tool.nnparity] catalog`` in
pyproject.toml and reads ``CATALOG``, ``OUT_OF_SCOPE`` and ``NOT_YET``.
"""

from __future__ import annotations

import importlib

from nnparity.catalog import Entry

from .scope import NOT_YET, OUT_OF_SCOPE  # noqa: F401

FAMILIES = ("core", "activations", "adaptive", "losses", "classification", "ctc", "conv", "padding", "upsampling", "pooling",
            "norm", "dropout", "embedding", "distance", "simple", "lazy", "rnn", "attention", "models")


def _load() -> dict[str, Entry]:
    catalog: dict[str, Entry] = {}
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for entry in module.ENTRIES:
            if entry.name in catalog:
                raise ValueError(f"catalog: {entry.name} is defined twice (second time in {family})")
            catalog[entry.name] = entry
    return dict(sorted(catalog.items()))


CATALOG: dict[str, Entry] = _load()
