"""Stochastic gradient descent (torch/optim/sgd.py, torch 2.13).

With g the gradient of a parameter p, lr the learning rate, mu the momentum,
tau the dampening and lambda the weight decay, one step is::

    g = -g                          if maximize
    g = g + lambda * p              if lambda != 0      (weight decay before momentum)
    if mu != 0:
        b = g (a copy)              at the parameter's first step: no dampening
        b = mu * b + (1 - tau) * g  afterwards
        g = g + mu * b              if nesterov
        g = b                       otherwise
    p = p - lr * g

Parameters whose ``grad`` is None are skipped entirely. The momentum buffer of
each parameter is ``state[p]["momentum_buffer"]``. Arithmetic is in the
parameter's dtype with the hyperparameters rounded to it, as torch's
single-tensor CPU path (torch may fuse a multiply-add into one rounding, so the
two can differ by an ulp per operation). ``foreach``, ``fused`` and
``differentiable`` are accepted for signature parity and change nothing here.
"""

from __future__ import annotations

import numpy as np

from .._validate import check
from .optimizer import Optimizer

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None):
        check(not lr < 0.0, ValueError, f"Invalid learning rate: {lr}")
        check(not momentum < 0.0, ValueError, f"Invalid momentum value: {momentum}")
        check(not weight_decay < 0.0, ValueError, f"Invalid weight_decay value: {weight_decay}")
        check(not (nesterov and (momentum <= 0 or dampening != 0)), ValueError,
              "Nesterov momentum requires a momentum and zero dampening")
        check(not (fused and differentiable), RuntimeError, "`fused` does not support `differentiable`")
        check(not (fused and foreach), RuntimeError, "`fused` and `foreach` cannot be `True` together.")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One step for every parameter with a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:  # validate every gradient before changing anything
            for p in group["params"]:
                g = p.grad
                check(g is None or (g.shape == p.data.shape and g.dtype == p.data.dtype), RuntimeError,
                      f"SGD: a gradient of shape {getattr(g, 'shape', None)} and dtype {getattr(g, 'dtype', None)} "
                      f"for a parameter of shape {p.data.shape} and dtype {p.data.dtype}")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            momentum = group["momentum"]
            buffers = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else [None] * len(params)
            new_data, buffers = sgd([p.data for p in params], [p.grad for p in params], buffers,
                                    weight_decay=group["weight_decay"], momentum=momentum, lr=group["lr"],
                                    dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"])
            for p, data, buf in zip(params, new_data, buffers):
                p.data = data
                if momentum != 0:
                    self.state[p]["momentum_buffer"] = buf
        return loss


def sgd(params, grads, momentum_buffers, *, weight_decay: float, momentum: float, lr: float, dampening: float,
        nesterov: bool, maximize: bool):
    """The update of the module docstring on lists of arrays. Returns the new
    parameter arrays and the new momentum buffers (None where momentum is 0);
    writes into none of its arguments."""
    new_params, new_buffers = [], []
    for param, grad, buf in zip(params, grads, momentum_buffers):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        if momentum != 0:
            if buf is None:
                buf = g.copy()
            else:
                buf = momentum * buf + (1 - dampening) * g
            if nesterov:
                g = g + momentum * buf
            else:
                g = buf
        new_params.append(param - lr * g)
        new_buffers.append(buf)
    return new_params, new_buffers
