"""The optimiser base class (torch/optim/optimizer.py, torch 2.13): parameter groups,
``zero_grad``, ``state_dict``/``load_state_dict`` in torch's layout, and torch's
validation errors.

Layout of ``state_dict()`` (as torch's): ``{"state": {index: {name: array}},
"param_groups": [{option: value, ..., "params": [index, ...]}]}``. Parameters are
numbered in the order the groups list them (a parameter listed twice keeps its
first index); ``state`` holds the parameters that have state, in the order they
acquired it. Unlike torch, the arrays in it are copies, not references.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from ..autograd import Tensor
from .._validate import check
from ..nn.module import typename

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyperparameter without a default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Holds ``param_groups`` (a list of dicts with the key ``"params"``, a list of
    Parameters, and one key per hyperparameter) and ``state`` (per Parameter)."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        check(not isinstance(params, (Tensor, np.ndarray)), TypeError,
              "params argument given to the optimizer should be an iterable of Tensors or dicts, but got " + typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        check(len(param_groups) > 0, ValueError, "optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __repr__(self):
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    def add_param_group(self, param_group: dict) -> None:
        """Validate and append a group, filling the options it omits from the defaults."""
        check(isinstance(param_group, dict), TypeError, f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        check(not isinstance(params, set), TypeError,
              "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets "
              "will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        check(not names or len(names) == len(tensors), ValueError,
              "all optimizer params should be with/without names. Some param names are missing")
        for p in tensors:
            check(isinstance(p, Tensor), TypeError, "optimizer can only optimize Tensors, but one of the params is " + typename(p))
            check(self.defaults.get("differentiable", None) or p._vjp is None, ValueError, "can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            check(not (default is required and name not in param_group), ValueError,
                  f"parameter group didn't specify a value of required optimization parameter {name}")
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                          "error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        for group in self.param_groups:
            check(("param_names" in group) == bool(names), ValueError,
                  "all optimizer param groups should be with/without names. "
                  f"cannot add param group {'with names' if names else 'without names'} to the optimizer")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        check(taken.isdisjoint(id(p) for p in tensors), ValueError, "some parameters appear in more than one parameter group")
        # Validated: now change the group as torch does (in place).
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``grad`` to None (or to a new array of zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else np.zeros_like(p.grad)

    def step(self, closure=None):
        raise NotImplementedError

    # -- state_dict ------------------------------------------------------------------
    def _indices(self) -> dict:
        """id(param) -> its index in torch's numbering."""
        index, start = {}, 0
        for group in self.param_groups:
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            start += len(group["params"])
        return index

    def state_dict(self) -> dict:
        index = self._indices()
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): _copy_arrays(v) for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Validate the group count and sizes (ValueError, nothing changed), then
        take the saved options and state; arrays are copied and floating-point
        ones cast to their parameter's dtype."""
        state_dict = state_dict.copy()
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        check(len(self.param_groups) == len(saved_groups), ValueError,
              "loaded state dict has a different number of parameter groups")
        check(all(len(g["params"]) == len(s["params"]) for g, s in zip(self.param_groups, saved_groups)), ValueError,
              "loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _copy_arrays(v, param.data.dtype if np.issubdtype(param.data.dtype, np.floating) else None)
            else:
                state[k] = v
        for group, new_group in zip(self.param_groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.state, self.param_groups = state, saved_groups


def _copy_arrays(value, dtype=None):
    """A deep copy of nested dicts/lists/tuples of arrays; floating arrays cast to ``dtype``
    when given (torch's ``_process_value_according_to_param_policy``; ``step`` is kept)."""
    if isinstance(value, (np.ndarray, Tensor)):
        a = value.data if isinstance(value, Tensor) else value
        return a.astype(dtype) if dtype is not None and np.issubdtype(a.dtype, np.floating) else a.copy()
    if isinstance(value, dict):
        return {k: (_copy_arrays(v) if k == "step" else _copy_arrays(v, dtype)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_arrays(v, dtype) for v in value)
    return value
