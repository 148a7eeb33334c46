"""The reviewed allowlist: known discrepancies the CI gate tolerates.

The allowlist is TOML, one ``[[allow]]`` table per entry::

    [[allow]]
    class  = "GELU"          # exact torch.nn class name
    check  = "gradients"     # a check kind, or "*"
    dtype  = "float32"       # "float32", "float64" or "*"
    device = "*"             # "cpu", "cuda" or "*"
    mode   = "*"             # optional: "train", "eval" or "*" (default "*")
    example = "*"            # optional: a fixed example id, "" for fuzzed runs, or "*" (default "*")
    reason = "torch's tanh approximation rounds differently at |x| > 10 (twin within the oracle's tolerance)"
    link   = "https://github.com/org/nnparity/issues/12"

A malformed allowlist is a usage error (exit 2) that names the file and line.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .records import Record
from .vocab import CHECK_KINDS, DEVICES, DTYPES, MODES, torch_nn_classes

__all__ = ["AllowEntry", "AllowlistError", "load_allowlist", "parse_allowlist"]

REQUIRED = ("class", "check", "dtype", "device", "reason", "link")
OPTIONAL = ("mode", "example")


class AllowlistError(ValueError):
    """A malformed allowlist; the message names the file and line."""


@dataclass(frozen=True)
class AllowEntry:
    cls: str
    check: str
    dtype: str
    device: str
    reason: str
    link: str
    mode: str = "*"
    example: str = "*"
    line: int = 0

    def scope(self) -> str:
        parts = [f"{self.cls} {self.check}", f"dtype={self.dtype}", f"device={self.device}"]
        if self.mode != "*":
            parts.append(f"mode={self.mode}")
        if self.example != "*":
            parts.append(f"example={self.example!r}")
        return " ".join(parts)

    def covers(self, rec: Record) -> bool:
        return (rec.entry == self.cls
                and (self.check == "*" or rec.check == self.check)
                and fnmatch.fnmatchcase(rec.dtype or "", self.dtype)
                and fnmatch.fnmatchcase(rec.device or "", self.device)
                and fnmatch.fnmatchcase(rec.mode or "", self.mode)
                and (self.example == "*" or (rec.example or "") == self.example))


def _entry_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*allow\s*\]\]", line)]


def _key_line(text: str, start: int, key: str) -> int:
    """The line of ``key = ...`` inside the [[allow]] table that starts at line ``start``."""
    lines = text.splitlines()
    for i in range(start, len(lines)):  # index ``start`` is the line after the header
        if re.match(r"\s*\[", lines[i]):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


def parse_allowlist(text: str, path: str = "allowlist.toml", known_classes=None) -> list[AllowEntry]:
    """Parse and validate; raise :class:`AllowlistError` naming ``path:line``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise AllowlistError(f"{path}:{m.group(1) if m else '?'}: not valid TOML: {e}") from None
    extra = [k for k in data if k != "allow"]
    if extra:
        line = next((i for i, l in enumerate(text.splitlines(), 1) if re.match(rf"\s*\[?\s*{re.escape(extra[0])}\b", l)), "?")
        raise AllowlistError(f"{path}:{line}: unknown top-level key {extra[0]!r}; entries are [[allow]] tables")
    items = data.get("allow", [])
    if not isinstance(items, list):
        raise AllowlistError(f"{path}:?: 'allow' must be an array of tables, written [[allow]]")
    starts = _entry_lines(text)
    if known_classes is None:
        known_classes = set(torch_nn_classes())
    out = []
    for i, item in enumerate(items):
        start = starts[i] if i < len(starts) else 0
        where = f"{path}:{start}"
        if not isinstance(item, dict):
            raise AllowlistError(f"{where}: entry #{i + 1} is not a table")
        for key in item:
            if key not in REQUIRED + OPTIONAL:
                raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: unknown key {key!r} "
                                     f"(allowed: {', '.join(REQUIRED + OPTIONAL)})")
        for key in REQUIRED:
            if key not in item:
                raise AllowlistError(f"{where}: entry #{i + 1} ([[allow]] at line {start}) lacks {key!r}; "
                                     f"every entry needs {', '.join(REQUIRED)}")
        for key in REQUIRED + OPTIONAL:
            if key in item and (not isinstance(item[key], str) or (key != "example" and not item[key].strip())):
                raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: {key!r} must be a "
                                     f"non-empty string, got {item[key]!r}")

        def bad(key, allowed):
            raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: {key} {item[key]!r} is not one "
                                 f"of {', '.join(allowed)}")

        if item["class"] not in known_classes:
            import difflib

            close = difflib.get_close_matches(item["class"], sorted(known_classes), n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise AllowlistError(f"{path}:{_key_line(text, start, 'class')}: entry #{i + 1}: class {item['class']!r} "
                                 f"is not a torch.nn class (names are exact, e.g. 'BatchNorm1d'){hint}")
        if item["check"] not in CHECK_KINDS + ("*",):
            bad("check", CHECK_KINDS + ("*",))
        if item["dtype"] not in DTYPES + ("*",):
            bad("dtype", DTYPES + ("*",))
        if item["device"] not in DEVICES + ("*",):
            bad("device", DEVICES + ("*",))
        if item.get("mode", "*") not in MODES + ("*",):
            bad("mode", MODES + ("*",))
        out.append(AllowEntry(item["class"], item["check"], item["dtype"], item["device"], item["reason"].strip(),
                              item["link"].strip(), item.get("mode", "*"), item.get("example", "*"), start))
    return out


def load_allowlist(path) -> list[AllowEntry]:
    path = Path(path)
    if not path.exists():
        raise AllowlistError(f"{path}: no such allowlist file")
    return parse_allowlist(path.read_text(encoding="utf-8"), str(path))


