"""Injected bugs in the normalisation, dropout and embedding twins turn the suite red.

As tests/test_mutations.py: each mutation copies impls/ to another package, changes
one passage of one twin, and runs the named checks for one class against the copy
through ``--impl``. The suite must fail, and its output must name what caught the bug.
A target passage that is missing fails loudly (the twin was refactored: update the
mutation, do not delete it).
"""

from __future__ import annotations

import shutil

import pytest

from tests.suite_runner import ROOT, run_suite
from tests.test_mutations import Mutation
from tests.test_mutations import test_injected_bug_turns_the_suite_red as run_mutation

pytestmark = pytest.mark.slow

MUTATIONS = [
    # Bessel's correction in layer norm (torch normalises with the biased variance).
    Mutation("layernorm-unbiased-variance", "functional/normalization.py",
             "        xhat, m_d, var = xhat[0], m_d[0], var[0]\n",
             "        xhat, m_d, var = xhat[0], m_d[0], var[0] * D / max(D - 1, 1)\n",
             "LayerNorm", ("properties/test_forward.py",),
             "LayerNorm forward: the twin disagrees with torch.nn.LayerNorm"),
    # Statistics per (sample, channel) instead of per (sample, group).
    Mutation("groupnorm-per-channel", "functional/normalization.py",
             "    return _normalize_channels(x, N, C, M, num_groups, weight, bias, eps)[0]\n",
             "    return _normalize_channels(x, N, C, M, C, weight, bias, eps)[0]\n",
             "GroupNorm", ("properties/test_forward.py",),
             "GroupNorm forward: the twin disagrees with torch.nn.GroupNorm"),
    # The padding row's lookups pass their cotangent to it.
    Mutation("embedding-padding-row-gets-gradient", "functional/sparse.py",
             "        keep = flat != padding_idx if padding_idx is not None else np.ones(flat.shape, bool)\n",
             "        keep = np.ones(flat.shape, bool)\n",
             "Embedding", ("properties/test_gradients.py",),
             "grad weight"),
    # max_norm renormalises a copy: the output is right, the weight is left as it was.
    # Caught by the forward check's comparison of the whole state_dict after the call.
    Mutation("embedding-max-norm-not-written-back", "functional/sparse.py",
             "        embedding_renorm_(weight.data, idx, max_norm, norm_type)\n    w = weight.data\n    out = w[idx]\n",
             "        w = weight.data.copy()\n        embedding_renorm_(w, idx, max_norm, norm_type)\n"
             "    else:\n        w = weight.data\n    out = w[idx]\n",
             "Embedding", ("properties/test_forward.py",),
             "state weight after forward"),
    # The mean divides by the bag's length, padding entries included.
    Mutation("embeddingbag-mean-counts-padding", "functional/sparse.py",
             "    count = np.bincount(bag[member], minlength=B)[:B]\n",
             "    count = np.bincount(bag[bag >= 0], minlength=B)[:B]\n",
             "EmbeddingBag", ("properties/test_forward.py",),
             "EmbeddingBag forward: the twin disagrees with torch.nn.EmbeddingBag"),
    # One draw per element instead of one per channel.
    Mutation("dropout2d-drops-elements", "nn/dropout.py",
             "        return F.feature_noise_shape(shape)  # one draw per (dim 0, dim 1), at every rank\n",
             "        return shape\n",
             "Dropout2d", ("properties/test_randomness.py",),  # the twin's own draws (forward sees it too)
             "shared draws kept or dropped together"),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_bug_turns_the_suite_red(mutation, tmp_path):
    run_mutation(mutation, tmp_path)  # the procedure of tests/test_mutations.py


def test_unmutated_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    shutil.copytree(ROOT / "impls", tmp_path / "impls_mutant", ignore=shutil.ignore_patterns("__pycache__"))
    tests = sorted({t for m in MUTATIONS for t in m.tests})
    result = run_suite(*tests, "--impl", "impls_mutant", "--nn", ",".join(sorted({m.cls for m in MUTATIONS})), pythonpath=[tmp_path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
