"""Optimisers (torch.optim): ``SGD``, on the ``Optimizer`` base class.

How gradients reach the optimiser. ``SGD.step()`` reads ``p.grad`` of each of its
parameters, exactly as torch's does; a parameter whose ``grad`` is None is skipped
(no weight decay, no momentum update), and ``zero_grad()`` sets them to None.
``p.grad`` is filled in either of two ways:

* by the tape, as ``loss.backward()`` fills it in torch: run the forward on Tensors
  under ``impls.autograd.enable_grad()`` and call
  ``impls.autograd.backward([loss], [np.ones((), loss.dtype)])``; gradients
  accumulate into ``p.grad`` as torch's do;
* from the contract's ``vjp``, whose ``param_grads`` is keyed like
  ``named_parameters``: ``for name, p in m.named_parameters(): p.grad = param_grads[name]``.

Why ``p.grad`` and not ``opt.step(grads)``: a training loop then reads as torch's
(``zero_grad``, backward, ``step``), the None-versus-zero distinction torch makes
(a parameter without a gradient is not stepped) carries over unchanged, and the
optimiser needs no knowledge of names or modules. Another implementation of the
contract only needs Parameters with a writable ``grad`` attribute.
"""

from .optimizer import Optimizer, required  # noqa: F401
from .sgd import SGD  # noqa: F401

__all__ = ["Optimizer", "SGD"]
