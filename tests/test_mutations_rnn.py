"""Injected bugs in the recurrent and attention twins turn the suite red.

Same procedure as tests/test_mutations.py: copy impls/ to another package, change
one line, run the conformance checks of one class against the copy with --impl.
The packed-sequence bug (``h_n`` left in sorted order) is caught by the suite: the
catalog feeds PackedSequence inputs through the entry's adapter, unsorted ones too.
The direct differential tests below judge what the catalog does not call:
``pad_packed_sequence``, ``pad_sequence`` and ``pack_sequence`` of the package.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from tests.suite_runner import ROOT, run_suite
from tests.test_mutations import Mutation
from tests.test_mutations import test_injected_bug_turns_the_suite_red as run_mutation  # the same procedure

FORWARD = ("properties/test_forward.py",)

MUTATIONS = [
    Mutation("gru-b_hn-outside-reset-gate", "functional/rnn.py",
             "n = np.tanh(xg[:, 2 * H:] + gates[:, 2 * H:] * r)",
             "n = np.tanh(xg[:, 2 * H:] + (gates[:, 2 * H:] - bhh[2 * H:]) * r + bhh[2 * H:])",
             "GRU", FORWARD, "GRU forward: the twin disagrees with torch.nn.GRU"),
    Mutation("lstm-gates-in-onnx-order-iofc", "functional/rnn.py",
             "i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]",
             "i, o, f, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]",
             "LSTM", FORWARD, "LSTM forward: the twin disagrees with torch.nn.LSTM"),
    Mutation("attention-scaled-by-1/d", "functional/attention.py",
             "scale = np.sqrt(1.0 / float(E)) if E else 0.0",
             "scale = 1.0 / float(E) if E else 0.0",
             "MultiheadAttention", FORWARD, "MultiheadAttention forward: the twin disagrees with torch.nn.MultiheadAttention"),
    Mutation("norm_first-ignored", "nn/transformer.py",
             "        fast = self._fast_path(src)\n        x = src\n        if self.norm_first:",
             "        fast = self._fast_path(src)\n        x = src\n        if False:",
             "TransformerEncoderLayer", FORWARD,
             "TransformerEncoderLayer forward: the twin disagrees with torch.nn.TransformerEncoderLayer"),
    # With torch's masks injected, the mutant asks for one mask more than torch drew (and with
    # p = 1, where nothing is drawn, it also zeroes the last layer's output).
    Mutation("rnn-dropout-after-last-layer", "nn/rnn.py",
             "boundaries = self.num_layers - 1",
             "boundaries = self.num_layers",
             "LSTM", FORWARD, "LSTM forward"),
    # A packed batch sorted by pack_padded_sequence(enforce_sorted=False): h_n must come back
    # in the original batch order.
    Mutation("packed-h_n-in-sorted-order", "nn/rnn.py",
             "if unsorted_idx is not None:",
             "if False:",
             "LSTM", FORWARD, "LSTM forward: the twin disagrees with torch.nn.LSTM"),
]


@pytest.mark.slow
@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_bug_turns_the_suite_red(mutation, tmp_path):
    run_mutation(mutation, tmp_path)


@pytest.mark.slow
def test_unmutated_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    shutil.copytree(ROOT / "impls", tmp_path / "impls_mutant", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path
    tests = sorted({t for m in MUTATIONS for t in m.tests})
    result = run_suite(*tests, "--impl", "impls_mutant", "--nn", ",".join(sorted({m.cls for m in MUTATIONS})), pythonpath=[path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


# -- packed sequences: direct differential tests of the package's nn.utils.rnn -------------

PACKED_CASES = [
    ("LSTM", {"num_layers": 2, "bidirectional": True}, [2, 5, 1, 4], False),
    ("LSTM", {"proj_size": 2, "batch_first": True}, [5, 4, 4, 1], True),
    ("GRU", {"num_layers": 2}, [3, 5, 2, 5], False),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, [1, 5, 3, 2], False),
]


def _close(what, twin, ref, tol=1e-10):
    err = float(np.max(np.abs(np.asarray(twin) - np.asarray(ref)), initial=0.0))
    assert err <= tol, f"{what}: twin and torch differ by {err:.3g}"


@pytest.mark.parametrize("name,kwargs,lengths,enforce_sorted", PACKED_CASES,
                         ids=[f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items())}" for c in PACKED_CASES])
def test_packed_sequences_match_torch(impl, name, kwargs, lengths, enforce_sorted):
    """pack_padded_sequence -> module -> pad_packed_sequence on both sides, float64:
    packed data, batch sizes and permutations, output, h_n (and c_n) in the ORIGINAL
    batch order, lengths, and the gradients of the packed data and of every parameter
    for a random cotangent (the catalog judges the modules on packed inputs; this also judges
    pad_packed_sequence)."""
    import torch

    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(0)
    T, N, I, H = max(lengths), len(lengths), 3, 4
    batch_first = kwargs.get("batch_first", False)
    kw = {"input_size": I, "hidden_size": H, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(torch.nn, name)(**kw, dtype=torch.float64)
    twin = getattr(impl.nn, name)(**kw, dtype=np.float64)
    state = {k: rng.uniform(-0.5, 0.5, v.shape) for k, v in tm.state_dict().items()}
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    twin.load_state_dict(state)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I))

    tpacked = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), lengths, batch_first=batch_first,
                                                      enforce_sorted=enforce_sorted)
    wpacked = impl.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    _close("packed data", wpacked.data, tpacked.data.numpy(), 0)
    assert np.array_equal(wpacked.batch_sizes, tpacked.batch_sizes.numpy()), "batch_sizes differ"
    for field in ("sorted_indices", "unsorted_indices"):
        t, w = getattr(tpacked, field), getattr(wpacked, field)
        assert (t is None) == (w is None) and (t is None or np.array_equal(w, t.numpy())), f"{field} differ"

    data = tpacked.data.clone().requires_grad_()
    tout, thidden = tm(torch.nn.utils.rnn.PackedSequence(data, tpacked.batch_sizes, tpacked.sorted_indices,
                                                        tpacked.unsorted_indices))
    wout, whidden = twin(wpacked)
    t_h = thidden if isinstance(thidden, tuple) else (thidden,)
    w_h = whidden if isinstance(whidden, tuple) else (whidden,)
    _close("output (packed data)", wout.data, tout.data.detach().numpy())
    for label, w, t in zip(("h_n", "c_n"), w_h, t_h):
        _close(f"{label} (original batch order)", w, t.detach().numpy())
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=batch_first, padding_value=-1.0)
    wpad, wlen = impl.nn.utils.rnn.pad_packed_sequence(wout, batch_first=batch_first, padding_value=-1.0)
    _close("pad_packed_sequence output", wpad, tpad.detach().numpy())
    assert np.array_equal(wlen, tlen.numpy()), "pad_packed_sequence lengths differ"

    cots = [rng.standard_normal(tuple(t.shape)) for t in [tout.data, *t_h]]
    torch.autograd.backward([tout.data, *t_h], [torch.from_numpy(c) for c in cots])
    hidden_cot = tuple(cots[1:]) if len(cots) > 2 else cots[1]
    # one cotangent per output array, as the harness passes them: None for the index fields
    packed_cot = (cots[0], None) + tuple(None for f in (tout.sorted_indices, tout.unsorted_indices) if f is not None)
    input_grads, param_grads = impl.vjp(twin, (wpacked,), (packed_cot, hidden_cot))
    _close("grad of the packed data", input_grads[0].data, data.grad.numpy())
    for pname, p in tm.named_parameters():
        _close(f"grad {pname}", param_grads[pname], p.grad.numpy())


def test_pad_and_pack_sequence_match_torch(impl):
    """pad_sequence (both padding sides, batch_first) and pack_sequence (unsorted)."""
    import torch

    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            t = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in seqs], batch_first=batch_first,
                                                padding_value=7.0, padding_side=side)
            w = impl.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first, padding_value=7.0, padding_side=side)
            _close(f"pad_sequence batch_first={batch_first} side={side}", w, t.numpy(), 0)
    t = torch.nn.utils.rnn.pack_sequence([torch.from_numpy(s) for s in seqs], enforce_sorted=False)
    w = impl.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    _close("pack_sequence data", w.data, t.data.numpy(), 0)
    assert np.array_equal(w.batch_sizes, t.batch_sizes.numpy()) and np.array_equal(w.sorted_indices, t.sorted_indices.numpy())
