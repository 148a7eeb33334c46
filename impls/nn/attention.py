"""MultiheadAttention (torch/nn/modules/activation.py and
``multi_head_attention_forward`` in torch/nn/functional.py).

torch computes attention in one of three ways, and they differ where every key
of a query is masked:

* ``need_weights=True`` (the default): softmax, so a fully masked row is NaN;
* ``need_weights=False``: ``scaled_dot_product_attention``, whose safe softmax
  makes such a row 0 (the output is then ``out_proj.bias``);
* the fast path (``_native_multi_head_attention``): NaN, also with
  ``need_weights=False``. torch takes it in eval mode without autograd for
  self-attention (``query is key is value``) with batch_first, an even number of
  heads, biases, no bias_k/bias_v, no zero attention, packed weights and no float
  mask. The twin takes it under the same conditions (autograd: a recording
  ``impls.vjp`` forward), so it returns what torch returns in each.

Randomness contract: in training with ``dropout > 0`` the attention weights are
dropped (the returned weights are the ones after dropout); the keep-mask comes
from ``self.generator`` unless injected with ``inject_noise(attn_dropout=mask)``,
boolean, True = kept, shaped as torch draws it: ``(N * num_heads, L, S)`` with
``need_weights=True``, ``(N, num_heads, L, S)`` with ``need_weights=False`` (N = 1
for an unbatched query; S counts bias_k and the zero attention column).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import autograd as ag
from .. import functional as F
from .._validate import check
from ..autograd import Tensor
from ..functional.attention import attention, causal_mask, split_rows
from . import init
from .dropout import _RandomModule
from .linear import Linear
from .module import Parameter, check_device, resolve_dtype

__all__ = ["MultiheadAttention"]


def _cast(x: Tensor, dtype) -> Tensor:
    """x in another float dtype; the backward casts the cotangent back."""
    return ag.op(x.data.astype(dtype), (x,), lambda g: (g.astype(x.dtype),))


def _cast_tree(x, src, dst):
    if isinstance(x, Tensor) and x.dtype == src:
        return _cast(x, dst)
    if isinstance(x, tuple):
        return tuple(_cast_tree(v, src, dst) for v in x)
    return x


def computed_in_float64(forward):
    """Run a float32 forward in float64 and round the outputs once.

    Attention and Transformer stacks compose dozens of float32 roundings (projections,
    softmax, layer norms with invstd up to 1/sqrt(eps)), and torch's float32 result is
    itself often further than assert_close's default tolerance from the float64 truth;
    two float32 implementations then disagree with neither within tolerance of the
    truth. Computed in float64, the twin stays within rounding of the float64 oracle,
    which then arbitrates every float32 disagreement with torch. Every parameter of the
    module (and its submodules) is swapped for a float64 cast of itself for the call
    (gradients flow back to the float32 Parameter); nested calls see float64 and do
    nothing more.
    """

    def wrapper(self, *args, **kwargs):
        first = next((a for a in args if isinstance(a, Tensor)), None)
        if first is None or first.dtype != np.float32:
            return forward(self, *args, **kwargs)
        swapped = [(owner, name, p) for _, owner in self.named_modules() for name, p in owner._parameters.items()
                   if p is not None and p.dtype == np.float32]
        try:
            for owner, name, p in swapped:
                owner._parameters[name] = _cast(p, np.float64)
            out = forward(self, *_cast_tree(args, np.float32, np.float64),
                          **{k: _cast_tree(v, np.float32, np.float64) for k, v in kwargs.items()})
        finally:
            for owner, name, p in swapped:
                owner._parameters[name] = p
        return _cast_tree(out, np.float64, np.float32)

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = forward.__name__, forward.__doc__, forward
    return wrapper


class NonDynamicallyQuantizableLinear(Linear):
    """torch's out_proj class (torch/nn/modules/linear.py): a Linear under another name."""


def _float(t) -> bool:
    return t is not None and np.issubdtype(t.dtype, np.floating)


def canonical_mask(mask, mask_name: str, other, other_name: str, target_dtype, check_other: bool = True):
    """torch's ``F._canonical_mask``: bool masks become additive float masks (-inf where
    True) in the query's dtype; float masks pass through; other dtypes are rejected."""
    if mask is None:
        return None
    check(mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.floating), AssertionError,
          f"only bool and floating types of {mask_name} are supported")
    if check_other and other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
                      stacklevel=4)
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.data, np.asarray(-np.inf, target_dtype), np.asarray(0, target_dtype)))
    return mask


def _unsqueeze(x: Tensor, axis: int) -> Tensor:
    shape = list(x.shape)
    shape.insert(axis % (x.ndim + 1), 1)
    return ag.reshape(x, tuple(shape))


def _pad_last(mask: Tensor) -> Tensor:
    """torch's ``pad(mask, (0, 1))``: one more (zero, i.e. unmasked) key column."""
    return ag.concatenate([mask, Tensor(np.zeros(mask.shape[:-1] + (1,), mask.dtype))], axis=-1)


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's ``_mha_shape_check``; returns whether the input is batched."""
    check(query.ndim in (2, 3), AssertionError,
          f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    check(key.ndim == query.ndim and value.ndim == query.ndim, AssertionError,
          f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D"
          f" but found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None:
        check(key_padding_mask.ndim == query.ndim - 1, AssertionError, f"For {kind} `query`, expected `key_padding_mask` "
              f"to be `None` or {query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        check(attn_mask.ndim in (2, 3), AssertionError, f"For {kind} `query`, expected `attn_mask` to be `None`, "
              f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        if not batched and attn_mask.ndim == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            check(tuple(attn_mask.shape) == expected, AssertionError,
                  f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
    return batched


class MultiheadAttention(_RandomModule):
    """Multi-head attention: ``softmax(Q K^T / sqrt(head_dim) + mask) V`` per head, with
    input projections (packed ``in_proj_weight``, or ``q/k/v_proj_weight`` when kdim
    or vdim differ from embed_dim) and ``out_proj``. Forward returns
    ``(attn_output, attn_weights or None)``."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        check(embed_dim > 0 and num_heads > 0, ValueError, "embed_dim and num_heads must be greater than 0,"
              f" got embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        check_device(device)
        dt = resolve_dtype(dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        check(self.head_dim * num_heads == self.embed_dim, AssertionError, "embed_dim must be divisible by num_heads")

        def xavier(shape):
            return init.uniform(shape, float(np.sqrt(6.0 / (shape[0] + shape[1]))), dt)

        if not self._qkv_same_embed_dim:
            for d in (self.kdim, self.vdim):  # torch.empty((embed_dim, d)) of the projection weights
                check(isinstance(d, numbers.Integral), TypeError,
                      f"empty(): argument 'size' must be tuple of ints, but found element of type {type(d).__name__}")
                check(d >= 0, RuntimeError, f"Trying to create tensor with negative dimension {d}: [{embed_dim}, {d}]")
            self.q_proj_weight = Parameter(xavier((embed_dim, embed_dim)))
            self.k_proj_weight = Parameter(xavier((embed_dim, self.kdim)))
            self.v_proj_weight = Parameter(xavier((embed_dim, self.vdim)))
            self.register_parameter("in_proj_weight", None)
        else:
            # torch's xavier_uniform_ on the packed (3E, E) weight: fan_in E, fan_out 3E.
            self.in_proj_weight = Parameter(xavier((3 * embed_dim, embed_dim)))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if bias:
            self.out_proj.bias = Parameter(np.zeros(embed_dim, dt))
        if add_bias_kv:
            std = float(np.sqrt(2.0 / (1 + embed_dim)))  # xavier_normal_ on (1, 1, E): fan_in 1, fan_out E
            self.bias_k = Parameter((init.generator.standard_normal((1, 1, embed_dim)) * std).astype(dt))
            self.bias_v = Parameter((init.generator.standard_normal((1, 1, embed_dim)) * std).astype(dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn

    # -- randomness -------------------------------------------------------------------
    def inject_noise(self, attn_dropout=None, **unexpected) -> None:
        """The keep-mask of the next forward's dropout on the attention weights."""
        check(not unexpected, ValueError, f"MultiheadAttention: injected noise must be named 'attn_dropout', got {sorted(unexpected)}")
        self._injected = None if attn_dropout is None else np.asarray(attn_dropout, dtype=bool)

    def _keep(self, p: float, shape_bh, shape_4d):
        """(keep-mask (B*H, L, S) or None, p): injected, or drawn from the generator."""
        injected, self._injected = self._injected, None
        if p <= 0:
            return None, 0.0
        if p >= 1:
            return np.zeros(shape_bh, bool), 1.0  # everything dropped; torch draws nothing
        if injected is None:
            return self.generator.random(shape_bh) >= p, p
        check(injected.shape in (tuple(shape_bh), tuple(shape_4d)), ValueError,
              f"MultiheadAttention: injected attn_dropout has shape {injected.shape}, expected {tuple(shape_bh)} "
              f"(need_weights=True) or {tuple(shape_4d)} (need_weights=False)")
        return injected.reshape(shape_bh), p

    # -- forward ----------------------------------------------------------------------
    def _fast_path(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether torch would run ``_native_multi_head_attention`` (MultiheadAttention.forward)."""
        return (not _float(attn_mask) and not _float(key_padding_mask) and query.ndim == 3
                and query.data is key.data and key.data is value.data
                and self.in_proj_weight is not None and self.in_proj_bias is not None
                and not self.training and self.num_heads % 2 == 0 and self.batch_first
                and self.bias_k is None and self.bias_v is None and not self.add_zero_attn
                and query.dtype == self.in_proj_weight.dtype
                and not ag.is_grad_enabled())

    @computed_in_float64
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        fast = self._fast_path(query, key, value, attn_mask, key_padding_mask)
        is_batched = query.ndim == 3
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype)
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and is_batched:
            query, key, value = (ag.transpose(t, (1, 0, 2)) for t in (query, key, value))
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                                    average_attn_weights, is_causal, fast)
        if self.batch_first and is_batched:
            out = ag.transpose(out, (1, 0, 2))
        return out, weights

    def _project(self, query, key, value):
        """The in-projection (torch's ``_in_projection_packed`` / ``_in_projection``)."""
        b = split_rows(self.in_proj_bias, 3) if self.in_proj_bias is not None else (None, None, None)
        if self._qkv_same_embed_dim:
            w = split_rows(self.in_proj_weight, 3)
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), w, b))

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
                is_causal, fast):
        """``multi_head_attention_forward`` on time-major (L, N, E) inputs."""
        H = self.num_heads
        is_batched = _shape_check(query, key, value, key_padding_mask, attn_mask, H)
        if not is_batched:
            query, key, value = (_unsqueeze(t, 1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _unsqueeze(key_padding_mask, 0)
        tgt_len, bsz, embed_dim = query.shape
        check(not (is_causal and attn_mask is None), RuntimeError,
              "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
              "`generate_square_subsequent_mask` to create this mask.")
        sdpa_causal = is_causal and key_padding_mask is None and not need_weights
        if sdpa_causal:
            attn_mask = None  # SDPA applies its own causal mask
        check(embed_dim == self.embed_dim, AssertionError,
              f"was expecting embedding dimension of {self.embed_dim}, but got {embed_dim}")
        if self._qkv_same_embed_dim:
            check(tuple(key.shape) == tuple(value.shape), AssertionError,
                  f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        else:
            check(tuple(key.shape[:2]) == tuple(value.shape[:2]), AssertionError,
                  f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's {tuple(value.shape[:2])}")
        for t, dim, name in ((key, self.kdim, "key"), (value, self.vdim, "value")):
            check(t.shape[-1] == dim, RuntimeError, f"MultiheadAttention: {name} has {t.shape[-1]} features, expected {dim}")
        for t in (query, key, value):
            check(t.dtype == self.out_proj.weight.dtype, RuntimeError,
                  f"MultiheadAttention: input dtype {t.dtype} does not match the parameters' {self.out_proj.weight.dtype}")
        src_len = key.shape[0]
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                check(tuple(attn_mask.shape) == (tgt_len, src_len), RuntimeError,
                      f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be {(tgt_len, src_len)}.")
                attn_mask = _unsqueeze(attn_mask, 0)
            else:
                check(tuple(attn_mask.shape) == (bsz * H, tgt_len, src_len), RuntimeError,
                      f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be {(bsz * H, tgt_len, src_len)}.")
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None and self.bias_v is not None:
            zeros = Tensor(np.zeros((1, bsz, embed_dim), k.dtype))
            k = ag.concatenate([k, self.bias_k + zeros], axis=0)
            v = ag.concatenate([v, self.bias_v + zeros], axis=0)
            attn_mask = _pad_last(attn_mask) if attn_mask is not None else None
            key_padding_mask = _pad_last(key_padding_mask) if key_padding_mask is not None else None
        hd = self.head_dim

        def heads(t):  # (S, N, E) -> (N*H, S, hd)
            return ag.transpose(ag.reshape(t, (t.shape[0], bsz * H, hd)), (1, 0, 2))

        q, k, v = heads(q), heads(k), heads(v)
        if self.add_zero_attn:
            zeros = Tensor(np.zeros((bsz * H, 1, hd), k.dtype))
            k, v = ag.concatenate([k, zeros], axis=1), ag.concatenate([v, zeros], axis=1)
            attn_mask = _pad_last(attn_mask) if attn_mask is not None else None
            key_padding_mask = _pad_last(key_padding_mask) if key_padding_mask is not None else None
        src_len = k.shape[1]
        if key_padding_mask is not None:
            check(key_padding_mask.shape[0] == bsz, AssertionError,
                  f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
            check(key_padding_mask.shape[1] == src_len, AssertionError,
                  f"Expected key_padded_mask.shape[1] to be {src_len}, but got {key_padding_mask.shape[1]}")
            kpm = ag.reshape(key_padding_mask, (bsz, 1, 1, src_len)) + Tensor(np.zeros((1, H, 1, 1), key_padding_mask.dtype))
            kpm = ag.reshape(kpm, (bsz * H, 1, src_len))
            attn_mask = kpm if attn_mask is None else attn_mask + kpm
        if sdpa_causal:
            attn_mask = Tensor(np.where(causal_mask(tgt_len, src_len), np.asarray(-np.inf, q.dtype), np.asarray(0, q.dtype)))
        p = self.dropout if self.training else 0.0
        keep, p = self._keep(p, (bsz * H, tgt_len, src_len), (bsz, H, tgt_len, src_len))
        safe = not need_weights and not fast
        out, weights = attention(q, k, v, attn_mask, keep=keep, p=p, safe=safe)
        out = ag.reshape(ag.transpose(out, (1, 0, 2)), (tgt_len * bsz, embed_dim))
        out = ag.reshape(self.out_proj(out), (tgt_len, bsz, embed_dim))
        if not need_weights:
            return (out if is_batched else ag.reshape(out, (tgt_len, embed_dim))), None
        weights = ag.reshape(weights, (bsz, H, tgt_len, src_len))
        if average_attn_weights:
            weights = ag.mean(weights, axis=1)
        if not is_batched:
            out = ag.reshape(out, (tgt_len, embed_dim))
            weights = ag.reshape(weights, weights.shape[1:])
        return out, weights
