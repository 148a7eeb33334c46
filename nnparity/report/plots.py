"""The report's plots: error headroom per class, timing ratios (PNG, matplotlib Agg)."""

from __future__ import annotations

import math
from pathlib import Path

from ..records import Record

__all__ = ["headroom_by_class", "headroom_plot", "timing_plot"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def headroom_by_class(records: list[Record]) -> list[dict]:
    """Worst headroom (observed / allowed error) per class and dtype over judged runs."""
    worst: dict = {}
    for r in records:
        if r.verdict not in ("pass", "fail") or r.headroom is None or r.problem:
            continue
        h = float(r.headroom)
        if math.isnan(h):
            continue
        key = (r.entry, r.dtype or "?")
        if key not in worst or h > worst[key]["headroom"]:
            worst[key] = {"class": r.entry, "dtype": r.dtype or "?", "headroom": h, "check": r.check,
                          "verdict": r.verdict, "arbitrated": bool(r.extra.get("arbitrated"))}
    return sorted(worst.values(), key=lambda d: (d["class"], d["dtype"]))


def headroom_plot(rows: list[dict], path: Path) -> bool:
    if not rows:
        return False
    plt = _plt()
    classes = sorted({r["class"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(classes) + 1.4), dpi=110)
    floor = 1e-4
    offsets = {"float32": -0.18, "float64": 0.18}
    colors = {"float32": "#1f77b4", "float64": "#ff7f0e"}
    for dtype in sorted({r["dtype"] for r in rows}):
        sub = [r for r in rows if r["dtype"] == dtype]
        y = [classes.index(r["class"]) + offsets.get(dtype, 0) for r in sub]
        x = [max(r["headroom"], floor) for r in sub]
        ax.barh(y, x, height=0.34, color=colors.get(dtype, "#888"), label=dtype, left=0)
        for yi, r in zip(y, sub):
            if r["headroom"] > 1:
                ax.text(max(r["headroom"], floor) * 1.1, yi, "arbitrated" if r["arbitrated"] else "FAIL",
                        va="center", fontsize=7, color="#b00" if not r["arbitrated"] else "#555")
    ax.axvline(1.0, color="#b00", lw=1, ls="--")
    ax.text(1.0, -0.9, " allowed", color="#b00", fontsize=8, va="center")
    ax.set_xscale("log")
    ax.set_xlim(floor, max(10.0, max(r["headroom"] for r in rows) * 5))
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_ylim(len(classes) - 0.5, -1.3)
    ax.set_xlabel(f"worst headroom = |error| / allowed (log; <= 1 passes; values below {floor:g} drawn at {floor:g})")
    ax.set_title("Error headroom per module (worst over all checks and runs)", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def timing_plot(timing_json: dict, path: Path) -> bool:
    rows = [r for r in timing_json["rows"] if r["fwd_ratio"] or r["fwdbwd_ratio"]]
    if not rows:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.4), dpi=110)
    y = list(range(len(rows)))
    ax.barh([v - 0.18 for v in y], [r["fwd_ratio"] or 0 for r in rows], height=0.34, label="forward", color="#9ecae1")
    ax.barh([v + 0.18 for v in y], [r["fwdbwd_ratio"] or 0 for r in rows], height=0.34, label="forward+backward",
            color="#3182bd")
    ax.axvline(1.0, color="#333", lw=0.8)
    ax.axvline(timing_json["targets"]["geomean_fwdbwd_max"], color="#e6550d", lw=1, ls="--", label="geomean target 1.5x")
    ax.axvline(timing_json["targets"]["per_class_fwdbwd_max"], color="#b00", lw=1, ls="--", label="per-class limit 4x")
    ax.set_xscale("log")
    ax.set_yticks(y, [r["class"] for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("twin time / torch-CPU time (fastest round; log scale; < 1: the twin is faster)")
    ax.set_title("Timing ratio twin / torch (CPU) at each benchmark shape", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
