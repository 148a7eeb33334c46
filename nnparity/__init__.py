"""nnparity's harness: comparison and tolerance policy, cases, the engine that runs
one case on the twin and on torch, records, report, gate and command line."""

__version__ = "0.1.0"
