"""Injected bugs in the convolution family turn the suite red (see tests/test_mutations.py).

Each mutation changes one line of a twin in a copy of impls/ and runs the checks
for one class against the copy; the suite must fail in the check that should
catch the bug. A missing target line fails loudly (update the mutation).
"""

from __future__ import annotations

import shutil

import pytest

from tests.suite_runner import ROOT, run_suite
from tests.test_mutations import Mutation
from tests.test_mutations import test_injected_bug_turns_the_suite_red as run_mutation  # the same procedure

pytestmark = pytest.mark.slow

MUTATIONS = [
    # padding='same' with an even kernel: the odd element of the total padding on the low side.
    Mutation("same-padding-extra-element-on-the-low-side", "functional/conv.py",
             "return tuple((t // 2, t - t // 2) for t in totals)",
             "return tuple((t - t // 2, t // 2) for t in totals)",
             "Conv2d", ("properties/test_forward.py",),
             "Conv2d forward: the twin disagrees with torch.nn.Conv2d"),
    # Reflect padding that repeats the edge element (numpy's 'symmetric' instead of 'reflect').
    Mutation("reflect-padding-repeats-the-edge", "functional/padding.py",
             "first = lo - j0 if zone == 0 else 2 * (n - 1) + lo - j0",
             "first = lo - j0 - 1 if zone == 0 else 2 * n - 1 + lo - j0",
             "ReflectionPad2d", ("properties/test_forward.py",),
             "ReflectionPad2d forward: the twin disagrees with torch.nn.ReflectionPad2d"),
    # A transposed convolution whose output size leaves output_padding out.
    Mutation("conv-transpose-ignores-output-padding", "functional/conv.py",
             "size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1",
             "size = tuple((i - 1) * s - 2 * p + d * (k - 1) + 0 * o + 1",
             "ConvTranspose2d", ("properties/test_forward.py",),
             "ConvTranspose2d forward: the twin disagrees with torch.nn.ConvTranspose2d"),
    # Linear interpolation that ignores align_corners (always the half-pixel convention).
    Mutation("bilinear-ignores-align-corners", "functional/upsample.py",
             "real = _source(_scale(n, out, align_corners, scale, ft), o, align_corners, False, ft)",
             "real = _source(_scale(n, out, False, scale, ft), o, False, False, ft)",
             "UpsamplingBilinear2d", ("properties/test_forward.py",),
             "UpsamplingBilinear2d forward: the twin disagrees with torch.nn.UpsamplingBilinear2d"),
    # Fold that overwrites overlapping blocks instead of summing them (every tap's columns
    # are accumulated by _Windows.accumulate, for every stride).
    Mutation("fold-overwrites-overlaps", "functional/conv.py",
             "buf[:, :, self.phases[k], self.offsets[k]:self.offsets[k] + self.L] += cols_k",
             "buf[:, :, self.phases[k], self.offsets[k]:self.offsets[k] + self.L] = cols_k",
             "Fold", ("properties/test_forward.py",),
             "Fold forward: the twin disagrees with torch.nn.Fold"),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_bug_turns_the_suite_red(mutation, tmp_path):
    run_mutation(mutation, tmp_path)


def test_unmutated_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    shutil.copytree(ROOT / "impls", tmp_path / "impls_mutant", ignore=shutil.ignore_patterns("__pycache__"))
    tests = sorted({t for m in MUTATIONS for t in m.tests})
    result = run_suite(*tests, "--impl", "impls_mutant", "--nn", ",".join(sorted({m.cls for m in MUTATIONS})), pythonpath=[tmp_path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
