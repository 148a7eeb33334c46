"""Catalog entries: MultiheadAttention and the Transformer family
(torch/nn/modules/activation.py, torch/nn/modules/transformer.py).

Paths. torch computes attention three ways that differ in fully masked rows
(docs/findings/rnn.md): softmax (``need_weights=True``: NaN), SDPA's safe softmax
(``need_weights=False``: 0), and the fast paths taken in eval mode without
autograd (NaN; and, in TransformerEncoder with a padding mask, nested tensors
that return exact zeros at padded positions). The forward check runs torch
under ``no_grad`` and the gradients check with autograd, so both are judged: the
twin takes the same path under the same conditions.

Masks are forward keyword arguments; float masks (``attn_mask``, ``key_padding_mask``,
``src_mask``...) are gradient leaves on both sides, named by their parameter.

State: both regimes of ``nnparity.catalog.default_state`` (torch's own init: xavier
for the projections, zero biases and LayerNorm's ones and zeros with a small spread;
and N(0, 1), where scores are large and softmax is nearly one-hot).

Randomness. MultiheadAttention's dropout on the attention weights runs inside
``F.multi_head_attention_forward`` (or SDPA) at the MultiheadAttention's own path;
``mha_weight_dropout`` hands that draw to the twin's ``inject_noise(attn_dropout=...)``.
A Transformer layer's Dropout submodules (``dropout``, ``dropout1``...) take theirs
through Dropout's adapter, and its ``self_attn``/``multihead_attn`` through this one,
so training draws any dropout p.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnparity.catalog import Entry, Example, Inputs, Invalid

from ..strategies import float_arrays
from .rnn import _in_dtype


def _normal(shape, dt, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dt)


_DROPOUT_P = st.one_of(st.sampled_from([0.5, 0.0, 1.0]), st.floats(0.0, 1.0))


# -- MultiheadAttention -------------------------------------------------------------------

@st.composite
def _mha_kwargs(draw):
    heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kw = {"embed_dim": heads * head_dim, "num_heads": heads}
    for key in ("bias", "add_bias_kv", "add_zero_attn", "batch_first"):
        if draw(st.booleans()):
            kw[key] = draw(st.booleans())
    if draw(st.booleans()):
        kw["kdim"], kw["vdim"] = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    # Training differs from eval only through dropout: Hypothesis's simplest draw has it
    # (the train_eval check needs torch to differ on some of its 8 ci cases).
    if not draw(st.booleans()):
        kw["dropout"] = draw(_DROPOUT_P)
    return kw


#: torch 2.13 fails on an empty batch (N = 0) with any mask on the scaled_dot_product_attention
#: path (need_weights=False, and every Transformer layer): ``attn_mask.view(bsz, num_heads, -1,
#: src_len)`` cannot infer -1 from 0 elements (RuntimeError). The strategies draw no masks there
#: (docs/findings/rnn.md); the twin computes the empty result.
_EMPTY_BATCH_MASKS = "torch cannot reshape an empty batch's mask on the SDPA path"


#: torch 2.13: TransformerEncoder in eval without autograd, nested-tensor path, with every
#: position of the batch padded: RuntimeError "to_padded_tensor: at least one constituent
#: tensor should have non-zero numel" (with autograd it computes). docs/findings/rnn.md.
_ALL_PADDED = "torch's nested path cannot pad back a batch with no valid position"


def _bool_mask(shape):
    return hnp.arrays(np.bool_, shape, elements=st.booleans())


def _mha_masks(draw, kw, L, S, N, unbatched):
    """need_weights / average_attn_weights / key_padding_mask / attn_mask / is_causal."""
    fkw = {}
    for key in ("need_weights", "average_attn_weights"):
        if draw(st.booleans()):
            fkw[key] = draw(st.booleans())
    kind = draw(st.sampled_from(["none", "bool", "float"]))
    if N == 0 and not unbatched and not fkw.get("need_weights", True):
        kind = "none"  # _EMPTY_BATCH_MASKS
    if kind != "none" and draw(st.booleans()):
        shape = (S,) if unbatched else (N, S)
        fkw["key_padding_mask"] = draw(_bool_mask(shape) if kind == "bool" else float_arrays(shape, np.float32, -3, 3))
    if kind != "none" and draw(st.booleans()):
        H = kw["num_heads"]
        shape = draw(st.sampled_from([(L, S), ((1 if unbatched else N) * H, L, S)]))
        if kind == "bool" and len(shape) == 2 and draw(st.booleans()):
            fkw["attn_mask"] = np.triu(np.ones((L, S), bool), 1)
            fkw["is_causal"] = draw(st.booleans())  # a true hint: the mask is causal
        else:
            fkw["attn_mask"] = draw(_bool_mask(shape) if kind == "bool" else float_arrays(shape, np.float32, -3, 3))
    return fkw


def _cast_masks(fkw, dt):
    return {k: (v.astype(dt) if isinstance(v, np.ndarray) and v.dtype == np.float32 else v) for k, v in fkw.items()}


def mha_inputs(kw, dt, layout):
    E = kw["embed_dim"]
    kd, vd = kw.get("kdim") or E, kw.get("vdim") or E

    @st.composite
    def draw(draw):
        L, S = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        N = 0 if layout == "empty" else draw(st.integers(1, 3))
        unbatched = layout == "unbatched"

        def shape(T, d):
            if unbatched:
                return (T, d)
            return (N, T, d) if kw.get("batch_first") else (T, N, d)

        q = draw(float_arrays(shape(L, E), dt, -3, 3))
        k = draw(float_arrays(shape(S, kd), dt, -3, 3))
        v = draw(float_arrays(shape(S, vd), dt, -3, 3))
        return Inputs((q, k, v), _cast_masks(_mha_masks(draw, kw, L, S, N, unbatched), dt))

    return draw()


def mha_weight_dropout(draws):
    """torch's one draw in a MultiheadAttention: the dropout on the attention weights,
    ``(N * H, L, S)`` in ``multi_head_attention_forward`` (need_weights=True) or
    ``(N, H, L, S)`` in SDPA's math kernel (need_weights=False); the same numbers in the
    same order for the same seed, and the twin takes either shape. Kept = nonzero."""
    (draw,) = draws
    return {"attn_dropout": draw.values != 0}


def mha_statistics(impl, rng):
    """The twin's own dropout on the attention weights: with need_weights=True and
    average_attn_weights=False the returned weights are ``keep * softmax / (1 - p)``;
    softmax is positive here (no masks), so the kept entries are the nonzero ones.
    For p in {0.25, 0.6}, n = 8 * 4 * 50 * 125 = 200,000 weights: keep rate within the
    Hoeffding margin of 1 - p at a two-sided false-alarm rate of 1e-6 / 2 each."""
    from .core import hoeffding_margin

    alpha, results = 1e-6 / 2, []
    for p in (0.25, 0.6):
        m = impl.nn.MultiheadAttention(8, 4, dropout=p, dtype=np.float64)
        m.generator = np.random.default_rng(rng.integers(2**63))
        m.train()
        q = rng.standard_normal((50, 125, 8)) * 0.1
        _, w = m(q, q.copy(), q.copy(), average_attn_weights=False)
        kept = w != 0
        rate, margin = kept.mean(), hoeffding_margin(kept.size, alpha)
        results.append((f"attention keep rate p={p}", abs(rate - (1 - p)) < margin,
                        f"keep rate {rate:.5f}, expected {1 - p:.5f} +- {margin:.5f} (false-alarm rate {alpha:.1e})"))
    return results


def _mha_examples():
    base = {"embed_dim": 4, "num_heads": 2}
    q = lambda dt, shape=(3, 2, 4): _normal(shape, dt)  # noqa: E731
    kv = lambda dt, shape=(5, 2, 4), seed=1: _normal(shape, dt, seed)  # noqa: E731
    all_padded = np.array([[False, False, False, False, False], [True, True, True, True, True]])
    row_masked = np.array([[False, True, True, True, True], [True] * 5, [False] * 5])
    out = [
        Example("kdim-vdim", "edge", {**base, "kdim": 3, "vdim": 5},
                lambda dt: Inputs((q(dt), kv(dt, (5, 2, 3)), kv(dt, (5, 2, 5), 2)))),
        Example("bias_kv-zero_attn-masks", "edge", {**base, "add_bias_kv": True, "add_zero_attn": True},
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)),
                                  {"key_padding_mask": np.array([[False, True, False, False, True]] * 2),
                                   "attn_mask": _normal((3, 5), dt, 3)})),
        Example("3d-float-mask-per-head-weights", "edge", base,
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)),
                                  {"attn_mask": _normal((4, 3, 5), dt, 4), "average_attn_weights": False})),
        Example("causal-need_weights=False", "edge", base,
                lambda dt: Inputs((q(dt, (4, 2, 4)), kv(dt, (4, 2, 4)), kv(dt, (4, 2, 4), 2)),
                                  {"attn_mask": np.triu(np.ones((4, 4), bool), 1), "is_causal": True, "need_weights": False})),
        Example("batch_first-bias=False", "edge", {**base, "batch_first": True, "bias": False},
                lambda dt: Inputs((q(dt, (2, 3, 4)), kv(dt, (2, 5, 4)), kv(dt, (2, 5, 4), 2)))),
        Example("dropout-eval", "edge", {**base, "dropout": 0.5}, lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2))), mode="eval"),
        Example("dropout=1-train", "edge", {**base, "dropout": 1.0}, lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)))),
        Example("unbatched-masks", "layout", base,
                lambda dt: Inputs((q(dt, (3, 4)), kv(dt, (5, 4)), kv(dt, (5, 4), 2)),
                                  {"key_padding_mask": np.array([False, False, True, False, False]),
                                   "attn_mask": _normal((2, 3, 5), dt, 5)})),
        # Fully masked rows: NaN with need_weights=True (softmax), zeros with need_weights=False
        # (scaled_dot_product_attention's safe softmax), in the forward and in every gradient.
        Example("all-keys-padded-need_weights", "special", base,
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)), {"key_padding_mask": all_padded})),
        Example("all-keys-padded-sdpa", "special", base,
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)), {"key_padding_mask": all_padded, "need_weights": False})),
        Example("row-masked-need_weights", "special", base,
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)), {"attn_mask": row_masked})),
        Example("row-masked-sdpa", "special", base,
                lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)), {"attn_mask": row_masked, "need_weights": False})),
        Example("nan-inf-inputs", "special", base,
                lambda dt: Inputs((np.array([[[np.nan, 0, 1, 2]], [[0, -0.0, 0, 0]]], dt), np.array([[[np.inf, 0, 1, 2]], [[1, 2, 3, 4]]], dt),
                                   np.array([[[1, 2, 3, 4]], [[-0.0, 0, 1, 1]]], dt)))),
    ]
    out.append(Example("dropout-train-need_weights=False", "edge", {**base, "dropout": 0.5},
                       lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)), {"need_weights": False})))
    out.append(Example("dropout-train-need_weights", "edge", {**base, "dropout": 0.5},
                       lambda dt: Inputs((q(dt), kv(dt), kv(dt, seed=2)))))
    return tuple(out)


def _mha_invalid():
    base = {"embed_dim": 4, "num_heads": 2}
    z = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
    qkv = lambda: (z(3, 2, 4), z(5, 2, 4), z(5, 2, 4))  # noqa: E731
    return _in_dtype([
        Invalid("embed_dim=0", {"embed_dim": 0, "num_heads": 1}),
        Invalid("num_heads=0", {"embed_dim": 4, "num_heads": 0}),
        Invalid("embed_dim-not-divisible", {"embed_dim": 5, "num_heads": 2}),
        Invalid("4d-query", base, lambda dt: Inputs((z(3, 2, 4, 1), z(5, 2, 4), z(5, 2, 4)))),
        Invalid("2d-key-3d-query", base, lambda dt: Inputs((z(3, 2, 4), z(5, 4), z(5, 4)))),
        Invalid("embed-dim-mismatch", base, lambda dt: Inputs((z(3, 2, 3), z(5, 2, 3), z(5, 2, 3)))),
        Invalid("key-value-shape-mismatch", base, lambda dt: Inputs((z(3, 2, 4), z(5, 2, 4), z(6, 2, 4)))),
        Invalid("2d-attn_mask-shape", base, lambda dt: Inputs(qkv(), {"attn_mask": np.zeros((3, 4), bool)})),
        Invalid("3d-attn_mask-shape", base, lambda dt: Inputs(qkv(), {"attn_mask": np.zeros((2, 3, 5), bool)})),
        Invalid("key_padding_mask-shape", base, lambda dt: Inputs(qkv(), {"key_padding_mask": np.zeros((2, 4), bool)})),
        Invalid("key_padding_mask-3d", base, lambda dt: Inputs(qkv(), {"key_padding_mask": np.zeros((2, 5, 1), bool)})),
        Invalid("integer-attn_mask", base, lambda dt: Inputs(qkv(), {"attn_mask": np.zeros((3, 5), np.int64)})),
        Invalid("is_causal-without-mask", base, lambda dt: Inputs(qkv(), {"is_causal": True})),
    ])


MHA = Entry(
    name="MultiheadAttention", kwargs=_mha_kwargs(), inputs=mha_inputs, factory_kwargs=True,
    layouts=("batched", "unbatched", "empty"), train_eval_differs=True, random=True,
    noise=mha_weight_dropout, statistical=mha_statistics,
    examples=_mha_examples(), invalid=_mha_invalid(),
    bench=lambda dt: ({"embed_dim": 256, "num_heads": 8}, Inputs((_normal((64, 32, 256), dt), _normal((64, 32, 256), dt, 1),
                                                                   _normal((64, 32, 256), dt, 2)))),
)




# -- Transformer family ----------------------------------------------------------------------
#
# Dropout in training: the layers' Dropout submodules and their attention's weight dropout
# draw their own noise, injected into the twin's submodules at the same paths.

#: Activation specs (strings in the drawn kwargs, so cases serialise): torch's strings, or
#: callables built on each side from the namespace under test: modules (which become the
#: ``activation`` submodule, and relu/gelu modules keep the fast path) and a plain function.
_ACTIVATIONS = {
    "ReLU()": lambda nn: nn.ReLU(),
    "GELU(tanh)": lambda nn: nn.GELU(approximate="tanh"),
    "Tanh()": lambda nn: nn.Tanh(),
    "function-tanh": lambda nn: (lambda m: (lambda x: m(x)))(nn.Tanh()),
}


def _activation_kw(kw, nn):
    kw = dict(kw)
    if kw.get("activation") in _ACTIVATIONS:
        kw["activation"] = _ACTIVATIONS[kw["activation"]](nn)
    return kw


def _layer_kw(kw, nn, skip=("num_layers", "norm", "enable_nested_tensor", "mask_check")):
    return {k: v for k, v in _activation_kw(kw, nn).items() if k not in skip}


def _norm(nn, layer, kw, factory):
    """The final norm: a LayerNorm of the class the layers use (torch.nn.LayerNorm, or the
    twin's), so the catalog needs no LayerNorm from the package under test."""
    return type(layer.norm1)(kw["d_model"], eps=kw.get("layer_norm_eps", 1e-5), bias=kw.get("bias", True), **factory)


def build_stack(name):
    def build(nn, kw, factory, side):
        layer = getattr(nn, name + "Layer")(**_layer_kw(kw, nn), **factory)
        norm = _norm(nn, layer, kw, factory) if kw.get("norm") else None
        extra = {k: kw[k] for k in ("enable_nested_tensor", "mask_check") if k in kw}
        return getattr(nn, name)(layer, kw["num_layers"], norm, **extra)

    return build


def build_transformer(nn, kw, factory, side):
    kw = _activation_kw(kw, nn)
    if kw.pop("custom_encoder", False):
        layer = nn.TransformerEncoderLayer(kw["d_model"], kw["nhead"], kw.get("dim_feedforward", 2048), kw["dropout"],
                                           batch_first=kw.get("batch_first", False), **factory)
        kw["custom_encoder"] = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    return nn.Transformer(**kw, **factory)


@st.composite
def _transformer_kwargs(draw, stack=None, full=False):
    heads = draw(st.sampled_from([2, 1, 3]))  # 2 first: the fast paths need an even number of heads
    kw = {"d_model": heads * draw(st.integers(1, 2)), "nhead": heads, "dim_feedforward": draw(st.integers(1, 5)),
          "dropout": draw(_DROPOUT_P)}
    for key in ("batch_first", "norm_first", "bias"):
        if draw(st.booleans()):
            kw[key] = draw(st.booleans())
    if draw(st.booleans()):
        kw["activation"] = draw(st.sampled_from(["relu", "gelu", *_ACTIVATIONS]))
    if draw(st.booleans()):
        kw["layer_norm_eps"] = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    if stack:
        kw["num_layers"] = draw(st.integers(1, 2))
        kw["norm"] = draw(st.booleans())
        if stack == "TransformerEncoder":
            for key in ("enable_nested_tensor", "mask_check"):
                if draw(st.booleans()):
                    kw[key] = draw(st.booleans())
    if full:
        kw["num_encoder_layers"], kw["num_decoder_layers"] = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return kw


def _seq(draw, kw, T, N, unbatched, dt):
    d = kw["d_model"]
    shape = (T, d) if unbatched else ((N, T, d) if kw.get("batch_first") else (T, N, d))
    return draw(float_arrays(shape, dt, -3, 3))


def _attn_masks(draw, kw, L, S, N, unbatched, dt, mask_name, kpm_name, causal_name=None, self_attention=True):
    """A drawn mask set: bool or float (never mixed), 2-D or 3-D attention mask, key
    padding with left-aligned padding often (the nested-tensor path) and sometimes not;
    a causal mask with a true ``*_is_causal`` hint."""
    out = {}
    kind = draw(st.sampled_from(["none", "bool", "float"]))
    if kind == "none" or N == 0:  # an empty batch with a mask fails inside torch (_EMPTY_BATCH_MASKS)
        return out
    H = kw["nhead"]
    if draw(st.booleans()):
        shape = (S,) if unbatched else (N, S)
        if kind == "bool" and draw(st.booleans()):  # left-aligned: the valid keys come first
            lengths = draw(st.lists(st.integers(0, S), min_size=max(N, 1), max_size=max(N, 1)))
            pad = np.arange(S)[None, :] >= np.array(lengths)[:, None]
            kpm = pad[0] if unbatched else pad
        else:
            kpm = draw(_bool_mask(shape) if kind == "bool" else float_arrays(shape, dt, -3, 3))
        # torch's nested-tensor path (TransformerEncoder, eval, no autograd) fails when no
        # position of the whole batch is valid (_ALL_PADDED); a float mask's nonzero entries
        # count as padding there. Keep the first key of the first sequence valid.
        kpm.reshape(-1)[:1] = 0
        out[kpm_name] = kpm
    if draw(st.booleans()):
        if kind == "bool" and self_attention and L == S and causal_name and draw(st.booleans()):
            out[mask_name] = np.triu(np.ones((L, S), bool), 1)
            out[causal_name] = True
        else:
            shape = draw(st.sampled_from([(L, S), ((1 if unbatched else N) * H, L, S)]))
            out[mask_name] = draw(_bool_mask(shape) if kind == "bool" else float_arrays(shape, dt, -3, 3))
    return out


def _layout_sizes(draw, layout):
    unbatched = layout == "unbatched"
    N = 0 if layout == "empty" else draw(st.integers(1, 3))
    return N, unbatched


def encoder_inputs(names=("src_mask", "src_key_padding_mask", "is_causal")):
    def inputs(kw, dt, layout):
        @st.composite
        def draw(draw):
            N, unbatched = _layout_sizes(draw, layout)
            L = draw(st.integers(1, 4))
            src = _seq(draw, kw, L, N, unbatched, dt)
            return Inputs((src,), _attn_masks(draw, kw, L, L, N, unbatched, dt, *names))

        return draw()

    return inputs


def _two_sequence_inputs(mask_sets):
    """Two sequences (tgt and memory, or src and tgt) and mask sets over them: each set is
    (query is the first sequence?, key is the first sequence?, mask names...)."""

    def inputs(kw, dt, layout):
        @st.composite
        def draw(draw):
            N, unbatched = _layout_sizes(draw, layout)
            lengths = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
            seqs = tuple(_seq(draw, kw, T, N, unbatched, dt) for T in lengths)
            fkw = {}
            for q_first, k_first, *names in mask_sets:
                L, S = lengths[0 if q_first else 1], lengths[0 if k_first else 1]
                fkw.update(_attn_masks(draw, kw, L, S, N, unbatched, dt, *names, self_attention=q_first == k_first))
            return Inputs(seqs, fkw)

        return draw()

    return inputs


decoder_inputs = _two_sequence_inputs([
    (True, True, "tgt_mask", "tgt_key_padding_mask", "tgt_is_causal"),
    (True, False, "memory_mask", "memory_key_padding_mask", "memory_is_causal")])
transformer_inputs = _two_sequence_inputs([
    (True, True, "src_mask", "src_key_padding_mask", "src_is_causal"),
    (False, False, "tgt_mask", "tgt_key_padding_mask", "tgt_is_causal"),
    (False, True, "memory_mask", "memory_key_padding_mask", None)])


def spread_rows(inputs):
    """Gradcheck only: every row of every input sequence gets a ramp from -2 to 2 added
    over its features, so no row is near-constant. A layer norm at a near-constant row
    has derivatives of order 1/sqrt(eps) ~ 316, compounding over stacked norms (and,
    with d_model = 2, it is a smoothed step of width ~sqrt(eps)); central differences
    with h = 1e-6 then leave the linear regime (seen: a decoder with three norms on an
    all-zero input, where finite differences were off by 17% while the gradients check
    matched torch). Comparisons with torch keep the whole domain, constant rows included."""

    def spread(x):
        if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) and x.ndim and x.shape[-1] > 1:
            return (x + np.linspace(-2, 2, x.shape[-1])).astype(x.dtype)
        return x

    return lambda kw, dt, layout: inputs(kw, dt, layout).map(
        lambda inp: Inputs(tuple(spread(a) for a in inp.args), inp.kwargs))


def unbatched_only(inputs):
    """Gradcheck compares the twin's backward with finite differences of its own forward.
    In eval mode without autograd the twin, like torch, runs the fused fast paths, which
    differ from the autograd path by design (NaN for fully masked queries, float masks
    read as boolean, exact GELU for GELU(tanh), zeros at padded positions; docs/findings):
    finite differences of that forward are not derivatives of the autograd path. Unbatched
    inputs never take a fast path (they need 3-D inputs), so gradcheck draws those; batched
    gradients are judged against torch by the gradients check."""
    return lambda kw, dt, layout: inputs(kw, dt, "unbatched")


def _tf_base(**extra):
    return {"d_model": 4, "nhead": 2, "dim_feedforward": 6, "dropout": 0.0, **extra}


def _encoder_examples(name):
    bf = _tf_base(batch_first=True)
    x = lambda dt, shape=(2, 3, 4): _normal(shape, dt)  # noqa: E731
    pad_all = np.array([[False, False, True], [True, True, True]])
    stack = {"num_layers": 2} if name == "TransformerEncoder" else {}
    kpm_name = "src_key_padding_mask"
    mask_name = "mask" if name == "TransformerEncoder" else "src_mask"
    ex = [
        Example("fast-path-gelu-tanh", "edge", {**bf, **stack, "activation": "GELU(tanh)"}, lambda dt: Inputs((3 * x(dt),)), mode="eval"),
        Example("fast-path-float-padding-mask", "edge", {**bf, **stack},
                lambda dt: Inputs((x(dt),), {kpm_name: np.array([[0.0, 0.0, -2.0], [0.0, -0.5, 0.0]], dt)}), mode="eval"),
        Example("default-dropout-eval", "edge", {"d_model": 4, "nhead": 2, "dim_feedforward": 6, **stack},
                lambda dt: Inputs((x(dt, (3, 2, 4)),)), mode="eval"),
        Example("norm_first-causal", "edge", {**_tf_base(norm_first=True), **stack},
                lambda dt: Inputs((x(dt, (3, 2, 4)),), {mask_name: np.triu(np.full((3, 3), -np.inf, dt), 1)})),
        # A batch element whose keys are all padding: NaN on the eval fast path, finite values
        # (attention weights 0, so the attention output is out_proj.bias) in training or with autograd.
        Example("all-padded-eval", "special", {**bf, **stack}, lambda dt: Inputs((x(dt),), {kpm_name: pad_all}), mode="eval"),
        Example("all-padded-train", "special", {**bf, **stack}, lambda dt: Inputs((x(dt),), {kpm_name: pad_all})),
        Example("nan-input", "special", {**bf, **stack}, lambda dt: Inputs((np.array([[[np.nan, 0, 1, 2], [0, 1, 2, 3]]], dt),))),
    ]
    if name == "TransformerEncoder":
        ex += [
            Example("nested-padded-zeros-final-norm", "special", {**bf, "num_layers": 2, "norm": True},
                    lambda dt: Inputs((x(dt),), {kpm_name: np.array([[False, False, True], [False, True, True]])}), mode="eval"),
            Example("not-left-aligned", "edge", {**bf, "num_layers": 2},
                    lambda dt: Inputs((x(dt),), {kpm_name: np.array([[True, False, False], [False, True, False]])}), mode="eval"),
            Example("enable_nested_tensor=False", "special", {**bf, "num_layers": 2, "enable_nested_tensor": False},
                    lambda dt: Inputs((x(dt),), {kpm_name: pad_all}), mode="eval"),
        ]
    return tuple(ex)


def _tf_invalid(name):
    base = _tf_base()
    z = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
    stack = {"num_layers": 1} if name in ("TransformerEncoder", "TransformerDecoder") else {}
    inv = [
        Invalid("d_model-not-divisible", {"d_model": 5, "nhead": 2, **stack}),
        Invalid("activation-unknown", {**base, "activation": "tanh", **stack}),
        Invalid("dropout>1", {**base, "dropout": 1.5, **stack}),
    ]
    if name in ("TransformerEncoderLayer", "TransformerEncoder"):
        inv += [
            Invalid("feature-mismatch", {**base, **stack}, lambda dt: Inputs((z(3, 2, 5),))),
            Invalid("4d-src", {**base, **stack}, lambda dt: Inputs((z(3, 2, 4, 1),))),
            Invalid("mask-shape", {**base, **stack}, lambda dt: Inputs((z(3, 2, 4),), {("mask" if stack else "src_mask"): np.zeros((2, 3), bool)})),
            Invalid("padding-mask-shape", {**base, **stack}, lambda dt: Inputs((z(3, 2, 4),), {"src_key_padding_mask": np.zeros((2, 4), bool)})),
        ]
    if name in ("TransformerDecoderLayer", "TransformerDecoder"):
        inv += [
            Invalid("memory-feature-mismatch", {**base, **stack}, lambda dt: Inputs((z(3, 2, 4), z(5, 2, 3)))),
            Invalid("memory_is_causal-without-mask", {**base, **stack}, lambda dt: Inputs((z(3, 2, 4), z(5, 2, 4)), {"memory_is_causal": True})),
        ]
    if name == "Transformer":
        full = {**base, "num_encoder_layers": 1, "num_decoder_layers": 1}
        inv += [
            Invalid("batch-mismatch", full, lambda dt: Inputs((z(3, 2, 4), z(5, 3, 4)))),
            Invalid("src-feature-mismatch", full, lambda dt: Inputs((z(3, 2, 5), z(5, 2, 4)))),
            Invalid("tgt-feature-mismatch", full, lambda dt: Inputs((z(3, 2, 4), z(5, 2, 3)))),
        ]
    return _in_dtype(inv)


def _decoder_examples(name):
    stack = {"num_layers": 2, "norm": True} if name == "TransformerDecoder" else {}
    t = lambda dt, shape=(3, 2, 4), seed=0: _normal(shape, dt, seed)  # noqa: E731
    return (
        Example("causal-float-tgt-mask-detected", "edge", {**_tf_base(), **stack},
                lambda dt: Inputs((t(dt), t(dt, (5, 2, 4), 1)), {"tgt_mask": np.triu(np.full((3, 3), -np.inf, dt), 1)})),
        Example("norm_first-callable-activation", "edge", {**_tf_base(norm_first=True, activation="function-tanh"), **stack},
                lambda dt: Inputs((t(dt), t(dt, (5, 2, 4), 1)))),
        Example("default-dropout-eval", "edge", {"d_model": 4, "nhead": 2, "dim_feedforward": 6, **stack},
                lambda dt: Inputs((t(dt), t(dt, (5, 2, 4), 1))), mode="eval"),
        Example("memory-all-padded", "special", {**_tf_base(), **stack},
                lambda dt: Inputs((t(dt), t(dt, (5, 2, 4), 1)), {"memory_key_padding_mask": np.array([[False] * 4 + [True], [True] * 5])})),
    )


def _transformer_examples():
    full = _tf_base(num_encoder_layers=1, num_decoder_layers=1)
    s = lambda dt, shape=(5, 2, 4), seed=0: _normal(shape, dt, seed)  # noqa: E731
    return (
        Example("batch_first-padding-nested-eval", "edge", {**full, "batch_first": True},
                lambda dt: Inputs((s(dt, (2, 5, 4)), s(dt, (2, 3, 4), 1)),
                                  {"src_key_padding_mask": np.array([[False] * 4 + [True], [False] * 2 + [True] * 3]),
                                   "memory_key_padding_mask": np.array([[False] * 4 + [True], [False] * 2 + [True] * 3])}), mode="eval"),
        Example("custom_encoder", "edge", {**full, "custom_encoder": True}, lambda dt: Inputs((s(dt), s(dt, (3, 2, 4), 1)))),
        Example("causal-tgt-norm_first-gelu", "edge", {**full, "norm_first": True, "activation": "gelu"},
                lambda dt: Inputs((s(dt), s(dt, (3, 2, 4), 1)), {"tgt_mask": np.triu(np.full((3, 3), -np.inf, dt), 1)})),
        Example("default-dropout-eval", "edge", {"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                                                 "dim_feedforward": 6}, lambda dt: Inputs((s(dt), s(dt, (3, 2, 4), 1))), mode="eval"),
    )


def _tf_entry(name, kwargs, inputs, build, examples, bench, gradcheck_inputs=None):
    return Entry(
        name=name, kwargs=kwargs, inputs=inputs, build_fn=build, layouts=("batched", "unbatched", "empty"),
        train_eval_differs=True, random=True, examples=examples, invalid=_tf_invalid(name), bench=bench,
        domains={"gradcheck": gradcheck_inputs} if gradcheck_inputs else {}, max_examples_scale=0.5,
    )


def _factory(name):
    def build(nn, kw, factory, side):
        return getattr(nn, name)(**_activation_kw(kw, nn), **factory)

    return build


_BENCH_TF = {"d_model": 64, "nhead": 4, "dim_feedforward": 256, "dropout": 0.0, "batch_first": True}

TRANSFORMER_ENTRIES = [
    _tf_entry("TransformerEncoderLayer", _transformer_kwargs(), encoder_inputs(), _factory("TransformerEncoderLayer"),
              _encoder_examples("TransformerEncoderLayer"),
              lambda dt: (_BENCH_TF, Inputs((_normal((16, 32, 64), dt),))), spread_rows(unbatched_only(encoder_inputs()))),
    _tf_entry("TransformerEncoder", _transformer_kwargs(stack="TransformerEncoder"),
              encoder_inputs(("mask", "src_key_padding_mask", "is_causal")), build_stack("TransformerEncoder"),
              _encoder_examples("TransformerEncoder"),
              lambda dt: ({**_BENCH_TF, "num_layers": 2, "norm": True}, Inputs((_normal((16, 32, 64), dt),))),
              spread_rows(unbatched_only(encoder_inputs(("mask", "src_key_padding_mask", "is_causal"))))),
    _tf_entry("TransformerDecoderLayer", _transformer_kwargs(), decoder_inputs, _factory("TransformerDecoderLayer"),
              _decoder_examples("TransformerDecoderLayer"),
              lambda dt: (_BENCH_TF, Inputs((_normal((16, 32, 64), dt), _normal((16, 32, 64), dt, 1)))),
              spread_rows(decoder_inputs)),
    _tf_entry("TransformerDecoder", _transformer_kwargs(stack="TransformerDecoder"), decoder_inputs,
              build_stack("TransformerDecoder"), _decoder_examples("TransformerDecoder"),
              lambda dt: ({**_BENCH_TF, "num_layers": 2, "norm": True},
                          Inputs((_normal((16, 32, 64), dt), _normal((16, 32, 64), dt, 1)))),
              spread_rows(decoder_inputs)),
    _tf_entry("Transformer", _transformer_kwargs(full=True), transformer_inputs, build_transformer, _transformer_examples(),
              lambda dt: ({**_BENCH_TF, "num_encoder_layers": 2, "num_decoder_layers": 2},
                          Inputs((_normal((32, 16, 64), dt), _normal((32, 16, 64), dt, 1)))),
              spread_rows(unbatched_only(transformer_inputs))),
]

ENTRIES = [MHA] + TRANSFORMER_ENTRIES
