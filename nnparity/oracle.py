"""The float64 oracle's arbitration (DESIGN.md, Tolerances).

torch in float32 is the reference, and torch in float64 on the same (upcast) case
is the truth it approximates. For each failing float32 value comparison (values,
not structure) the oracle's value at the worst element, and which side is further
from it, are filled in. The twin is then accepted only when it is within the same
tolerance of the oracle over the whole array: it is correct, and the two float32
results differ by rounding (an ill-conditioned spot), or torch is the less accurate
side. Accepted comparisons stay visible in the records as ``extra['arbitrated']``,
with both sides' headroom against the oracle.

The oracle is advisory: when torch fails on the float64 case, the failure is kept
on the comparisons it could not arbitrate (``extra['oracle_error']``), never
swallowed, and the verdict stands as judged against torch-float32.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from .compare import Comparison, compare

__all__ = ["arbitrate"]


def arbitrate(comparisons: list[Comparison], oracle: Callable[[], dict | None], twin: dict, ref: dict) -> list[Comparison]:
    failing = [c for c in comparisons if not c.ok and c.problem is None and c.worst_index is not None]
    if not failing:
        return comparisons
    try:
        arrays = oracle()
    except Exception as e:  # recorded below, on every comparison it could not arbitrate
        note = f"the float64 oracle could not run: {type(e).__name__}: {e}"
        return [replace(c, extra={**c.extra, "oracle_error": note}) if c in failing else c for c in comparisons]
    if not arrays:
        return comparisons
    out = []
    for c in comparisons:
        if c in failing and arrays.get(c.what) is not None:
            o, t, r = arrays[c.what], twin.get(c.what), ref.get(c.what)
            c = c.with_oracle(o, t, r)
            twin_vs_oracle = compare(c.what, t, o, c.tol, check_dtype=False)
            torch_vs_oracle = compare(c.what, r, o, c.tol, check_dtype=False)
            if twin_vs_oracle.ok:
                c = replace(c, ok=True, extra={**c.extra, "arbitrated": True,
                                                "twin_vs_oracle_headroom": twin_vs_oracle.headroom,
                                                "torch_vs_oracle_headroom": torch_vs_oracle.headroom})
        out.append(c)
    return out
