"""Catalog entries: recurrent layers and cells (torch/nn/modules/rnn.py).

State. The harness draws every case's parameters in both regimes
(``nnparity.catalog.default_state``): torch's own initialisation,
U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, where gates are unsaturated
and every gate's gradient matters; and N(0, 1), where many gates saturate.

Inputs. ``h0``, or the LSTM's ``(h0, c0)`` (leaves ``hx[0]``, ``hx[1]``), with and
without; unbatched and empty batches; PackedSequence inputs (``packed_input``, the
entry's adapter): ``pack_padded_sequence`` of torch on torch's side and of the package
under test on the twin's, from the same padded array and lengths, sorted
(``enforce_sorted=True``) or not, so the gradients reach the padded array. The
output's PackedSequence is compared field by field (data, batch_sizes,
sorted_indices, unsorted_indices); ``h_n`` in the original batch order.

Randomness. Dropout between layers runs inside ATen (``at::dropout`` in
``apply_layer_stack``, RNN.cpp), at the path of the recurrent module itself: the
harness records torch's draws there (reference/noise.py), one ``bernoulli_`` per
layer boundary in order, and ``rnn_dropout_masks`` hands them to the twin's
``inject_noise(dropout=[...])``. So training draws any p in [0, 1].
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from nnparity.catalog import Entry, Example, Inputs, Invalid

from ..strategies import float_arrays


def _normal(shape, dt, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dt)


# -- noise ------------------------------------------------------------------------------

def rnn_dropout_masks(draws):
    """torch's draws in one RNN/LSTM/GRU, in call order: one dropout per layer boundary
    (``bernoulli_(1 - p)`` on CPU, or ``native_dropout``'s mask), each shaped like the
    output of the layer it follows as ATen sees it; kept elements are nonzero."""
    return {"dropout": [d.values != 0 for d in draws]}


def rnn_dropout_statistics(impl, rng):
    """The twin's own keep-masks between layers. A 2-layer relu RNN whose layers are
    identities (W_ih = I, W_hh = 0, no bias) on positive inputs outputs
    ``keep * x / (1 - p)``, which exposes the mask of the layer boundary. For p in
    {0.2, 0.7}, n = 100 * 20 * 100 = 200,000 elements: the keep rate is within the
    Hoeffding margin of 1 - p at a two-sided false-alarm rate of 1e-6 / 2 each (1e-6
    for the test, Bonferroni); kept values equal x / (1 - p) to float64 rounding."""
    from .core import hoeffding_margin

    T, N, H, alpha, results = 100, 20, 100, 1e-6 / 2, []
    for p in (0.2, 0.7):
        m = impl.nn.RNN(H, H, num_layers=2, nonlinearity="relu", bias=False, dropout=p, dtype=np.float64)
        eye, zero = np.eye(H), np.zeros((H, H))
        m.load_state_dict({"weight_ih_l0": eye, "weight_hh_l0": zero, "weight_ih_l1": eye, "weight_hh_l1": zero})
        m.generator = np.random.default_rng(rng.integers(2**63))
        m.train()
        x = rng.uniform(1.0, 2.0, (T, N, H))
        y, _ = m(x)
        kept = y != 0
        rate, margin = kept.mean(), hoeffding_margin(kept.size, alpha)
        results.append((f"keep rate p={p}", abs(rate - (1 - p)) < margin,
                        f"keep rate {rate:.5f}, expected {1 - p:.5f} +- {margin:.5f} (false-alarm rate {alpha:.1e})"))
        err = np.max(np.abs(y[kept] - x[kept] / (1 - p)) / (x[kept] / (1 - p))) if kept.any() else 0.0
        results.append((f"scale p={p}", err <= 4 * np.finfo(np.float64).eps, f"max relative error of kept values: {err:.3g}"))
        # the last layer's output is never dropped: with num_layers=1 nothing is zero
        one = impl.nn.RNN(H, H, num_layers=1, nonlinearity="relu", bias=False, dropout=0.0, dtype=np.float64)
        one.load_state_dict({"weight_ih_l0": eye, "weight_hh_l0": zero})
        one.train()
        results.append(("no dropout after the last layer", bool(np.all(one(x)[0] == x)), "a 1-layer RNN must return relu(x) = x"))
    return results


# -- invalid inputs ---------------------------------------------------------------------

def _other(dt):
    """The float dtype the module is not built in (a dtype mismatch torch rejects)."""
    return np.float32 if np.dtype(dt) == np.float64 else np.float64


def _in_dtype(invalids):
    """Invalid inputs are written in float32; each case casts its float32 arrays to the
    case's dtype (the module's), so the only error is the one the case names."""

    def cast(x, dt):
        if isinstance(x, np.ndarray) and x.dtype == np.float32:
            return x.astype(dt)
        if isinstance(x, (tuple, list)):
            return type(x)(cast(v, dt) for v in x)
        return x

    def typed(make):
        return lambda dt: Inputs(cast(make(dt).args, dt), {k: cast(v, dt) for k, v in make(dt).kwargs.items()})

    return tuple(replace(i, inputs=typed(i.inputs)) if i.inputs is not None and "dtype" not in i.id else i
                 for i in invalids)


# -- recurrent layers -------------------------------------------------------------------

def _layer_kwargs(name):
    @st.composite
    def draw(draw):
        hidden = draw(st.integers(1, 5))
        kw = {"input_size": draw(st.integers(1, 4)), "hidden_size": hidden}
        layers = draw(st.sampled_from([2, 1, 3]))  # Hypothesis's simplest draw is 2 layers with dropout
        if layers != 1 or draw(st.booleans()):
            kw["num_layers"] = layers
        for key in ("bias", "batch_first", "bidirectional"):
            if draw(st.booleans()):
                kw[key] = draw(st.booleans())
        # Training differs from eval only through dropout between layers: draw it often, and
        # in Hypothesis's simplest case (the train_eval check needs torch to differ on some of
        # its 8 ci cases). torch's masks are injected into the twin (rnn_dropout_masks), so any
        # p is judged exactly; p = 1 zeroes every layer boundary (nothing is drawn).
        if layers > 1 and draw(st.integers(0, 3)) != 3:
            kw["dropout"] = draw(st.one_of(st.sampled_from([0.5, 0.0, 1.0]), st.floats(0.0, 1.0)))
        if name == "LSTM" and hidden > 1 and draw(st.booleans()):
            kw["proj_size"] = draw(st.integers(0, hidden - 1))
        if name == "RNN" and draw(st.booleans()):
            kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        return kw

    return draw()


def _hidden_shape(kw, batch):
    directions = 2 if kw.get("bidirectional") else 1
    h_out = kw.get("proj_size") or kw["hidden_size"]
    lead = (kw.get("num_layers", 1) * directions,)
    return lead + batch + (h_out,), lead + batch + (kw["hidden_size"],)


def packed_input(nn, side, input, hx=None, lengths=None, *, batch_first=False, enforce_sorted=True):
    """The entry's adapter: with ``lengths``, the padded ``input`` is packed inside the call
    by the side's own ``nn.utils.rnn.pack_padded_sequence`` (torch's, or the package's),
    so the gradients reach ``input``; without, the arguments pass through."""
    if lengths is None:
        return ((input,) if hx is None else (input, hx)), {}
    if hasattr(lengths, "cpu"):  # torch wants its lengths on the CPU, whatever the device
        lengths = lengths.cpu()
    packed = nn.utils.rnn.pack_padded_sequence(input, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    return ((packed,) if hx is None else (packed, hx)), {}


def _lengths(draw, T, N, enforce_sorted):
    lengths = draw(st.lists(st.integers(1, T), min_size=N, max_size=N))
    lengths[draw(st.integers(0, N - 1))] = T  # pad_packed_sequence pads to the longest: keep T
    return np.array(sorted(lengths, reverse=True) if enforce_sorted else lengths, np.int64)


def _layer_inputs(name):
    """input (T, N, I) / (N, T, I) / unbatched (T, I) / empty batch N = 0; with or
    without h0 (RNN, GRU: an array; LSTM: the tuple (h0, c0)); batched inputs are
    sometimes packed (``packed_input``), sorted or with ``enforce_sorted=False``."""

    def inputs(kw, dt, layout):
        batch = st.just(()) if layout == "unbatched" else st.just((0,)) if layout == "empty" else st.integers(1, 3).map(lambda n: (n,))

        @st.composite
        def draw(draw):
            T, b = draw(st.integers(1, 4)), draw(batch)
            if not b:
                shape = (T, kw["input_size"])
            else:
                shape = (b[0], T, kw["input_size"]) if kw.get("batch_first") else (T, b[0], kw["input_size"])
            x = draw(float_arrays(shape, dt, -5, 5))
            hx = None
            if draw(st.booleans()):
                h_shape, c_shape = _hidden_shape(kw, b)
                hx = draw(float_arrays(h_shape, dt, -2, 2))
                if name == "LSTM":
                    hx = (hx, draw(float_arrays(c_shape, dt, -2, 2)))
            if b and b[0] > 0 and draw(st.booleans()):
                enforce_sorted = draw(st.booleans())
                flags = {"batch_first": kw.get("batch_first", False), "enforce_sorted": enforce_sorted}
                return Inputs((x, hx, _lengths(draw, T, b[0], enforce_sorted)), flags)
            return Inputs((x,) if hx is None else (x, hx))

        return draw()

    return inputs


def _hx(name, kw, batch, dt, seed=1):
    h_shape, c_shape = _hidden_shape(kw, batch)
    h0 = _normal(h_shape, dt, seed, 0.5)
    return (h0, _normal(c_shape, dt, seed + 1, 0.5)) if name == "LSTM" else h0


def _layer_examples(name):
    base = {"input_size": 3, "hidden_size": 4}
    x = lambda dt, shape=(5, 2, 3): _normal(shape, dt, 0, 0.5)  # noqa: E731
    examples = [
        Example("bias=False", "edge", {**base, "bias": False}, lambda dt: Inputs((x(dt),))),
        Example("2-layers-bidirectional-h0", "edge", {**base, "num_layers": 2, "bidirectional": True},
                lambda dt: Inputs((x(dt), _hx(name, {**base, "num_layers": 2, "bidirectional": True}, (2,), dt)))),
        Example("batch_first-h0", "edge", {**base, "batch_first": True},
                lambda dt: Inputs((x(dt, (2, 5, 3)), _hx(name, base, (2,), dt)))),
        Example("dropout-eval", "edge", {**base, "num_layers": 3, "dropout": 0.5}, lambda dt: Inputs((x(dt),)), mode="eval"),
        Example("dropout=1-train", "edge", {**base, "num_layers": 3, "dropout": 1.0, "bidirectional": True},
                lambda dt: Inputs((x(dt),))),
        Example("unbatched-h0", "layout", {**base, "num_layers": 2},
                lambda dt: Inputs((x(dt, (5, 3)), _hx(name, {**base, "num_layers": 2}, (), dt)))),
        Example("long-sequence", "edge", base, lambda dt: Inputs((x(dt, (40, 2, 3)),))),
        Example("special", "special", base,
                lambda dt: Inputs((np.array([[[np.nan, 0.0, 1.0]], [[np.inf, -0.0, 0.0]], [[0.5, 0.5, 0.5]]], dt),))),
        # Huge inputs saturate every gate: the forward and gradients are judged here as an
        # 'edge' example, not a 'special' one, because the special check also compares the
        # signs of exact zeros, and a weight gradient that is exactly zero is a BLAS sum of
        # +-0 products whose sign depends on whether the GEMM starts its accumulator at +0
        # (docs/findings/rnn.md): a property of the reduction, not of the recurrence.
        Example("huge-inputs-saturate", "edge", base,
                lambda dt: Inputs((np.array([[[1e4, -1e4, 0.0]], [[-1e30, 1e30, 2.0]]], dt),))),
    ]
    examples.append(Example("dropout=0.5-train", "edge", {**base, "num_layers": 3, "dropout": 0.5, "bidirectional": True},
                            lambda dt: Inputs((x(dt),))))
    packed_kw = {**base, "num_layers": 2, "bidirectional": True, "dropout": 0.5}
    examples.append(Example("packed-unsorted-h0-dropout", "edge", packed_kw,
                            lambda dt: Inputs((x(dt, (5, 4, 3)), _hx(name, packed_kw, (4,), dt), np.array([2, 5, 1, 4])),
                                              {"enforce_sorted": False})))
    examples.append(Example("packed-sorted-batch_first", "edge", {**base, "batch_first": True},
                            lambda dt: Inputs((x(dt, (3, 5, 3)), None, np.array([5, 5, 2])), {"batch_first": True})))
    if name == "LSTM":
        kw = {**base, "proj_size": 2, "num_layers": 2, "bidirectional": True}
        examples.append(Example("proj_size-h0-c0", "edge", kw, lambda dt: Inputs((x(dt), _hx(name, kw, (2,), dt)))))
        examples.append(Example("proj_size", "edge", {**base, "proj_size": 3}, lambda dt: Inputs((x(dt),))))
    if name == "RNN":
        examples.append(Example("relu-2-layers", "edge", {**base, "nonlinearity": "relu", "num_layers": 2},
                                lambda dt: Inputs((x(dt),))))
    return tuple(examples)


def _layer_invalid(name):
    base = {"input_size": 3, "hidden_size": 4}
    z = lambda shape, dt=np.float32: np.zeros(shape, dt)  # noqa: E731
    inv = [
        Invalid("hidden_size=0", {**base, "hidden_size": 0}),
        Invalid("num_layers=0", {**base, "num_layers": 0}),
        Invalid("input_size=0", {**base, "input_size": 0}),
        Invalid("hidden_size-float", {**base, "hidden_size": 4.0}),
        Invalid("dropout>1", {**base, "dropout": 1.5}),
        Invalid("dropout-bool", {**base, "dropout": True}),
        Invalid("bias-not-bool", {**base, "bias": 1}),
        Invalid("batch_first-not-bool", {**base, "batch_first": 0}),
        Invalid("input-size-mismatch", base, lambda dt: Inputs((z((5, 2, 4)),))),
        Invalid("1d-input", base, lambda dt: Inputs((z((3,)),))),
        Invalid("4d-input", base, lambda dt: Inputs((z((5, 2, 3, 1)),))),
        Invalid("zero-length-sequence", base, lambda dt: Inputs((z((0, 2, 3)),))),
        Invalid("dtype-mismatch-input", base, lambda dt: Inputs((z((5, 2, 3), _other(dt)),))),
        Invalid("integer-input", base, lambda dt: Inputs((np.zeros((5, 2, 3), np.int64),))),
    ]
    if name == "LSTM":
        inv += [
            Invalid("proj_size>=hidden_size", {**base, "proj_size": 4}),
            Invalid("proj_size<0", {**base, "proj_size": -1}),
            Invalid("h0-batch-mismatch", base, lambda dt: Inputs((z((5, 2, 3)), (z((1, 3, 4)), z((1, 2, 4)))))),
            Invalid("c0-size-mismatch", base, lambda dt: Inputs((z((5, 2, 3)), (z((1, 2, 4)), z((1, 2, 5)))))),
            Invalid("c0-with-proj-size", {**base, "proj_size": 2}, lambda dt: Inputs((z((5, 2, 3)), (z((1, 2, 2)), z((1, 2, 2)))))),
            Invalid("2d-hx-to-batched", base, lambda dt: Inputs((z((5, 2, 3)), (z((2, 4)), z((1, 2, 4)))))),
            Invalid("3d-hx-to-unbatched", base, lambda dt: Inputs((z((5, 3)), (z((1, 1, 4)), z((1, 1, 4)))))),
        ]
    else:
        inv += [
            Invalid("proj_size-keyword", {**base, "proj_size": 2}),
            Invalid("h0-batch-mismatch", base, lambda dt: Inputs((z((5, 2, 3)), z((1, 3, 4))))),
            Invalid("h0-layers-mismatch", {**base, "num_layers": 2}, lambda dt: Inputs((z((5, 2, 3)), z((1, 2, 4))))),
            Invalid("2d-hx-to-batched", base, lambda dt: Inputs((z((5, 2, 3)), z((2, 4))))),
            Invalid("3d-hx-to-unbatched", base, lambda dt: Inputs((z((5, 3)), z((1, 1, 4))))),
        ]
    if name == "RNN":
        inv.append(Invalid("nonlinearity=sigmoid", {**base, "nonlinearity": "sigmoid"}))
    return _in_dtype(inv)


def _layer_entry(name, bench):
    return Entry(
        name=name, kwargs=_layer_kwargs(name), inputs=_layer_inputs(name), factory_kwargs=True,
        layouts=("batched", "unbatched", "empty"), adapter=packed_input,
        train_eval_differs=True, random=True, noise=rnn_dropout_masks, statistical=rnn_dropout_statistics,
        examples=_layer_examples(name), invalid=_layer_invalid(name), bench=bench,
    )


# LSTM: the LSTM(128, 256, num_layers=2) over 100 steps, batch 32. RNN and GRU at a
# smaller size (the bench smoke test in CI runs every shape once).
RNN = _layer_entry("RNN", lambda dt: ({"input_size": 64, "hidden_size": 128, "num_layers": 2},
                                      Inputs((_normal((50, 32, 64), dt),))))
LSTM = _layer_entry("LSTM", lambda dt: ({"input_size": 128, "hidden_size": 256, "num_layers": 2},
                                        Inputs((_normal((100, 32, 128), dt),))))
GRU = _layer_entry("GRU", lambda dt: ({"input_size": 64, "hidden_size": 128, "num_layers": 2},
                                      Inputs((_normal((50, 32, 64), dt),))))


# -- cells ------------------------------------------------------------------------------

def _cell_kwargs(name):
    optional = {"bias": st.booleans()}
    if name == "RNNCell":
        optional["nonlinearity"] = st.sampled_from(["tanh", "relu"])
    return st.fixed_dictionaries({"input_size": st.integers(1, 4), "hidden_size": st.integers(1, 5)}, optional=optional)


def _cell_inputs(name):
    def inputs(kw, dt, layout):
        batch = () if layout == "unbatched" else (0,) if layout == "empty" else None

        @st.composite
        def draw(draw):
            b = batch if batch is not None else (draw(st.integers(1, 4)),)
            x = draw(float_arrays(b + (kw["input_size"],), dt, -5, 5))
            if not draw(st.booleans()):
                return Inputs((x,))
            h = draw(float_arrays(b + (kw["hidden_size"],), dt, -2, 2))
            if name == "LSTMCell":
                return Inputs((x, (h, draw(float_arrays(b + (kw["hidden_size"],), dt, -2, 2)))))
            return Inputs((x, h))

        return draw()

    return inputs


def _cell_entry(name):
    base = {"input_size": 3, "hidden_size": 4}
    z = lambda shape, dt=np.float32: np.zeros(shape, dt)  # noqa: E731
    hx = (lambda shape: (z(shape), z(shape))) if name == "LSTMCell" else z
    examples = [
        Example("bias=False-hx", "edge", {**base, "bias": False},
                lambda dt: Inputs((_normal((2, 3), dt), (_normal((2, 4), dt, 1), _normal((2, 4), dt, 2))
                                   if name == "LSTMCell" else _normal((2, 4), dt, 1)))),
        Example("unbatched-hx", "layout", base,
                lambda dt: Inputs((_normal((3,), dt), (_normal((4,), dt, 1), _normal((4,), dt, 2))
                                   if name == "LSTMCell" else _normal((4,), dt, 1)))),
        Example("hidden_size=0", "edge", {**base, "hidden_size": 0}, lambda dt: Inputs((_normal((2, 3), dt),))),
        Example("special", "special", base,
                lambda dt: Inputs((np.array([[np.nan, 0.0, 1.0], [np.inf, -np.inf, -0.0], [1e30, -1e30, 0.0]], dt),))),
    ]
    if name == "RNNCell":
        examples.append(Example("relu", "edge", {**base, "nonlinearity": "relu"}, lambda dt: Inputs((_normal((4, 3), dt),))))
    invalid = [
        Invalid("negative-hidden_size", {**base, "hidden_size": -1}),
        Invalid("3d-input", base, lambda dt: Inputs((z((2, 2, 3)),))),
        Invalid("4d-hx", base, lambda dt: Inputs((z((2, 3)), hx((1, 2, 4, 1))))),
        Invalid("input-size-mismatch", base, lambda dt: Inputs((z((2, 4)),))),
        Invalid("hx-batch-mismatch", base, lambda dt: Inputs((z((2, 3)), hx((3, 4))))),
        Invalid("hx-size-mismatch", base, lambda dt: Inputs((z((2, 3)), hx((2, 5))))),
        Invalid("unbatched-input-batched-hx", base, lambda dt: Inputs((z((3,)), hx((2, 4))))),
        Invalid("dtype-mismatch-input", base, lambda dt: Inputs((z((2, 3), _other(dt)),))),
    ]
    if name == "LSTMCell":
        invalid.append(Invalid("one-hidden-state", base, lambda dt: Inputs((z((2, 3)), (z((2, 4)),)))))
        invalid.append(Invalid("cx-size-mismatch", base, lambda dt: Inputs((z((2, 3)), (z((2, 4)), z((2, 5)))))))
    if name == "RNNCell":
        invalid.append(Invalid("unknown-nonlinearity", {**base, "nonlinearity": "sigmoid"}, lambda dt: Inputs((z((2, 3)),))))
    return Entry(
        name=name, kwargs=_cell_kwargs(name), inputs=_cell_inputs(name), factory_kwargs=True,
        layouts=("batched", "unbatched", "empty"), examples=tuple(examples), invalid=_in_dtype(invalid),
        bench=lambda dt: ({"input_size": 256, "hidden_size": 512}, Inputs((_normal((64, 256), dt),))),
    )


ENTRIES = [RNN, LSTM, GRU] + [_cell_entry(n) for n in ("RNNCell", "LSTMCell", "GRUCell")]
