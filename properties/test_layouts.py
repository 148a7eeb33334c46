"""layouts: no batch dim, empty batch, non-contiguous inputs (nnparity/checks/layouts.py)."""

from nnparity.checks import layouts as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_layouts(nnp, entry, layout, device, example):
    check.run(nnp, entry, layout=layout, device=device, example=example)
