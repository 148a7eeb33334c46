"""Convolutions, transposed convolutions, unfold (im2col) and fold (col2im).

One N-d code path serves 1-, 2- and 3-d: the spatial rank D is ``weight.ndim - 2``.

Everything is built from one pair of adjoint kernels, ``_Windows.unfold`` (im2col:
the receptive fields as cols of shape (N, C, K, L), K = prod(kernel)) and
``_Windows.fold`` (col2im: one ``+=`` per kernel tap; overlapping windows add).
Neither loops over elements, the batch or output positions: only over the K taps
(and the prod(stride) phases of the layout, see ``_Windows``). With 8 or more
channels per group the convolution skips the cols altogether: one GEMM per tap
on a view of the padded input (``PER_TAP_MIN_CHANNELS``).

With cols viewed as (N, G, Cg*K, L) for G groups:

* convolution:            out = W @ cols   (W: (G, Coutg, Cg*K); a GEMM per batch element and group)
* its input gradient:     dx  = fold(W^T @ g)
* its weight gradient:    dW  = sum_n g_n @ cols_n^T
* transposed convolution: the convolution's input gradient, out = fold(W^T @ x),
  cropped by ``padding``; its backward is a convolution of the cotangent.
  No zero-stuffing: a stride-s transposed convolution never multiplies the
  s^D - 1 zeros of a dilated-input formulation.
* unfold / fold (nn.Unfold, nn.Fold): the two kernels themselves, in torch's layout.

Conventions from torch (aten/src/ATen/native/Convolution.cpp):

* ``padding='same'``: total padding d*(k-1) per dim; when it is odd the extra
  element goes on the *high* side (right/bottom/back): ATen pads the input
  explicitly by the difference (``_convolution_mode``/``conv_padding_same``), and
  ``_ConvNd`` builds ``_reversed_padding_repeated_twice`` with
  ``left = total // 2, right = total - left`` for the non-zero padding modes.
* ``padding='valid'`` is zero padding.
* A kernel larger than the padded input, a non-positive stride or dilation, a
  negative padding, channels not matching ``weight.shape[1] * groups`` raise
  RuntimeError, as in ATen's ``check_shape_forward``.
* The transposed convolution's output size per dim is
  (I - 1) s - 2 p + d (k - 1) + output_padding + 1, and output_padding must be
  smaller than either the stride or the dilation.
"""

from __future__ import annotations

import warnings

import itertools
import numbers

import numpy as np

from .._validate import check
from ..autograd import Tensor, op, reshape

__all__ = ["convolution", "conv1d", "conv2d", "conv3d", "conv_transpose", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold", "expand_param", "same_padding"]


# -- parameters -----------------------------------------------------------------------

def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def expand_param(value, n: int, name: str, who: str) -> tuple:
    """An int or a sequence of n ints -> a tuple of n ints (torch's
    ``expand_param_if_needed``: a one-element list is repeated too)."""
    if _is_int(value):
        return (int(value),) * n
    value = tuple(value)
    check(all(_is_int(v) for v in value), TypeError, f"{who}: {name} must be an int or a tuple of ints, got {value!r}")
    if len(value) == 1:
        return (int(value[0]),) * n
    check(len(value) == n, RuntimeError,
          f"{who}: expected {name} to be a single integer value or a list of {n} values to match the convolution "
          f"dimensions, but got {name}={list(value)}")
    return tuple(int(v) for v in value)


#: NaN/inf inputs and overflowing products: torch's GEMMs do not warn, NumPy's matmul would
#: (RuntimeWarning: invalid value encountered in matmul).
_QUIET = np.errstate(invalid="ignore", over="ignore")

_WARNED: set = set()


def _warn_once(message: str) -> None:
    """torch's TORCH_WARN_ONCE: a UserWarning the first time in the process, then never
    again (ATen's ``_convolution_mode`` warns so for an asymmetric 'same' padding)."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """(low, high) per dim for padding='same': total d*(k-1), the odd element on the high side."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _out_sizes(padded: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    return tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in zip(padded, kernel, stride, dilation))


# -- the two kernels ----------------------------------------------------------------------

class _Windows:
    """The kernel windows over a padded frame (N, C, *frame): ``kernel`` taps spaced
    ``dilation`` apart, at ``out`` positions ``stride`` apart.

    Layout (the "phase" layout): each frame dim of size F is split by its stride s into
    s phases of q = ceil(F / s) elements (frame position s*u + a is element u of phase
    a); every phase image is flattened, with a zero tail. A tap at frame offset i*d
    reads, for every output position o, frame position s*o + i*d, i.e. element
    o + (i*d) // s of phase (i*d) % s: one phase and one fixed flat offset per tap. So
    a tap's columns, over the *grid* (out_1, q_2, ..., q_D), are ONE contiguous run of
    one flattened phase image: unfold is K contiguous copies, fold K contiguous
    ``+=``, and a GEMM can read a tap's columns as a view. Grid points past ``out``
    in dims 2..D are junk (computed, then dropped). With stride 1 there is one phase:
    the frame itself, flattened. Only placing an input into the phases (and taking
    a gradient out of them) is strided: one copy per phase (prod(stride) of them).
    """

    def __init__(self, frame, kernel, stride, dilation):
        self.frame, self.kernel, self.stride, self.dilation = tuple(frame), tuple(kernel), tuple(stride), tuple(dilation)
        self.out = _out_sizes(self.frame, kernel, stride, dilation)
        self.K = int(np.prod(kernel))
        self.q = tuple(-(-f // s) for f, s in zip(self.frame, self.stride))  # phase image size per dim
        self.P = int(np.prod(self.stride))
        self.size = int(np.prod(self.q))
        st = [int(np.prod(self.q[j + 1:])) for j in range(len(self.q))]
        self.phases, self.offsets = [], []
        for tap in itertools.product(*(range(k) for k in kernel)):
            pos = [i * d for i, d in zip(tap, dilation)]
            self.phases.append(int(np.ravel_multi_index([p % s for p, s in zip(pos, stride)], stride)))
            self.offsets.append(sum((p // s) * t for p, s, t in zip(pos, stride, st)))
        self.grid = (self.out[0],) + self.q[1:]
        self.L = int(np.prod(self.grid))
        self.tail = max(0, max(self.offsets) + self.L - self.size)

    def _phase_slices(self, start, n):
        """For each phase: (its index, slices into the phase image, slices into an array x of
        spatial size n placed at ``start`` in the frame, frame[f] = x[f - start]); empty
        overlaps are skipped."""
        for p, phase in enumerate(itertools.product(*(range(s) for s in self.stride))):
            img, src = [], []
            for a, s, q, st_, m in zip(phase, self.stride, self.q, start, n):
                u0 = max(0, -(-(st_ - a) // s))  # first u with s*u + a >= start
                u1 = min(q, -(-(st_ + m - a) // s))  # past the last u with s*u + a < start + n
                if u1 <= u0:
                    break
                img.append(slice(u0, u1))
                src.append(slice(s * u0 + a - st_, s * (u1 - 1) + a - st_ + 1, s))
            else:
                yield p, tuple(img), tuple(src)

    def buffer(self, x: np.ndarray, start) -> np.ndarray:
        """x (N, C, *S) placed at ``start`` in the zero frame (frame[f] = x[f - start]: a
        positive start pads, a negative one crops), split into the phase images:
        (N, C, P, size + tail). Tap k's columns are ``buf[:, :, phase_k, off_k:off_k + L]``."""
        N, C = x.shape[:2]
        buf = np.zeros((N, C, self.P, self.size + self.tail), x.dtype)
        lead = (slice(None), slice(None))
        for p, img, src in self._phase_slices(start, x.shape[2:]):
            buf[:, :, p, :self.size].reshape((N, C) + self.q)[lead + img] = x[lead + src]
        return buf

    def extract(self, buf: np.ndarray, start, n) -> np.ndarray:
        """Adjoint of ``buffer``: the (N, C, *n) array placed at ``start`` read back out of the
        phase images (zero where it lies outside the frame)."""
        N, C = buf.shape[:2]
        x = np.zeros((N, C) + tuple(n), buf.dtype)
        lead = (slice(None), slice(None))
        for p, img, src in self._phase_slices(start, n):
            x[lead + src] = buf[:, :, p, :self.size].reshape((N, C) + self.q)[lead + img]
        return x

    def unfold(self, x: np.ndarray, start) -> np.ndarray:
        """Receptive fields of x placed at ``start`` in the frame -> cols (N, C, K, L)."""
        N, C = x.shape[:2]
        buf = self.buffer(x, start)
        cols = np.empty((N, C, self.K, self.L), x.dtype)
        for k in range(self.K):
            cols[:, :, k] = buf[:, :, self.phases[k], self.offsets[k]:self.offsets[k] + self.L]
        # Junk grid points read real elements (of the next row); zero them, or an inf there
        # would turn the zero cotangent of a junk point into NaN in the weight gradient.
        grid = cols.reshape((N, C, self.K) + self.grid)
        for j in range(1, len(self.grid)):
            if self.out[j] < self.grid[j]:
                grid[(slice(None),) * (3 + j) + (slice(self.out[j], None),)] = 0
        return cols

    def tap(self, buf: np.ndarray, k: int, groups: int) -> np.ndarray:
        """Tap k's columns of a phase buffer as (N, G, C/G, L): a view, no copy."""
        N, C = buf.shape[:2]
        return buf[:, :, self.phases[k], self.offsets[k]:self.offsets[k] + self.L].reshape(N, groups, C // groups, self.L)

    def accumulate(self, buf: np.ndarray, k: int, cols_k: np.ndarray) -> None:
        """buf's tap-k columns += cols_k (N, C, L): one contiguous += per tap."""
        buf[:, :, self.phases[k], self.offsets[k]:self.offsets[k] + self.L] += cols_k

    def fold(self, cols: np.ndarray, start, n) -> np.ndarray:
        """Adjoint of unfold: cols (N, C, K, L) summed onto the frame (overlapping taps add; junk
        grid columns of ``cols`` must be zero, see ``to_grid``), then the (N, C, *n) array at
        ``start`` read out of it."""
        N, C = cols.shape[:2]
        buf = np.zeros((N, C, self.P, self.size + self.tail), cols.dtype)
        for k in range(self.K):
            self.accumulate(buf, k, cols[:, :, k])
        return self.extract(buf, start, n)

    def to_grid(self, y: np.ndarray) -> np.ndarray:
        """(N, C, *out) -> (N, C, L) on the grid, zero at junk points."""
        N, C = y.shape[:2]
        if self.grid == self.out:
            return y.reshape(N, C, self.L)
        g = np.zeros((N, C) + self.grid, y.dtype)
        g[(slice(None), slice(None)) + tuple(slice(0, o) for o in self.out)] = y
        return g.reshape(N, C, self.L)

    def from_grid(self, y: np.ndarray) -> np.ndarray:
        """(N, C, L) on the grid -> (N, C, *out) (a view: junk points dropped)."""
        y = y.reshape(y.shape[:2] + self.grid)
        if self.grid == self.out:
            return y
        return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in self.out)]


# -- validation ---------------------------------------------------------------------------

def _prelude(x, weight, bias, stride, dilation, who: str) -> tuple:
    """Checks shared by convolutions and transposed convolutions: the weight's and the input's
    rank, dtypes. Returns (D, who, batched, stride, dilation) with stride/dilation as D-tuples."""
    D = weight.ndim - 2
    check(D >= 1, RuntimeError, f"{who}: weight should have at least three dimensions, got {list(weight.shape)}")
    check(isinstance(x, Tensor) and x.ndim in (D + 1, D + 2), RuntimeError,
          f"Expected {D + 1}D (unbatched) or {D + 2}D (batched) input to {who}, but got input of size: {list(x.shape)}")
    check(np.issubdtype(x.dtype, np.floating), RuntimeError,
          f"{who}: Input type ({x.dtype}) and weight type ({weight.dtype}) should be the same (a floating point input)")
    check(x.dtype == weight.dtype, RuntimeError, f"{who}: Input type ({x.dtype}) and weight type ({weight.dtype}) should be the same")
    check(bias is None or bias.dtype == weight.dtype, RuntimeError,
          f"{who}: bias type ({None if bias is None else bias.dtype}) and weight type ({weight.dtype}) should be the same")
    return D, who, x.ndim == D + 2, expand_param(stride, D, "stride", who), expand_param(dilation, D, "dilation", who)


def _check_params(stride, dilation, groups, who):
    check(all(s > 0 for s in stride), RuntimeError, f"{who}: non-positive stride is not supported (stride={list(stride)})")
    check(all(d > 0 for d in dilation), RuntimeError, f"{who}: non-positive dilation is not supported (dilation={list(dilation)})")
    check(_is_int(groups) and groups > 0, RuntimeError, f"{who}: non-positive groups is not supported (groups={groups})")


def _batched(x: Tensor, batched: bool) -> Tensor:
    return x if batched else reshape(x, (1,) + x.shape)


def _unbatched(y: Tensor, batched: bool) -> Tensor:
    return y if batched else reshape(y, y.shape[1:])


# -- convolution --------------------------------------------------------------------------

def convolution(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1,
         who: str | None = None) -> Tensor:
    """N-d cross-correlation (torch.nn.functional.conv1d/2d/3d): for output channel o in group g,

        out[n, o, p] = bias[o] + sum_{c in group g, i} weight[o, c, i] * xpad[n, c, p*s + i*d]

    ``x``: (N, C_in, *S) or unbatched (C_in, *S); ``weight``: (C_out, C_in/groups, *k);
    ``padding``: an int, a tuple of D ints (both sides), 'valid' or 'same' (see the
    module docstring for the odd element).

    Backward (cols = unfold(xpad)): dW = sum_n g_n cols_n^T, db = sum of g over the
    batch and spatial dims, dx = crop(fold(W^T g)).
    """
    D, who, batched, stride, dilation = _prelude(x, weight, bias, stride, dilation, who or f"conv{weight.ndim - 2}d")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        check(padding in ("same", "valid"), ValueError, f"{who}: Invalid padding string {padding!r}, should be one of 'same', 'valid'")
        if padding == "same":
            check(all(s == 1 for s in stride), RuntimeError, f"{who}: padding='same' is not supported for strided convolutions")
            pads = same_padding(kernel, dilation)
            if any(lo != hi for lo, hi in pads):
                _warn_once("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded "
                           "copy of the input be created")
        else:
            pads = ((0, 0),) * D
    else:
        pads = tuple((p, p) for p in expand_param(padding, D, "padding", who))
        check(all(p >= 0 for p, _ in pads), RuntimeError, f"{who}: negative padding is not supported (padding={padding!r})")
    _check_params(stride, dilation, groups, who)
    C_out, Cg = weight.shape[0], weight.shape[1]
    check(C_out >= groups and C_out % groups == 0, RuntimeError,
          f"Given groups={groups}, expected weight to be at least {groups} and divisible by {groups} at dimension 0, "
          f"but got weight of size {list(weight.shape)} instead")
    C_in = x.shape[1 if batched else 0]
    check(C_in == Cg * groups, RuntimeError,
          f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
          f"{Cg * groups} channels, but got {C_in} channels instead")
    check(bias is None or bias.shape == (C_out,), RuntimeError,
          f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {C_out} elements, "
          f"but got bias of size {list(bias.shape) if bias is not None else None} instead")
    spatial = x.shape[-D:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    check(all(p >= e for p, e in zip(padded, extent)), RuntimeError,
          f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
          f"({' x '.join(map(str, extent))}). Kernel size can't be greater than actual input size")
    check(all(n > 0 for n in spatial), RuntimeError,
          f"Only zero batch or zero channel inputs are supported, but got input shape: {list(x.shape)}")
    out = _out_sizes(padded, kernel, stride, dilation)
    y = _conv_core(_batched(x, batched), weight, bias, stride, pads, dilation, groups, kernel, out)
    return _unbatched(y, batched)


#: Channels per group from which a stride-1 convolution runs one GEMM per kernel tap on
#: views of the flat padded input (no im2col copy): measured faster from about 8 channels
#: (a 3x3x3 Conv3d 16 -> 16 on 16^3: 2.5 ms against 3.6 ms); below, the GEMMs are too thin.
PER_TAP_MIN_CHANNELS = 8


@_QUIET
def _conv_core(x: Tensor, weight: Tensor, bias, stride, pads, dilation, groups, kernel, out) -> Tensor:
    N, C = x.shape[:2]
    C_out, G = weight.shape[0], groups
    spatial = x.shape[2:]
    start = tuple(lo for lo, _ in pads)
    win = _Windows(tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads)), kernel, stride, dilation)
    Cg, Cout_g = C // G, C_out // G
    # Per tap, junk grid columns read real input elements; the weight gradient multiplies them
    # by zero cotangents, which an inf would turn into NaN, so non-finite inputs take im2col
    # (whose junk columns are zeroed).
    per_tap = Cg >= PER_TAP_MIN_CHANNELS and np.isfinite(x.data).all()
    if per_tap:
        buf = win.buffer(x.data, start)
        w_taps = np.ascontiguousarray(np.moveaxis(weight.data.reshape(G, Cout_g, Cg, win.K), -1, 0))  # (K, G, Coutg, Cg)
        y_grid = np.matmul(w_taps[0], win.tap(buf, 0, G))
        for k in range(1, win.K):
            y_grid += np.matmul(w_taps[k], win.tap(buf, k, G))
    else:
        cols = win.unfold(x.data, start).reshape(N, G, Cg * win.K, win.L)
        w_g = weight.data.reshape(G, Cout_g, Cg * win.K)
        y_grid = np.matmul(w_g, cols)
    y = win.from_grid(y_grid.reshape(N, C_out, win.L))
    y = y + bias.data.reshape((1, C_out) + (1,) * len(out)) if bias is not None else np.ascontiguousarray(y)

    @_QUIET
    def vjp(g):
        g_grid = win.to_grid(g).reshape(N, G, Cout_g, win.L)
        gx = gw = None
        if x.requires_grad:
            if per_tap:
                dbuf = np.zeros_like(buf)
                for k in range(win.K):
                    win.accumulate(dbuf, k, np.matmul(w_taps[k].transpose(0, 2, 1), g_grid).reshape(N, C, win.L))
                gx = win.extract(dbuf, start, spatial)
            else:
                gx = win.fold(np.matmul(w_g.transpose(0, 2, 1), g_grid).reshape(N, C, win.K, win.L), start, spatial)
        if weight.requires_grad:
            if per_tap:
                gw = np.stack([np.matmul(g_grid, win.tap(buf, k, G).transpose(0, 1, 3, 2)).sum(axis=0)
                               for k in range(win.K)], axis=-1).reshape(weight.shape)
            else:
                gw = np.matmul(g_grid, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
        return (gx, gw) + _bias_grad(g, bias)

    return op(y, _parents(x, weight, bias), vjp)


def _bias_grad(g, bias) -> tuple:
    """() without a bias; (sum of g over every dim but the channels,) with one."""
    if bias is None:
        return ()
    return (g.sum(axis=(0,) + tuple(range(2, g.ndim))) if bias.requires_grad else None,)


def _parents(x, weight, bias) -> tuple:
    return (x, weight) if bias is None else (x, weight, bias)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return convolution(x, weight, bias, stride, padding, dilation, groups, who="conv1d")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return convolution(x, weight, bias, stride, padding, dilation, groups, who="conv2d")


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return convolution(x, weight, bias, stride, padding, dilation, groups, who="conv3d")


# -- transposed convolution -------------------------------------------------------------------

def conv_transpose(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0,
                   groups: int = 1, dilation=1, who: str | None = None) -> Tensor:
    """N-d transposed convolution (torch.nn.functional.conv_transpose1d/2d/3d): the
    adjoint of ``conv`` with the same weight, stride, padding and dilation.

    ``x``: (N, C_in, *I) or unbatched; ``weight``: (C_in, C_out/groups, *k). Per dim the
    output has O = (I - 1) s - 2 p + d (k - 1) + output_padding + 1 elements:

        full = fold(W^T x)   (size (I - 1) s + d (k - 1) + 1, zero-extended as needed)
        out  = full[p : p + O] + bias

    Backward: the cotangent is zero-extended back to ``full``'s frame and unfolded
    (cols); dx = W cols (a convolution), dW = sum_n x_n cols_n^T, db = sum of g.
    """
    D, who, batched, stride, dilation = _prelude(x, weight, bias, stride, dilation,
                                                 who or f"conv_transpose{weight.ndim - 2}d")
    pad = expand_param(padding, D, "padding", who)
    opad = expand_param(output_padding, D, "output_padding", who)
    check(all(p >= 0 for p in pad), RuntimeError, f"{who}: negative padding is not supported (padding={list(pad)})")
    check(all(p >= 0 for p in opad), RuntimeError, f"{who}: negative output_padding is not supported (output_padding={list(opad)})")
    _check_params(stride, dilation, groups, who)
    check(all(op_ < s or op_ < d for op_, s, d in zip(opad, stride, dilation)), RuntimeError,
          f"{who}: output padding must be smaller than either stride or dilation, but got output_padding={list(opad)}, "
          f"stride={list(stride)}, dilation={list(dilation)}")
    C_in, Cout_g = weight.shape[:2]
    check(C_in >= groups and C_in % groups == 0, RuntimeError,
          f"Given groups={groups}, expected weight to be at least {groups} and divisible by {groups} at dimension 0, "
          f"but got weight of size {list(weight.shape)} instead")
    C = x.shape[1 if batched else 0]
    check(C == C_in, RuntimeError,
          f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have {C_in} "
          f"channels, but got {C} channels instead")
    C_out = Cout_g * groups
    check(bias is None or bias.shape == (C_out,), RuntimeError,
          f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {C_out} "
          f"elements, but got bias of size {list(bias.shape) if bias is not None else None} instead")
    spatial = x.shape[-D:]
    kernel = tuple(weight.shape[2:])
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for i, s, p, d, k, o in zip(spatial, stride, pad, dilation, kernel, opad))
    check(all(n > 0 for n in size), RuntimeError,
          f"{who}: the computed output size {list(size)} is too small (input {list(spatial)}, kernel {list(kernel)}, "
          f"stride {list(stride)}, padding {list(pad)}, dilation {list(dilation)}, output_padding {list(opad)})")
    check(all(n > 0 for n in spatial), RuntimeError,
          f"Only zero batch or zero channel inputs are supported, but got input shape: {list(x.shape)}")
    y = _conv_transpose_core(_batched(x, batched), weight, bias, stride, pad, dilation, groups, kernel, size)
    return _unbatched(y, batched)


@_QUIET
def _conv_transpose_core(x: Tensor, weight: Tensor, bias, stride, pad, dilation, groups, kernel, size) -> Tensor:
    N, C_in = x.shape[:2]
    spatial = x.shape[2:]
    G, Cout_g = groups, weight.shape[1]
    C_out = Cout_g * G
    # The windows of the adjoint convolution: its frame holds every tap of every input position.
    win = _Windows(tuple((i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip(spatial, stride, dilation, kernel)),
                   kernel, stride, dilation)
    w_g = weight.data.reshape(G, C_in // G, Cout_g * win.K)
    x_grid = win.to_grid(x.data).reshape(N, G, C_in // G, win.L)
    cols = np.matmul(w_g.transpose(0, 2, 1), x_grid).reshape(N, C_out, win.K, win.L)
    y = win.fold(cols, pad, size)  # the output is the frame from p on (zero past its end)
    y = y + bias.data.reshape((1, C_out) + (1,) * len(size)) if bias is not None else np.ascontiguousarray(y)

    @_QUIET
    def vjp(g):
        gcols = win.unfold(g, pad).reshape(N, G, Cout_g * win.K, win.L)
        gx = np.ascontiguousarray(win.from_grid(np.matmul(w_g, gcols).reshape(N, C_in, win.L))) if x.requires_grad else None
        gw = np.matmul(x_grid, gcols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape) if weight.requires_grad else None
        return (gx, gw) + _bias_grad(g, bias)

    return op(y, _parents(x, weight, bias), vjp)


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, who="conv_transpose1d")


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, who="conv_transpose2d")


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, who="conv_transpose3d")


# -- unfold / fold ------------------------------------------------------------------------------

def unfold(x: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col (torch.nn.functional.unfold): (N, C, H, W) -> (N, C*kh*kw, L), column l
    holding the (zero-padded) block at output position l, channel-major then kernel
    offsets in row-major order. Unbatched (C, H, W) -> (C*kh*kw, L).
    Backward: fold (col2im) of the cotangent, cropped."""
    check(x.ndim >= 3, IndexError, f"unfold: Dimension out of range (expected a 3D or 4D input, got {x.ndim}D)")
    check(x.ndim <= 4, RuntimeError, f"unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch size, got {list(x.shape)}")
    check(np.issubdtype(x.dtype, np.floating), NotImplementedError, f"unfold (im2col) is not implemented for {x.dtype}")
    batched = x.ndim == 4
    xb = _batched(x, batched)
    N, C = xb.shape[:2]
    spatial = xb.shape[2:]
    check(C > 0 and all(n > 0 for n in spatial), RuntimeError,
          f"unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions, "
          f"but got: {list(x.shape)}")
    win, padding = _block_windows(spatial, kernel_size, dilation, padding, stride, "unfold")
    out = win.out
    y = np.ascontiguousarray(win.from_grid(win.unfold(xb.data, padding).reshape(N, C * win.K, win.L))).reshape(N, C * win.K, int(np.prod(out)))

    def vjp(g):
        cols = win.to_grid(g.reshape((N, C * win.K) + out)).reshape(N, C, win.K, win.L)
        return (win.fold(cols, padding, spatial),)

    res = op(y, (xb,), vjp)
    return _unbatched(res, batched)


def fold(x: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im (torch.nn.functional.fold): (N, C*kh*kw, L) -> (N, C, *output_size), the
    adjoint of unfold: each column's block is added at its position, overlapping
    blocks sum. Unbatched (C*kh*kw, L) -> (C, *output_size).
    Backward: unfold of the (zero-padded) cotangent."""
    check(x.ndim in (2, 3) and all(x.shape[x.ndim - 2:]), RuntimeError,
          f"fold: Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions, "
          f"but got: {list(x.shape)}")
    check(np.issubdtype(x.dtype, np.floating), NotImplementedError, f"fold (col2im) is not implemented for {x.dtype}")
    size = _fold_param(output_size, "output_size", "fold")
    check(all(s > 0 for s in size), RuntimeError, f"fold: output_size should be greater than zero, but got {list(size)}")
    win, padding = _block_windows(size, kernel_size, dilation, padding, stride, "fold")
    batched = x.ndim == 3
    xb = _batched(x, batched)
    N, CK, L = xb.shape
    K, out = win.K, win.out
    check(CK % K == 0, RuntimeError,
          f"fold: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
          f"input.size(1)={CK} and kernel_size={list(win.kernel)}")
    check(L == int(np.prod(out)), RuntimeError,
          f"fold: Given output_size={list(size)}, expected size of input's dimension 2 to match the calculated number "
          f"of sliding blocks {' * '.join(map(str, out))} = {int(np.prod(out))}, but got input.size(2)={L}.")
    cols = win.to_grid(xb.data.reshape((N, CK) + out)).reshape(N, CK // K, K, win.L)
    y = win.fold(cols, padding, size)

    def vjp(g):
        return (np.ascontiguousarray(win.from_grid(win.unfold(g, padding).reshape(N, CK, win.L))).reshape(N, CK, L),)

    res = op(y, (xb,), vjp)
    return _unbatched(res, batched)


def _fold_param(value, name, who):
    """fold/unfold take an int or a pair (torch's _pair)."""
    if _is_int(value):
        return (int(value),) * 2
    value = tuple(value)
    check(len(value) == 2 and all(_is_int(v) for v in value), RuntimeError,
          f"{who}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in value)


def _block_windows(spatial, kernel_size, dilation, padding, stride, who):
    """Fold/unfold's arguments (each an int or a pair), checked as ATen's im2col/col2im shape
    checks, and the windows over the padded ``spatial`` frame. Returns (windows, padding)."""
    kernel, dilation, padding, stride = (_fold_param(v, name, who) for v, name in
                                         ((kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")))
    check(all(k > 0 for k in kernel), RuntimeError, f"{who}: kernel size should be greater than zero, but got kernel_size={list(kernel)}")
    check(all(d > 0 for d in dilation), RuntimeError, f"{who}: dilation should be greater than zero, but got dilation={list(dilation)}")
    check(all(p >= 0 for p in padding), RuntimeError, f"{who}: padding should be non-negative, but got padding={list(padding)}")
    check(all(s > 0 for s in stride), RuntimeError, f"{who}: stride should be greater than zero, but got stride={list(stride)}")
    padded = tuple(n + 2 * p for n, p in zip(spatial, padding))
    out = _out_sizes(padded, kernel, stride, dilation)
    check(all(o >= 1 for o in out), RuntimeError,
          f"{who}: Given spatial size {list(spatial)}, kernel_size={list(kernel)}, dilation={list(dilation)}, "
          f"padding={list(padding)}, stride={list(stride)}, calculated shape of the array of sliding blocks as "
          f"{list(out)}, but its components must be at least one.")
    return _Windows(padded, kernel, stride, dilation), padding
