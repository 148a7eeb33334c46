"""nnparity's harness: the vocabulary, the catalog's types, cases, comparison and
tolerance policy, the engine that runs one case on the twin and on torch, the check
kinds, records, the report, the gate and the command line (README, Layout)."""

from pathlib import Path

__version__ = "0.2.0"

#: The checkout this package runs from (pyproject.toml, conftest.py, properties/, bench/).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
