"""Warning parity, part of the forward check: the twin must warn where torch warns,
with a category equal to torch's or a subclass of it, and nowhere else.

torch warns on inputs the catalog draws: a loss target whose size differs from the
input's (l1, mse, smooth_l1, huber), the legacy ``size_average``/``reduce``
arguments, KLDivLoss's ``reduction='mean'``, Softmax/Softmin/LogSoftmax without a
``dim``, a zero-element Linear (its initialisation is a no-op). A user of the twin
should be told the same things.

The engine listens to each side while it builds the module and while it runs the
forward (:class:`Ears`, ``nnparity.engine``), and :func:`compare_warnings` judges
what each side said, under the label :data:`LABEL`. The warnings heard are
swallowed: judged here, they do not flood the test output. Warnings from anywhere
else (the harness, Hypothesis, NumPy) are left alone, so the suite's output shows
only the ones nobody expected.

Warnings torch gives once per process (C++ ``TORCH_WARN_ONCE``, listed in
:data:`ONCE_PER_PROCESS` with where they come from) cannot be matched case by case:
whichever call runs first in a process hears it, and that may be a call no one
listens to (a gradients or gradcheck run, on either side alone). The forward check
leaves them out of the per-case matching; ``tests/test_warnings_parity.py`` judges
them in fresh processes (twin and torch each warn exactly once over repeated calls).

Matching: each side's warnings are taken once per (category, message). A torch
warning is matched by a twin warning with the same message, else by one whose
category is torch's or a subclass of it (the most specific torch categories
first). A torch warning left unmatched is missing in the twin; a twin warning left
unmatched is one torch does not give (a NumPy ``RuntimeWarning`` leaking out of the
twin counts: torch is silent there). Counts of the same warning do not matter.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field

from .compare import Comparison, Tolerance

__all__ = ["LABEL", "Heard", "Ears", "compare_warnings"]

#: Message prefixes of torch warnings given once per process (TORCH_WARN_ONCE in ATen).
ONCE_PER_PROCESS = (
    # aten/src/ATen/native/Convolution.cpp, _convolution_mode: an asymmetric 'same' padding
    "Using padding='same' with even kernel lengths and odd dilation",
)

#: torch's notices about its own backend choice, not about the user's input: warned
#: once per process (TORCH_WARN_ONCE), so whether a case hears it depends on the cases
#: before it, and a twin (which has no oneDNN) cannot match it. Not judged.
TORCH_BACKEND_NOTICES = (
    "LSTM with projections is not supported with oneDNN",  # torch 2.13, CPU float32 LSTM(proj_size > 0)
    # TransformerEncoder's eval path over nested tensors (torch builds them internally)
    "The PyTorch API of nested tensors is in prototype stage",
)


def _once(message: str) -> bool:
    """A torch warning given once per process: left out of the per-case matching
    (ONCE_PER_PROCESS is judged in fresh processes; backend notices not at all)."""
    return message.startswith(ONCE_PER_PROCESS + TORCH_BACKEND_NOTICES)


#: The label warning parity is judged under (beside ``output``, ``grad input``, ...).
LABEL = "warnings"

_TOLERANCE = Tolerance(0, 0, "warning parity: the twin's category must be torch's or a subclass of it")


@dataclass(frozen=True)
class Heard:
    """One warning one side gave."""

    category: type
    message: str
    where: str = ""  # file:line it was attributed to

    def __repr__(self) -> str:
        return f"{self.category.__name__}({_short(self.message)!r})"


def _short(text: str, n: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


@dataclass
class Ears:
    """What each side (``'twin'``, ``'torch'``) said while one case ran."""

    heard: dict = field(default_factory=lambda: {"twin": [], "torch": []})

    @contextlib.contextmanager
    def listen(self, side: str):
        """Record every warning raised inside (whatever the filters outside say), and
        swallow it; an exception still propagates, and what was heard is kept."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                self.heard[side] += [Heard(w.category, str(w.message), f"{w.filename}:{w.lineno}") for w in caught
                                     if not _once(str(w.message))]


def _distinct(heard) -> list[Heard]:
    out, seen = [], set()
    for h in heard or ():
        if (h.category, h.message) not in seen:
            seen.add((h.category, h.message))
            out.append(h)
    return out


def _match(twin: list[Heard], torch: list[Heard]) -> tuple[list, list]:
    """(torch warnings the twin lacks, twin warnings torch does not give)."""
    left = list(twin)
    missing = []
    for t in sorted(torch, key=lambda h: -len(h.category.__mro__)):  # the most specific categories first
        same = [w for w in left if w.message == t.message and issubclass(w.category, t.category)]
        like = same or [w for w in left if issubclass(w.category, t.category)]
        if like:
            left.remove(like[0])
        else:
            missing.append(t)
    return missing, left


def compare_warnings(twin, torch, what: str = LABEL, subject: str = "twin", reference: str = "torch") -> Comparison:
    """The verdict on the warnings of one case: ``problem`` names every warning
    missing on one side, or given with another category."""
    twin, torch = _distinct(twin), _distinct(torch)
    missing, extra = _match(twin, torch)
    parts = []
    for t in missing:
        other = [w for w in extra if w.message == t.message]
        if other:  # the same warning, with a category that is not torch's or a subclass of it
            extra.remove(other[0])
            parts.append(f"{subject} warns {other[0]!r}, {reference} {t.category.__name__} (not a subclass)")
        else:
            parts.append(f"{reference} warns {t!r}; {subject} does not")
    parts += [f"{subject} warns {w!r} ({w.where}); {reference} does not" for w in extra]
    if not parts:
        return Comparison(what, True, _TOLERANCE, subject=subject, reference=reference)
    return Comparison(what, False, _TOLERANCE, problem="warnings differ: " + "; ".join(parts), subject=subject,
                      reference=reference)
