"""Recurrent layers: one fused primitive per layer and direction, with its
backward-through-time beside the forward.

The layout is torch's *packed* one (aten/src/ATen/native/RNN.cpp, ``PackedLayer``):
``x`` is 2-D, ``(S, input_size)``, the time steps stacked one after another, step
``t`` holding rows ``offsets[t] : offsets[t] + batch_sizes[t]`` for batch rows
``0 .. batch_sizes[t] - 1`` (batch sizes never grow with t). A padded
``(T, N, I)`` sequence is the special case ``batch_sizes = [N] * T`` (a reshape, no
copy). Rows not active at a step keep their hidden state, which gives torch's
final hidden states of a packed batch in both directions.

Speed (the tape holds one node per layer and direction, not one per step):

* the input projection of every step is ONE GEMM, ``x @ W_ih^T + b_ih``;
* each step is ONE GEMM for the recurrent projection of all gates, ``h @ W_hh^T``;
* backward: one GEMM per step (``dgates @ W_hh``), then one GEMM each for
  ``dW_ih``, ``dW_hh``, ``dx`` over all steps at once.

Torch's conventions (RNN.cpp, ``SimpleCell``, ``LSTMCell``, ``GRUCell``); the
rounding order is not torch's (see Precision in ``rnn_layer``: the float64 oracle
arbitrates float32 differences):

* gates = ``h @ W_hh^T + b_hh + x @ W_ih^T + b_ih``;
* LSTM gate order i, f, g, o: ``c' = f*c + i*g``, ``h' = o*tanh(c')``, then
  ``h' = h' @ W_hr^T`` with ``proj_size`` (h has proj_size, c has hidden_size);
* GRU gate order r, z, n, with ``b_hn`` inside the reset gate:
  ``n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))``, ``h' = (h - n) * z + n``;
* RNN: ``h' = tanh(...)`` or ``relu(...)``; relu's gradient is 0 where h' <= 0
  (``threshold_backward`` on the result).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op, reshape

__all__ = ["rnn_layer"]  # helpers (multi_output, unbind, take, gather_rows, scatter_rows) by module path


def piece(x: Tensor, index) -> Tensor:
    """``x[index]`` for a basic index (slices, integers); its backward writes the
    cotangent into zeros of x's shape (pieces do not overlap, so no ``np.add.at``)."""

    def vjp(g):
        full = np.zeros(x.shape, x.dtype)
        full[index] = g
        return (full,)

    return op(x.data[index], (x,), vjp)


def multi_output(arrays, parents, vjp):
    """One tape node for a primitive with several outputs.

    ``vjp(*cotangents)`` gets one cotangent per output (zeros for an output that
    received none) and returns one per parent. The outputs are pieces of one flat
    buffer; the tape sums their cotangents into the node's.
    """
    shapes = [a.shape for a in arrays]
    bounds = np.cumsum([0] + [a.size for a in arrays])
    flat = np.concatenate([np.ravel(a) for a in arrays])
    pieces = [(int(bounds[k]), int(bounds[k + 1]), shapes[k]) for k in range(len(arrays))]
    node = op(flat, parents, lambda g: vjp(*[g[a:b].reshape(s) for a, b, s in pieces]))
    if not node.requires_grad:
        return tuple(Tensor(flat[a:b].reshape(s)) for a, b, s in pieces)
    return tuple(reshape(piece(node, slice(a, b)), s) for a, b, s in pieces)


def unbind(x: Tensor, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``."""
    axis = axis % x.ndim
    return [piece(x, (slice(None),) * axis + (k,)) for k in range(x.shape[axis])]


def take(x: Tensor, indices: np.ndarray, axis: int) -> Tensor:
    """``x`` reindexed along ``axis`` by a permutation (torch's ``index_select`` with
    ``sorted_indices`` / ``unsorted_indices``). Backward: the inverse permutation."""
    indices = np.asarray(indices, dtype=np.int64)
    inverse = np.empty_like(indices)
    inverse[indices] = np.arange(len(indices))
    return op(np.take(x.data, indices, axis=axis), (x,), lambda g: (np.take(g, inverse, axis=axis),))


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """In place: 1 / (1 + exp(-a)), as torch's CPU kernel (exactly 0 below about -88.7
    in float32, 1 at +inf, NaN stays NaN).

    ``a`` is often a strided view (a gate block of the gates array). The negation
    goes to a fresh contiguous array: NumPy 2.4.6's ``np.negative(v, out=v)`` on a
    strided float32 view with a 16-byte stride reads the input as if contiguous
    (``np.negative(a[::4], out=a[::4])`` writes -a[0], -a[1]; docs/findings/rnn.md).
    """
    with np.errstate(over="ignore"):
        e = np.negative(a)
        np.exp(e, out=e)
        e += 1
        np.reciprocal(e, out=e)
    a[...] = e
    return a


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def rnn_layer(mode: str, x: Tensor, batch_sizes, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None = None, reverse: bool = False):
    """One direction of one recurrent layer over the whole (packed) sequence.

    x: ``(S, I)`` packed rows; ``batch_sizes``: ints, one per step (non-increasing,
    sum S); h0: ``(B, H_out)`` with B = batch_sizes[0]; c0: ``(B, H)`` (LSTM only).
    ``mode``: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'. ``reverse`` runs the steps
    from last to first (the reverse direction of a bidirectional layer).

    Returns ``(output (S, H_out), h_n (B, H_out))`` and, for the LSTM, ``c_n (B, H)``
    as a third output.

    Backward through time, with d* the cotangents at one step (rows active there):

    * RNN: ``da = dh' * act'``, act' = 1 - h'^2 (tanh) or [h' > 0] (relu);
    * LSTM: ``dm = dh' W_hr`` (or dh'), ``do = dm tanh(c')``,
      ``dc = dc' + dm o (1 - tanh(c')^2)``, ``di = dc g``, ``df = dc c``,
      ``dg = dc i``, ``dc_prev = dc f``; the pre-activation cotangents are
      ``di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)``;
    * GRU: ``dz = dh' (h - n)``, ``dn = dh' (1 - z)``, ``da_n = dn (1 - n^2)``,
      ``dr = da_n (W_hn h + b_hn)``; the x-side gets ``[da_r, da_z, da_n]``, the
      h-side ``[da_r, da_z, da_n r]``, and ``dh_prev = dh' z + dgates_h W_hh``;

    then ``dh_prev += dgates_h @ W_hh`` each step; at the end
    ``dW_ih = dXP^T x``, ``dW_hh = dHP^T h_prev``, ``dx = dXP W_ih``,
    ``db_ih = sum dXP``, ``db_hh = sum dHP`` (one GEMM or sum each, all steps).

    Precision: the Elman RNN (tanh and relu) is computed in float64 and rounded
    once to the input's dtype (as ``batch_norm`` does); LSTM and GRU in the input's
    dtype. Measured against torch in float64 (the oracle), over random cases drawn
    like the catalog's (1-7 steps, 1-2 layers, both directions, parameters at init
    scale or N(0, 1), inputs in [-5, 5]): a float32 Elman RNN misses the oracle by
    more than assert_close's default tolerance in 1% (tanh) to 3% (relu) of the
    cases, and so does torch's own float32 (7% for relu): saturated tanh makes
    ``1 - y^2`` lose its digits, relu lets states grow. Two float32 results then
    disagree with neither within tolerance of the truth, and the oracle cannot
    arbitrate; rounding once keeps the twin within half an ulp of it. Float32 LSTM
    and GRU stayed within 0.37 of the tolerance (200 cases each), so they keep the
    speed of float32 GEMMs.
    """
    G = _GATES[mode]
    dt = x.dtype
    ct = np.float64 if mode in ("RNN_TANH", "RNN_RELU") else dt  # see Precision in the docstring
    X = x.data.astype(ct, copy=False)
    bs = [int(b) for b in batch_sizes]
    T, S = len(bs), X.shape[0]
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(np.int64) if T else np.zeros(0, np.int64)
    Wih, Whh = w_ih.data.astype(ct, copy=False), w_hh.data.astype(ct, copy=False)
    bih = None if b_ih is None else b_ih.data.astype(ct, copy=False)
    bhh = None if b_hh is None else b_hh.data.astype(ct, copy=False)
    H = Whh.shape[0] // G
    Whr = None if w_hr is None else w_hr.data.astype(ct, copy=False)
    Hout = H if Whr is None else Whr.shape[0]
    lstm, gru = mode == "LSTM", mode == "GRU"

    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN inputs give NaN rows, silently as torch
        xp = X @ Wih.T  # (S, G*H): every step's input projection, one GEMM
        if bih is not None:
            xp += bih
        if bhh is not None and not gru:  # GRU keeps b_hn apart: it sits inside r * (W_hn h + b_hn)
            xp += bhh
    out = np.zeros((S, Hout), ct)
    hprev_rows = np.empty((S, Hout), ct)  # the hidden state each row started its step from
    h = h0.data.astype(ct, copy=True)
    if lstm:
        c = c0.data.astype(ct, copy=True)
        acts = np.empty((S, 4 * H), ct)  # i, f, g, o after their nonlinearities
        cprev_rows = np.empty((S, H), ct)
        tanh_c = np.empty((S, H), ct)
        m_rows = np.empty((S, H), ct) if Whr is not None else None
    elif gru:
        acts = np.empty((S, 3 * H), ct)  # r, z, n
        hn_rows = np.empty((S, H), ct)  # W_hn h + b_hn
    WhhT = Whh.T
    steps = range(T - 1, -1, -1) if reverse else range(T)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in steps:
            b, o0 = bs[t], offsets[t]
            rows = slice(o0, o0 + b)
            hp = h[:b]
            hprev_rows[rows] = hp
            if lstm:
                gates = acts[rows]  # a contiguous block: the gates are computed in place
                np.matmul(hp, WhhT, out=gates)
                gates += xp[rows]
                _sigmoid_(gates[:, :2 * H])
                np.tanh(gates[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])
                _sigmoid_(gates[:, 3 * H:])
                i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
                cprev_rows[rows] = c[:b]
                cn = f * c[:b]
                cn += i * g
                c[:b] = cn
                tc = tanh_c[rows]
                np.tanh(cn, out=tc)
                tc = tc * o
                if Whr is not None:
                    m_rows[rows] = tc
                    tc = tc @ Whr.T
                hn = tc
            elif gru:
                gates = hp @ WhhT
                if bhh is not None:
                    gates += bhh
                xg = xp[rows]
                r = _sigmoid_(gates[:, :H] + xg[:, :H])
                z = _sigmoid_(gates[:, H:2 * H] + xg[:, H:2 * H])
                hn_rows[rows] = gates[:, 2 * H:]
                n = np.tanh(xg[:, 2 * H:] + gates[:, 2 * H:] * r)
                acts[rows, :H], acts[rows, H:2 * H], acts[rows, 2 * H:] = r, z, n
                hn = hp - n
                hn *= z
                hn += n
            else:
                gates = hp @ WhhT
                gates += xp[rows]
                if mode == "RNN_TANH":
                    hn = np.tanh(gates, out=gates)
                else:  # relu as torch's clamp_min: NaN and -0.0 pass through
                    gates[gates < 0] = 0
                    hn = gates
            out[rows] = hn
            h[:b] = hn
    outputs = tuple(a.astype(dt) for a in ((out, h) + ((c,) if lstm else ())))
    parents = [x, h0] + ([c0] if lstm else []) + [w_ih, w_hh] + [p for p in (b_ih, b_hh, w_hr) if p is not None]

    def vjp(g_out, g_h, g_c=None):
        g_out = g_out.astype(ct, copy=False)
        dh = g_h.astype(ct, copy=True)
        dc = g_c.astype(ct, copy=True) if lstm else None
        dxp = np.zeros((S, G * H), ct)
        dhp = np.zeros((S, G * H), ct) if gru else dxp  # h-side gate cotangents (GRU's n block differs)
        dh_rows = np.empty((S, Hout), ct) if Whr is not None else None
        with np.errstate(over="ignore", invalid="ignore"):
            for t in (range(T) if reverse else range(T - 1, -1, -1)):
                b, o0 = bs[t], offsets[t]
                rows = slice(o0, o0 + b)
                d = dh[:b] + g_out[rows]
                if lstm:
                    if Whr is not None:
                        dh_rows[rows] = d
                        d = d @ Whr
                    a = acts[rows]
                    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                    tc = tanh_c[rows]
                    dcn = dc[:b] + d * o * (1 - tc * tc)
                    dg = dxp[rows]
                    dg[:, :H] = dcn * g * i * (1 - i)
                    dg[:, H:2 * H] = dcn * cprev_rows[rows] * f * (1 - f)
                    dg[:, 2 * H:3 * H] = dcn * i * (1 - g * g)
                    dg[:, 3 * H:] = d * tc * o * (1 - o)
                    dc[:b] = dcn * f
                    dh[:b] = dg @ Whh
                elif gru:
                    a = acts[rows]
                    r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
                    dan = d * (1 - z) * (1 - n * n)
                    dar = dan * hn_rows[rows] * r * (1 - r)
                    daz = d * (hprev_rows[rows] - n) * z * (1 - z)
                    dxg, dhg = dxp[rows], dhp[rows]
                    dxg[:, :H] = dar
                    dxg[:, H:2 * H] = daz
                    dxg[:, 2 * H:] = dan
                    dhg[:, :2 * H] = dxg[:, :2 * H]
                    dhg[:, 2 * H:] = dan * r
                    dh[:b] = d * z + dhg @ Whh
                else:
                    y = out[rows]
                    da = d * (1 - y * y) if mode == "RNN_TANH" else np.where(y <= 0, 0.0, d)
                    dxp[rows] = da
                    dh[:b] = da @ Whh
        grads = [dxp @ Wih if x.requires_grad else None, dh]
        if lstm:
            grads.append(dc)
        grads.append(dxp.T @ X if w_ih.requires_grad else None)
        grads.append(dhp.T @ hprev_rows if w_hh.requires_grad else None)
        if b_ih is not None:
            grads.append(dxp.sum(axis=0))
        if b_hh is not None:
            grads.append(dhp.sum(axis=0))
        if w_hr is not None:
            grads.append(dh_rows.T @ m_rows)
        return tuple(None if g is None else g.astype(p.dtype, copy=False) for g, p in zip(grads, parents))

    return multi_output(outputs, parents, vjp)


def gather_rows(x: Tensor, index: np.ndarray) -> Tensor:
    """``x[index]`` along the first axis for distinct ``index`` (packing a padded
    batch). Backward: the cotangent scattered back into zeros of x's shape (the
    rows are distinct, so a plain assignment, no ``np.add.at``)."""
    index = np.asarray(index, dtype=np.int64)

    def vjp(g):
        full = np.zeros(x.shape, x.dtype)
        full[index] = g
        return (full,)

    return op(x.data[index], (x,), vjp)


def scatter_rows(x: Tensor, index: np.ndarray, n_rows: int, fill: float) -> Tensor:
    """An ``(n_rows, *x.shape[1:])`` array filled with ``fill``, with ``out[index] = x``
    (unpacking into a padded batch; ``index`` distinct). Backward: ``g[index]``."""
    index = np.asarray(index, dtype=np.int64)
    out = np.full((n_rows,) + x.shape[1:], fill, dtype=x.dtype)
    out[index] = x.data
    return op(out, (x,), lambda g: (g[index],))
