"""layouts: no batch dimension, empty batch, and non-contiguous inputs (every float
leaf, positional and keyword), forward and gradients."""

from ..cases import case_strategy, example_case, non_contiguous
from ..vocab import DEVICES
from .values import both_body

KIND = "layouts"
PARAM_NAMES = ("layout", "device", "example")


def params(entry):
    drawn = [l for l in entry.layouts if l != "batched"] + ["non-contiguous"]
    fuzz = [dict(layout=l, device=v, example=None) for l in drawn for v in DEVICES]
    fixed = [dict(layout="example", device=v, example=e) for e in entry.examples_of("layout") for v in DEVICES]
    return fuzz + fixed


def body(entry, impl):
    return both_body(entry, impl, KIND)


def run(nnp, entry, *, layout, device, example):
    check = body(entry, nnp.impl)
    if example is not None:
        nnp.run_case(entry, KIND, example_case(entry, example, "float32", device), check)
        return
    mode = entry.modes()[0]
    if layout == "non-contiguous":
        strategy = case_strategy(entry, "float32", device, mode, check=KIND).map(non_contiguous)
    else:
        strategy = case_strategy(entry, "float32", device, mode, layout=layout, check=KIND)
    nnp.fuzz(entry, KIND, strategy, check, dtype="float32", device=device, mode=mode, extra_key=layout, scale=0.5)
