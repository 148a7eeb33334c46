"""A Case: one drawn configuration, with everything needed to run it again.

Cases serialise to JSON exactly (floats as ``float.hex``, so NaN, inf and -0.0
survive) for records, reports and standalone repro scripts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["Case", "encode", "decode"]


@dataclass
class Case:
    entry: str
    kwargs: dict
    args: tuple
    fkwargs: dict = field(default_factory=dict)
    dtype: str = "float32"
    device: str = "cpu"
    mode: str = "train"
    seed: int = 0
    label: str = ""  # a fixed example's id, or '' for a drawn case
    layout: str = "batched"
    method: str = ""  # a module method called instead of the module itself ('' for forward)
    state: str = "init"  # the parameter regime: 'init' (torch's own initialisation) or 'large' (N(0, 1))

    def to_json(self) -> str:
        return json.dumps(encode(asdict(self)), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Case":
        data = decode(json.loads(text))
        data["args"] = tuple(data["args"])
        return cls(**data)

    def summary(self) -> str:
        """One line for messages: kwargs and input shapes/dtypes."""
        def desc(x):
            if isinstance(x, np.ndarray):
                return f"{x.dtype}{list(x.shape)}" + ("" if x.flags.c_contiguous or x.size <= 1 else " non-contiguous")
            if isinstance(x, (tuple, list)):
                return "(" + ", ".join(desc(v) for v in x) + ")"
            return repr(x)
        call = f"{self.entry}(**{self.kwargs!r})" + (f".{self.method}" if self.method else "")
        parts = [call, "inputs " + ", ".join(desc(a) for a in self.args)]
        if self.fkwargs:
            parts.append("forward kwargs " + ", ".join(f"{k}={desc(v)}" for k, v in self.fkwargs.items()))
        parts.append(f"{self.dtype}, {self.device}, {self.mode} mode, {self.state} parameters, seed {self.seed}")
        if self.label:
            parts.insert(0, f"[{self.label}]")
        return "; ".join(parts)


def encode(x):
    """JSON-safe form of nested arrays, tuples and scalars."""
    if isinstance(x, np.ndarray):
        if np.issubdtype(x.dtype, np.floating):
            values = [float(v).hex() for v in x.reshape(-1)]
        else:
            values = x.reshape(-1).tolist()
        return {"__ndarray__": str(x.dtype), "shape": list(x.shape), "values": values,
                "contiguous": bool(x.flags.c_contiguous or x.size <= 1)}
    if isinstance(x, np.generic):
        return encode(np.asarray(x))
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, dict):
        return {str(k): encode(v) for k, v in x.items()}
    if isinstance(x, float):
        return {"__float__": x.hex()}
    return x


def _strided(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous array (every other element of a larger one)."""
    if a.ndim == 0 or a.size <= 1:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    view = big[..., ::2]
    view[...] = a
    return view


def decode(x):
    if isinstance(x, dict):
        if "__ndarray__" in x:
            dt = np.dtype(x["__ndarray__"])
            if np.issubdtype(dt, np.floating):
                flat = np.array([float.fromhex(v) for v in x["values"]], dtype=dt)
            else:
                flat = np.array(x["values"], dtype=dt)
            a = flat.reshape(x["shape"])
            return a if x.get("contiguous", True) else _strided(a)
        if "__tuple__" in x:
            return tuple(decode(v) for v in x["__tuple__"])
        if "__float__" in x:
            return float.fromhex(x["__float__"])
        return {k: decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v) for v in x]
    return x


strided = _strided
