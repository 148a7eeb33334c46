"""Failure messages that read like bug reports, naming what was compared with what."""

from __future__ import annotations

from .case import Case
from .compare import Comparison

__all__ = ["format_failure", "headline"]

#: What each check kind compares, for the first line of its messages.
_SUBJECTS = {
    "gradcheck": "the twin's backward disagrees with finite differences of the twin's own forward (float64; torch plays no part)",
    "cuda_vs_cpu": "torch on CUDA disagrees with torch on CPU (the twin plays no part)",
}


def headline(name: str, check: str, case: Case | None = None) -> str:
    what = _SUBJECTS.get(check, f"the twin disagrees with torch.nn.{name}")
    where = f" ({case.dtype}, {case.device}, {case.mode} mode)" if case is not None else ""
    return f"{name} {check}: {what}{where}"


def _fmt(v) -> str:
    return "None" if v is None else f"{v:.9g}"


def format_failure(name: str, check: str, case: Case, bad: list[Comparison], test_id: str = "") -> str:
    lines = [headline(name, check, case)]
    for c in bad[:6]:
        where = f"{c.what}{list(c.worst_index) if c.worst_index is not None else ''}"
        values = (f"{c.subject} {_fmt(c.subject_value)}, {c.reference} {_fmt(c.reference_value)}"
                  if c.subject_value is not None or c.reference_value is not None else "")
        if c.problem:
            lines.append(f"  {where}: {c.problem}" + (f" ({values})" if values else ""))
            continue
        line = f"  {where}: {values}"
        if c.oracle_value is not None:
            line += f"; float64 oracle {_fmt(c.oracle_value)}: {c.blame}"
        lines.append(line)
        bound = c.extra.get("bound") or f"allowed |err| <= {c.tol.atol:g} + {c.tol.rtol:g}*|{c.reference}|"
        lines.append(f"      max abs err {c.max_abs:.3g}, max rel err {c.max_rel:.3g}; {bound} ({c.tol.reason}); "
                     f"headroom {c.headroom:.3g} (> 1 fails)")
        if c.extra.get("oracle_error"):
            lines.append(f"      {c.extra['oracle_error']}")
    if len(bad) > 6:
        lines.append(f"  ... and {len(bad) - 6} more array(s) differ")
    lines.append(f"  case: {case.summary()}")
    if test_id:
        lines.append(f"  rerun: pytest '{test_id}' (the example database replays the shrunk case first)")
    return "\n".join(lines)
