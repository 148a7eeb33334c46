"""Drawing cases: a Hypothesis strategy of :class:`~nnparity.case.Case` per entry
and check kind, the Case of a fixed example, and the non-contiguous variant."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from .case import Case, strided
from .catalog import STATE_REGIMES

__all__ = ["case_strategy", "example_case", "non_contiguous"]


def case_strategy(entry, dtype: str, device: str, mode: str, layout: str = "batched", check: str = "",
                  method: str = ""):
    """Cases for one entry: constructor kwargs, then inputs that fit them (from the
    check kind's domain), then a seed."""
    inputs_fn = entry.inputs_for(check, method)

    @st.composite
    def cases(draw):
        kwargs = draw(entry.kwargs)
        inputs = draw(inputs_fn(kwargs, np.dtype(dtype), layout))
        seed = draw(st.integers(0, 2**31 - 1))
        state = draw(st.sampled_from(STATE_REGIMES))
        return Case(entry.name, kwargs, tuple(inputs.args), dict(inputs.kwargs), dtype, device, mode, seed,
                    layout=layout, method=method, state=state)

    return cases()


def example_case(entry, example, dtype: str, device: str) -> Case:
    inputs = example.inputs(np.dtype(dtype))
    return Case(entry.name, dict(example.kwargs), tuple(inputs.args), dict(inputs.kwargs), dtype, device,
                example.mode, seed=0, label=example.id, method=example.method, state=example.state)


def _nc(x):
    if isinstance(x, np.ndarray):
        return strided(x) if np.issubdtype(x.dtype, np.floating) and x.ndim else x
    if isinstance(x, (tuple, list)):
        return type(x)(_nc(v) for v in x)
    if isinstance(x, dict):
        return {k: _nc(v) for k, v in x.items()}
    return x


def non_contiguous(case: Case) -> Case:
    """The same case with every float input leaf (positional and keyword, nested
    included) made non-contiguous."""
    return replace(case, args=_nc(case.args), fkwargs=_nc(case.fkwargs), layout="non-contiguous")
