"""The harness's vocabulary, defined once: dtypes, devices, modes, layouts, check
kinds, verdicts, and the list of installed torch.nn classes.

Everything else (the catalog, the checks, records, the allowlist, the report, the
command line) takes these names from here.
"""

from __future__ import annotations

__all__ = ["DTYPES", "DEVICES", "MODES", "LAYOUTS", "CHECK_KINDS", "CHECK_DESCRIPTIONS", "VERDICTS",
           "DISCREPANT", "torch_nn_classes"]

#: Float dtypes every value check runs in.
DTYPES = ("float32", "float64")

#: Every torch device the checks know. 'cuda' is always listed, so its checks show as
#: skipped (with the reason) on a machine without a GPU.
DEVICES = ("cpu", "cuda")

#: Module modes.
MODES = ("train", "eval")

#: Input layouts an entry may support: 'batched' is always drawn; 'unbatched' (no
#: batch dim) and 'empty' (a zero-size batch) are drawn by the layouts check, which
#: also makes every float leaf non-contiguous ('non-contiguous').
LAYOUTS = ("batched", "unbatched", "empty")

#: The per-class check kinds, in the order the report's matrix shows them, with
#: what each one compares (the report's column headers say the same).
CHECK_DESCRIPTIONS = {
    "api": "twin vs torch: constructor signature, argument validation, state_dict layout, parameter order, buffers, repr",
    "forward": "twin vs torch: values, shape, dtype; in-place effects; state after the call",
    "gradients": "twin vs torch autograd: every float input leaf and every parameter, same random cotangent",
    "gradcheck": "twin's backward vs finite differences of the twin's own forward (float64; torch plays no part)",
    "train_eval": "twin vs torch: train/eval flag, mode propagation, running statistics over K steps then eval",
    "randomness": "twin's own random draws vs their stated distributions (statistical tests)",
    "errors": "twin vs torch: the same builtin exception kind for invalid arguments and inputs, no state changed",
    "special_values": "twin vs torch: NaN/inf positions and signs of zero exact at special values",
    "layouts": "twin vs torch: no batch dim, empty batch, non-contiguous inputs",
    "cuda_vs_cpu": "torch on CUDA vs torch on CPU (the twin plays no part)",
}
CHECK_KINDS = tuple(CHECK_DESCRIPTIONS)

#: Record verdicts. pass: judged within tolerance; fail: the twin disagrees, or the
#: twin raised; error: the harness, the catalog or torch raised (or a check could
#: not run its examples); not-judged: nothing could be compared (e.g. every
#: gradcheck coordinate sat on a kink); skip: skipped with a recorded reason (e.g.
#: no CUDA); not-implemented: the package under test lacks the class.
VERDICTS = ("pass", "fail", "error", "not-judged", "skip", "not-implemented")

#: Verdicts that fail the gate unless allowlisted. None of them may pass in silence.
DISCREPANT = ("fail", "error", "not-judged")


def torch_nn_classes() -> list[str]:
    """Every public Module subclass in the installed torch.nn (containers, lazy
    modules and Module itself included), sorted."""
    import torch.nn as nn

    return sorted(n for n in dir(nn) if not n.startswith("_") and isinstance(getattr(nn, n), type)
                  and issubclass(getattr(nn, n), nn.Module))
