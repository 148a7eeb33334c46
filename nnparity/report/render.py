"""Rendering: the Jinja templates (REPORT.md, the self-contained index.html)."""

from __future__ import annotations

import base64
import math
from pathlib import Path

__all__ = ["render", "data_uri", "TEMPLATES"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _fmt(v, spec=".3g") -> str:
    import jinja2

    if v is None or isinstance(v, jinja2.Undefined):
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def render(name: str, **context) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=name.endswith(".html.j2"),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
    env.filters["fmt"] = _fmt
    env.filters["mdcell"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env.get_template(name).render(**context)
