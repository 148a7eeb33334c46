"""Recurrent layers and cells (torch/nn/modules/rnn.py).

The math is ``impls.functional.rnn.rnn_layer``: one fused primitive per layer and
direction. These classes do what torch's Python and ATen wrappers do around it:
argument validation, parameter names (``weight_ih_l{k}{_reverse}``, ...),
unbatched and batch-first layouts, packed sequences (``h_n`` in the original batch
order), and dropout between layers.

Randomness contract: in training with ``0 < dropout < 1`` and ``num_layers > 1``,
the keep-masks between layers are drawn from ``self.generator`` unless injected
with ``inject_noise(dropout=[mask per layer boundary])``: ``num_layers - 1``
boolean masks (True = kept), each shaped like the output of the layer it follows
as torch's ATen code sees it: ``(T, N, D * H_out)`` time-major for a padded batch
(``(T, 1, D * H_out)`` unbatched, whatever ``batch_first``), or
``(sum(batch_sizes), D * H_out)`` for a packed one (an LSTM also takes ``(steps, N, D * H_out)``
when every sequence has the same length: torch 2.13 draws that shape then).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import autograd as ag
from .. import functional as F
from .._validate import check
from ..autograd import Tensor
from ..functional.rnn import rnn_layer, take, unbind
from . import init
from .dropout import _RandomModule
from .module import Module, Parameter, check_device, resolve_dtype
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _zeros(shape, dt):
    return Tensor(np.zeros(shape, dt))


def _unsqueeze(x: Tensor, axis: int) -> Tensor:
    shape = list(x.shape)
    shape.insert(axis, 1)
    return ag.reshape(x, tuple(shape))


def _squeeze(x: Tensor, axis: int) -> Tensor:
    return ag.reshape(x, x.shape[:axis] + x.shape[axis + 1:])


def _stack(tensors) -> Tensor:
    return ag.concatenate([_unsqueeze(t, 0) for t in tensors], axis=0)


def _indices(v):
    if v is None:
        return None
    return np.asarray(v.data if isinstance(v, Tensor) else v, dtype=np.int64)


class RNNBase(_RandomModule):
    """Shared by RNN, LSTM and GRU: parameters per layer and direction, and the forward."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        # torch's order of checks (RNNBase.__init__), each with torch's exception type.
        dropout_value = float(dropout)
        check(isinstance(dropout, numbers.Number) and 0 <= dropout <= 1 and not isinstance(dropout, bool), ValueError,
              "dropout should be a number in range [0, 1] representing the probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                          f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        check(isinstance(bias, bool), TypeError, f"bias should be of type bool, got: {type(bias).__name__}")
        check(isinstance(batch_first, bool), TypeError, f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        check(isinstance(input_size, int), TypeError, f"input_size should be of type int, got: {type(input_size).__name__}")
        check(input_size > 0, ValueError, "input_size must be greater than zero")
        check(isinstance(hidden_size, int), TypeError, f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        check(hidden_size > 0, ValueError, "hidden_size must be greater than zero")
        check(num_layers > 0, ValueError, "num_layers must be greater than zero")
        check(isinstance(num_layers, numbers.Integral), TypeError,
              f"'{type(num_layers).__name__}' object cannot be interpreted as an integer")
        check(proj_size >= 0, ValueError, "proj_size should be a positive integer or zero to disable projections")
        check(proj_size < hidden_size, ValueError, "proj_size has to be smaller than hidden_size")
        check(mode in _GATES, ValueError, "Unrecognized RNN mode: " + str(mode))
        check_device(device)
        dt = resolve_dtype(dtype)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout_value
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        stdv = 1.0 / math.sqrt(hidden_size)
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)), ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for pattern, shape in shapes:
                    name = pattern.format(layer, suffix)
                    setattr(self, name, Parameter(init.uniform(shape, stdv, dt)))
                    names.append(name)
                self._all_weights.append(names)

    # -- randomness -------------------------------------------------------------------
    def inject_noise(self, dropout=None, **unexpected) -> None:
        """Keep-masks for the next forward's dropout between layers (see the module docstring)."""
        check(not unexpected, ValueError, f"{type(self).__name__}: injected noise must be named 'dropout', got {sorted(unexpected)}")
        self._injected = None if dropout is None else [np.asarray(m, dtype=bool) for m in dropout]

    def _dropout_masks(self, torch_shape):
        """One keep-mask of torch's shape per layer boundary (the outputs of every layer
        but the last: ``apply_layer_stack`` in RNN.cpp), injected or drawn (``torch_shape``:
        a shape, or a tuple of the shapes torch may use); None when no
        dropout applies; None masks for p = 1 (everything dropped, nothing drawn, as
        ATen's ``_dropout_impl``)."""
        injected, self._injected = self._injected, None
        boundaries = self.num_layers - 1
        if not (self.training and self.dropout > 0 and boundaries > 0):
            return None
        if self.dropout >= 1:
            return [None] * boundaries
        shapes = torch_shape if isinstance(torch_shape[0], tuple) else (torch_shape,)
        if injected is None:
            return [self.generator.random(shapes[0]) >= self.dropout for _ in range(boundaries)]
        check(len(injected) == boundaries, ValueError,
              f"{type(self).__name__}: injected 'dropout' needs {boundaries} masks (one per layer boundary), got {len(injected)}")
        for m in injected:
            check(m.shape in shapes, ValueError,
                  f"{type(self).__name__}: injected dropout mask has shape {m.shape}, expected {' or '.join(map(str, shapes))}")
        return injected

    # -- forward ----------------------------------------------------------------------
    def _real_hidden(self):
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _check_input(self, x: Tensor, packed: bool) -> None:
        w = self._parameters[self._all_weights[0][0]]
        check(x.dtype == w.dtype, ValueError,
              f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). Convert input: input.astype({w.dtype}), "
              f"or convert model: dtype={x.dtype}")
        expected = 2 if packed else 3
        check(x.ndim == expected, RuntimeError, f"input must have {expected} dimensions, got {x.ndim}")
        check(x.shape[-1] == self.input_size, RuntimeError,
              f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.shape[-1]}")

    def _check_hidden(self, h: Tensor, expected, msg) -> None:
        check(tuple(h.shape) == tuple(expected), RuntimeError, msg.format(tuple(expected), list(h.shape)))
        w = self._parameters[self._all_weights[0][0]]
        check(h.dtype == w.dtype, RuntimeError, f"hidden state dtype ({h.dtype}) does not match weight dtype ({w.dtype})")

    def _hidden_shapes(self, batch):
        n = self.num_layers * (2 if self.bidirectional else 1)
        return (n, batch, self._real_hidden()), (n, batch, self.hidden_size)

    def _check_hx(self, hx, batch) -> None:
        """RNNBase.check_hidden_size / LSTM.check_forward_args."""
        h_shape, c_shape = self._hidden_shapes(batch)
        if self.mode == "LSTM":
            self._check_hidden(hx[0], h_shape, "Expected hidden[0] size {}, got {}")
            self._check_hidden(hx[1], c_shape, "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden(hx, h_shape, "Expected hidden size {}, got {}")

    def _prepare(self, input, hx):
        """Validate as torch's forward does; return the packed 2-D input, batch sizes,
        h0 (and c0) in sorted order, and how to shape the result back."""
        lstm = self.mode == "LSTM"
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
        if isinstance(input, PackedSequence):
            x = input.data
            batch_sizes = _indices(input.batch_sizes)
            sorted_idx, unsorted_idx = _indices(input.sorted_indices), _indices(input.unsorted_indices)
            if hx is not None and sorted_idx is not None:
                hx = tuple(take(h, sorted_idx, 1) for h in hx) if lstm else take(hx, sorted_idx, 1)
            self._check_input(x, packed=True)
            batch = int(batch_sizes[0]) if len(batch_sizes) else 0
            layout = ("packed", input.batch_sizes, input.sorted_indices, input.unsorted_indices, unsorted_idx)
        else:
            x = input
            tensor = "D tensor" if name == "RNN" else "D"
            check(x.ndim in (2, 3), ValueError, f"{name}: Expected input to be 2D or 3D, got {x.ndim}{tensor} instead")
            batched = x.ndim == 3
            batch_dim = 0 if self.batch_first else 1
            if hx is not None:
                dims = (hx[0].ndim, hx[1].ndim) if lstm else (hx.ndim,)
                want = 3 if batched else 2
                if lstm:
                    check(dims == (want, want), RuntimeError,
                          f"For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx and cx should also be {want}-D "
                          f"but got ({dims[0]}-D, {dims[1]}-D) tensors")
                else:
                    check(dims == (want,), RuntimeError,
                          f"For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx should also be {want}-D "
                          f"but got {dims[0]}-D tensor")
            if not batched:
                x = _unsqueeze(x, batch_dim)
                if hx is not None:
                    hx = tuple(_unsqueeze(h, 1) for h in hx) if lstm else _unsqueeze(hx, 1)
            self._check_input(x, packed=False)
            if self.batch_first:
                x = ag.transpose(x, (1, 0, 2))
            T, batch = x.shape[0], x.shape[1]
            batch_sizes = np.full(T, batch, np.int64)
            x = ag.reshape(x, (T * batch, x.shape[2]))
            layout = ("padded", batched, batch_dim, T, batch)
            unsorted_idx = None
        if hx is None:
            h_shape, c_shape = self._hidden_shapes(batch)
            # RNN and GRU build zeros of hidden_size even with a proj_size (which only a positional
            # argument can give them), and then fail the size check, as torch's forward does.
            hx = (_zeros(h_shape, x.dtype), _zeros(c_shape, x.dtype)) if lstm else _zeros(c_shape, x.dtype)
        self._check_hx(hx, batch)
        check(len(batch_sizes) > 0, RuntimeError, "Expected sequence length to be larger than 0 in RNN")
        return x, batch_sizes, hx, layout, unsorted_idx

    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        x, batch_sizes, hx, layout, unsorted_idx = self._prepare(input, hx)
        directions = 2 if self.bidirectional else 1
        width = directions * self._real_hidden()
        if layout[0] == "packed":
            torch_shape = (x.shape[0], width)
            steps = np.asarray(batch_sizes)
            if lstm and steps.size and np.all(steps == steps[0]):
                # torch 2.13's CPU LSTM runs a packed batch of equal lengths as the padded batch
                # (steps, N, W) and draws its masks in that shape: the same elements in the same
                # order (packed row t * N + j), so both shapes are accepted (docs/findings/rnn.md)
                torch_shape = (torch_shape, (steps.size, int(steps[0]), width))
        else:
            torch_shape = (layout[3], layout[4], width)
        masks = self._dropout_masks(torch_shape)
        h0 = unbind(hx[0] if lstm else hx, 0)
        c0 = unbind(hx[1], 0) if lstm else [None] * len(h0)
        layer_input, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                names = self._all_weights[k]
                p = {n.split("_l")[0]: self._parameters[n] for n in names}
                res = rnn_layer(self.mode, layer_input, batch_sizes, h0[k], c0[k], p["weight_ih"], p["weight_hh"],
                                p.get("bias_ih"), p.get("bias_hh"), p.get("weight_hr"), reverse=direction == 1)
                outputs.append(res[0])
                h_n.append(res[1])
                if lstm:
                    c_n.append(res[2])
            layer_input = outputs[0] if directions == 1 else ag.concatenate(outputs, axis=1)
            if masks is not None and layer < len(masks):
                keep = masks[layer]
                layer_input = F.dropout(layer_input, self.dropout, True, None if keep is None else keep.reshape(layer_input.shape))
        hidden = (_stack(h_n), _stack(c_n)) if lstm else _stack(h_n)
        if unsorted_idx is not None:
            hidden = tuple(take(h, unsorted_idx, 1) for h in hidden) if lstm else take(hidden, unsorted_idx, 1)
        if layout[0] == "packed":  # the index fields as constant Tensors, as every output array (unwrapped by __call__)
            _, batch_sizes_in, sorted_in, unsorted_in, _ = layout
            fields = (_indices(v) for v in (batch_sizes_in, sorted_in, unsorted_in))
            return PackedSequence(layer_input, *(None if v is None else Tensor(v) for v in fields)), hidden
        _, batched, batch_dim, T, batch = layout
        out = ag.reshape(layer_input, (T, batch, width))
        if self.batch_first:
            out = ag.transpose(out, (1, 0, 2))
        if not batched:
            out = _squeeze(out, batch_dim)
            hidden = tuple(_squeeze(h, 1) for h in hidden) if lstm else _squeeze(hidden, 1)
        return out, hidden

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    Signature as torch's: ``RNN(input_size, hidden_size, num_layers=1,
    nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)``, taken as ``*args, **kwargs``.
    """

    def __init__(self, *args, **kwargs):
        check("proj_size" not in kwargs, ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        check(nonlinearity in modes, ValueError, f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(modes[nonlinearity], *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM with torch's gate order i, f, g, o, and ``proj_size`` (``weight_hr_l{k}``):
    ``c' = f c + i g``, ``h' = (o tanh(c')) W_hr^T``. Forward: ``(output, (h_n, c_n))``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """GRU with torch's gate order r, z, n and ``b_hn`` inside the reset gate:
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``."""

    def __init__(self, *args, **kwargs):
        check("proj_size" not in kwargs, ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# -- cells ------------------------------------------------------------------------------

class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        for v in (input_size, hidden_size):
            check(isinstance(v, numbers.Integral), TypeError,
                  f"empty(): argument 'size' must be a tuple of ints, but found element of type {type(v).__name__}")
        check(input_size >= 0 and hidden_size >= 0, RuntimeError,
              f"Trying to create tensor with negative dimension {min(num_chunks * hidden_size, input_size, hidden_size)}: "
              f"[{num_chunks * hidden_size}, {input_size}]")
        check_device(device)
        dt = resolve_dtype(dtype)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
        self.weight_ih = Parameter(init.uniform((num_chunks * hidden_size, input_size), stdv, dt))
        self.weight_hh = Parameter(init.uniform((num_chunks * hidden_size, hidden_size), stdv, dt))
        if bias:
            self.bias_ih = Parameter(init.uniform((num_chunks * hidden_size,), stdv, dt))
            self.bias_hh = Parameter(init.uniform((num_chunks * hidden_size,), stdv, dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _batch(self, input, hx, hidden_names):
        """Validate dims as torch's cell forward does; add the batch dim to unbatched
        input and hidden states (zeros when hx is None)."""
        name = type(self).__name__
        check(input.ndim in (1, 2), ValueError, f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        hs = None if hx is None else (list(hx) if hidden_names > 1 else [hx])
        if hs is not None:
            for idx, h in enumerate(hs):
                label = f"hx[{idx}]" if hidden_names > 1 else "hidden"
                check(h.ndim in (1, 2), ValueError, f"{name}: Expected {label} to be 1D or 2D, got {h.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = _unsqueeze(input, 0)
        if hs is None:
            hs = [_zeros((input.shape[0], self.hidden_size), input.dtype)] * hidden_names
        elif not batched:
            hs = [_unsqueeze(h, 0) for h in hs]
        return input, hs, batched

    def _cell(self, mode, input, hs):
        """ATen's checks (check_rnn_cell_forward_input / _hidden), then one step of the layer primitive."""
        w = self.weight_ih
        check(input.shape[1] == self.input_size, RuntimeError,
              f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for label, h in enumerate(hs):
            check(input.shape[0] == h.shape[0], RuntimeError,
                  f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size {h.shape[0]}")
            check(h.ndim >= 2, IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)")
            check(h.shape[1] == self.hidden_size, RuntimeError,
                  f"hidden{label} has inconsistent hidden_size: got {h.shape[1]}, expected {self.hidden_size}")
            check(h.ndim == 2, RuntimeError,  # torch fails here too, broadcasting the gates (the message differs)
                  f"{type(self).__name__}: an unbatched input needs a 1-D hidden state, got hidden{label} of shape "
                  f"{tuple(h.shape[1:])}")
        for t in [input] + hs:
            check(t.dtype == w.dtype, RuntimeError, f"mat1 and mat2 must have the same dtype, but got {t.dtype} and {w.dtype}")
        n = input.shape[0]
        return rnn_layer(mode, input, [n], hs[0], hs[1] if mode == "LSTM" else None, self.weight_ih, self.weight_hh,
                         self.bias_ih, self.bias_hh)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hs, batched = self._batch(input, hx, 1)
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        check(self.nonlinearity in modes, RuntimeError, f"Unknown nonlinearity: {self.nonlinearity}")
        h = self._cell(modes[self.nonlinearity], input, hs)[1]
        return h if batched else _squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o). Forward: ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hs, batched = self._batch(input, hx, 2)
        check(len(hs) == 2, RuntimeError, "lstm_cell expects two hidden states")
        _, h, c = self._cell("LSTM", input, hs)
        return (h, c) if batched else (_squeeze(h, 0), _squeeze(c, 0))


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n; ``b_hn`` inside the reset gate)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hs, batched = self._batch(input, hx, 1)
        h = self._cell("GRU", input, hs)[1]
        return h if batched else _squeeze(h, 0)
