"""Transformer, TransformerEncoder/Decoder and their layers (torch/nn/modules/transformer.py).

Built from the MultiheadAttention, Linear and Dropout twins and a layer norm.

Eval fast paths. In eval mode without autograd torch runs other kernels, and the
twin follows it under the same conditions (a recording ``impls.vjp`` forward is
torch's autograd case), because their results differ where it matters:

* ``TransformerEncoderLayer`` (``_transformer_encoder_layer_fwd``), taken with a
  3-D batch-first input, relu or gelu activation, biases, an even number of heads
  and equal norm eps: a query whose keys are all masked gives NaN (the slow path,
  through ``scaled_dot_product_attention``, gives finite values); float masks are
  read as boolean (every nonzero entry masks; the slow path adds them); and a
  ``GELU(approximate='tanh')`` activation is computed as the exact GELU;
* ``TransformerEncoder`` with a ``src_key_padding_mask`` (and no ``mask``), when
  ``enable_nested_tensor`` holds and the mask is left-aligned: the batch runs as
  nested tensors, and padded positions come out as exact zeros (before the final
  norm). A float padding mask counts every nonzero entry as padding there (the
  slow path adds it).

The norms are ``impls.nn.LayerNorm`` and the stacks' layers a ``ModuleList``
(impls/nn/normalization.py, impls/nn/container.py).
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from .. import autograd as ag
from .. import functional as F
from .._validate import check
from ..autograd import Tensor
from .activation import GELU, ReLU
from .attention import MultiheadAttention, canonical_mask, computed_in_float64
from .container import ModuleList
from .normalization import LayerNorm
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer"]


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _build_layer(layer, attentions, norms, d_model, nhead, dim_feedforward, dropout, layer_norm_eps, batch_first,
                 norm_first, bias, factory):
    """The submodules of an encoder (one attention, two norms) or decoder layer (two,
    three), registered in torch's order, which is the state_dict's order."""
    for name in attentions:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory))
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
    layer.norm_first = norm_first
    for i in range(1, norms + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
    for i in range(1, norms + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))


def _activation(activation):
    """(callable, torch's activation_relu_or_gelu code: 1 relu, 2 gelu, 0 other)."""
    if isinstance(activation, str):
        check(activation in ("relu", "gelu"), RuntimeError, f"activation should be relu/gelu, not {activation}")
        activation = F.relu if activation == "relu" else F.gelu
    if activation is F.relu or isinstance(activation, ReLU):
        return activation, 1
    if activation is F.gelu or isinstance(activation, GELU):
        return activation, 2
    return activation, 0


class TransformerEncoderLayer(Module):
    """self-attention + feedforward, each with a residual and a layer norm:
    post-norm ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``, or with ``norm_first``
    ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``; ``ff(x) = linear2(dropout(act(linear1(x))))``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation=F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        _build_layer(self, ("self_attn",), 2, d_model, nhead, dim_feedforward, dropout, layer_norm_eps, batch_first,
                     norm_first, bias, {"device": device, "dtype": dtype})
        self.activation, self.activation_relu_or_gelu = _activation(activation)

    def _fast_path(self, src) -> bool:
        """The conditions of TransformerEncoderLayer.forward for ``_transformer_encoder_layer_fwd``."""
        sa = self.self_attn
        return (src.ndim == 3 and not self.training and sa.batch_first and sa.in_proj_bias is not None
                and sa._qkv_same_embed_dim and bool(self.activation_relu_or_gelu) and self.norm1.eps == self.norm2.eps
                and sa.num_heads % 2 == 0 and not ag.is_grad_enabled())

    @computed_in_float64
    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src.dtype)
        src_mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype, check_other=False)
        fast = self._fast_path(src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal, fast)
            x = x + self._ff_block(self.norm2(x), fast)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal, fast))
            x = self.norm2(x + self._ff_block(x, fast))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal, fast):
        if fast:  # the fused kernel uses the masks as given (is_causal is a hint) and a plain softmax
            out = _attend_fast(self.self_attn, x, attn_mask, key_padding_mask)
        else:
            out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                 need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x, fast=False):
        h = self.linear1(x)
        if fast and self.activation_relu_or_gelu == 2:
            h = F.gelu(h)  # the fused kernel's gelu is the exact one, whatever the module's approximate
        else:
            h = self.activation(h)
        return self.dropout2(self.linear2(self.dropout(h)))


def _as_boolean(mask):
    """The fused kernel's view of a (canonical, float) mask: ``_masked_softmax`` takes it
    as boolean, so every nonzero entry masks, whatever its value (-inf or -2.0 alike)."""
    if mask is None:
        return None
    return Tensor(np.where(mask.data != 0, np.asarray(-np.inf, mask.dtype), np.asarray(0, mask.dtype)))


def _attend_fast(mha, x, attn_mask, key_padding_mask):
    """Self-attention as torch's fused eval kernel computes it: the masks read as boolean
    (a float mask's nonzero entries mask), is_causal ignored (the mask is used as given),
    plain softmax (a fully masked query gives NaN)."""
    attn_mask, key_padding_mask = _as_boolean(attn_mask), _as_boolean(key_padding_mask)
    xt = ag.transpose(x, (1, 0, 2))
    out, _ = mha._attend(xt, xt, xt, key_padding_mask, False, attn_mask, True, False, fast=True)
    return ag.transpose(out, (1, 0, 2))


class TransformerDecoderLayer(Module):
    """self-attention, cross-attention over ``memory``, feedforward; each with a
    residual and a layer norm (post-norm, or ``norm_first``)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation=F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        _build_layer(self, ("self_attn", "multihead_attn"), 3, d_model, nhead, dim_feedforward, dropout, layer_norm_eps,
                     batch_first, norm_first, bias, {"device": device, "dtype": dtype})
        if isinstance(activation, str):
            activation = _activation(activation)[0]
        self.activation = activation

    def __setstate__(self, state):
        """torch's TransformerDecoderLayer.__setstate__: ``if "activation" not in state:
        state["activation"] = F.relu``. A Module activation lives in ``_modules``, not in
        the state dict, so every deep copy (TransformerDecoder and Transformer clone their
        layer) silently computes ReLU instead, while ``repr`` still shows the module
        (torch 2.13.0; docs/findings/rnn.md). Mirrored, since it is what torch computes."""
        if "activation" not in state:
            state["activation"] = F.relu
        self.__dict__.update(state)

    @computed_in_float64
    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _seq_len(src, batch_first):
    return src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]


def generate_square_subsequent_mask(sz: int, dtype=np.float32) -> np.ndarray:
    """torch's causal mask: -inf above the diagonal, 0 elsewhere."""
    return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1)


def _detect_is_causal_mask(mask, is_causal, size):
    """torch's ``_detect_is_causal_mask``: an explicit hint wins; with None, the mask is
    compared with the float causal mask (a bool mask never equals it)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        reference = generate_square_subsequent_mask(sz, mask.dtype if np.issubdtype(mask.dtype, np.floating) else np.float32)
        if tuple(mask.shape) == reference.shape:
            make_causal = bool(np.all(mask.data == reference))
        else:
            make_causal = False
    return make_causal


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then ``norm`` if given."""

    def __init__(self, encoder_layer, num_layers: int, norm=None, enable_nested_tensor: bool = True,
                 mask_check: bool = True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = self._why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            import warnings

            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}", stacklevel=2)
            self.use_nested_tensor = False

    @staticmethod
    def _why_not_nested(layer) -> str:
        if not isinstance(layer, TransformerEncoderLayer):
            return "encoder_layer was not TransformerEncoderLayer"
        sa = layer.self_attn
        for bad, why in ((layer.norm_first, "encoder_layer.norm_first was True"),
                         (not sa.batch_first, "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference performance)"),
                         (not sa._qkv_same_embed_dim, "encoder_layer.self_attn._qkv_same_embed_dim was not True"),
                         (sa.in_proj_bias is None, "encoder_layer.self_attn was passed bias=False"),
                         (not layer.activation_relu_or_gelu, "encoder_layer.activation_relu_or_gelu was not True"),
                         (layer.norm1.eps != layer.norm2.eps, "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"),
                         (sa.num_heads % 2 == 1, "encoder_layer.self_attn.num_heads is odd")):
            if bad:
                return why
        return ""

    def _nested(self, src, mask, padding) -> bool:
        """TransformerEncoder.forward's conditions for running the batch as nested tensors."""
        if not (self.use_nested_tensor and not self.layers[0].training and src.ndim == 3 and padding is not None
                and mask is None and not ag.is_grad_enabled()):
            return False
        if self.mask_check:  # valid positions must come first in every sequence
            valid = padding.data == 0
            if np.any(valid[:, 1:] & ~valid[:, :-1]):
                return False
        return True

    @computed_in_float64
    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype)
        mask = canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        nested = self._nested(src, mask, src_key_padding_mask)
        padding = src_key_padding_mask
        if nested:
            # Nested tensors drop padded positions: a float mask's nonzero entries are padding.
            padded = np.asarray(src_key_padding_mask.data != 0)
            padding = _as_boolean(src_key_padding_mask)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            if nested:
                output = _nested_layer(mod, output, padding)
            else:
                output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=padding)
        if nested:  # to_padded_tensor(0.0): exact +0.0 at padded positions
            output = ag.where(~padded[:, :, None], output, 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


def _nested_layer(layer, x, padding):
    """One encoder layer on nested sequences, computed on the padded batch: each valid
    position attends to its own sequence's valid keys only, which is what a nested
    sequence does; padded positions are zeroed at the end. (Nested tensors need a
    post-norm relu/gelu layer, whose fused kernel computes the exact GELU.)"""
    x = layer.norm1(x + layer._sa_block(x, None, padding, False, False))
    return layer.norm2(x + layer._ff_block(x, fast=True))


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then ``norm`` if given."""

    def __init__(self, decoder_layer, num_layers: int, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    @computed_in_float64
    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal: bool = False):
        output = tgt
        seq_len = _seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder-decoder Transformer: ``decoder(tgt, encoder(src))``, each stack with a
    final LayerNorm (or ``custom_encoder`` / ``custom_decoder``)."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        for name, custom, stack, layer_cls, n in (
                ("encoder", custom_encoder, TransformerEncoder, TransformerEncoderLayer, num_encoder_layers),
                ("decoder", custom_decoder, TransformerDecoder, TransformerDecoderLayer, num_decoder_layers)):
            if custom is None:
                layer = layer_cls(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                                  norm_first, bias, **factory)
                custom = stack(layer, n, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
            setattr(self, name, custom)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> np.ndarray:
        return generate_square_subsequent_mask(sz, resolve_dtype(dtype))

    @computed_in_float64
    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        is_batched = src.ndim == 3
        batch_axis = 0 if self.batch_first else 1
        check(not (is_batched and src.shape[batch_axis] != tgt.shape[batch_axis]), RuntimeError,
              "the batch number of src and tgt must be equal")
        check(src.shape[-1] == self.d_model and tgt.shape[-1] == self.d_model, RuntimeError,
              "the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
