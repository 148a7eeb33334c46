"""layouts: no batch dimension, empty batch, and non-contiguous inputs, forward and gradients."""

from reference import DEVICES

from .checks import both_body, non_contiguous
from .driver import case_strategy, example_case

CHECK = "layouts"
PARAM_NAMES = ("layout", "device", "example")


def params(entry):
    drawn = [l for l in entry.layouts if l != "batched"] + ["non-contiguous"]
    fuzz = [dict(layout=l, device=v, example=None) for l in drawn for v in DEVICES]
    fixed = [dict(layout="example", device=v, example=e) for e in entry.examples_of("layout") for v in DEVICES]
    return fuzz + fixed


def test_layouts(nnp, entry, layout, device, example):
    body = both_body(entry, nnp.impl, CHECK)
    if example is not None:
        nnp.run_case(entry, CHECK, example_case(entry, example, "float32", device), body)
        return
    mode = entry.modes()[0]
    if layout == "non-contiguous":
        strategy = case_strategy(entry, "float32", device, mode).map(non_contiguous)
    else:
        strategy = case_strategy(entry, "float32", device, mode, layout=layout)
    nnp.fuzz(entry, CHECK, strategy, body, dtype="float32", device=device, mode=mode, extra_key=layout, scale=0.5)
