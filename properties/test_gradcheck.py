"""gradcheck: the twin's own backward against central finite differences, in float64.

Independent of torch: it tests the twin's vjp against the twin's forward. For a
random cotangent c, L(theta) = sum(c * f(theta)); for each coordinate of every
float input and every parameter (at most MAX_COORDS per array, chosen at random),
dL/dtheta_i is estimated with a central difference of step h_i = 1e-6 max(1, |theta_i|).

Coordinates at a kink (the one-sided differences disagree, e.g. ReLU at 0) or where
a step leaves the domain (NaN) are not judged. Kink test: the one-sided
differences differ by more than 1e-3 (their sizes) + 1e-9 + 1e-12 S / h (rounding of L
is about 2.2e-16 S, so 1e-12 S / h is ~4500x the rounding of a one-sided difference). The
allowed error is 1e-6 (1 + |fd|) + 1e-8 S, where S = sum|c * f| bounds the rounding
error of L (about 2.2e-16 S / h = 2.2e-10 S), so the bound is 50x rounding plus a
1e-6 relative budget for truncation (h^2 |L'''|).
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume

from nnparity.compare import Comparison, Tolerance
from nnparity.engine import copy_args, cotangents_for, is_float_array, rng_for
from reference.runner import flatten

from .driver import case_strategy

CHECK = "gradcheck"
PARAM_NAMES = ("mode",)
MAX_COORDS = 24
TOL = Tolerance(1e-6, 1e-6, "finite differences: 1e-6 relative + 1e-8 * sum|c*f| for the rounding of L")


def params(entry):
    return [dict(mode=m) for m in entry.modes()]


def gradcheck_body(entry, impl):
    def run(case):
        import torch

        nn = impl.nn
        module = entry.build(nn, case.kwargs, {"dtype": np.dtype("float64")}, "twin")
        torch_module = entry.build(torch.nn, case.kwargs, {"dtype": torch.float64, "device": "cpu"}, "torch")
        torch_state = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
        state = entry.draw_state(torch_state, [n for n, _ in torch_module.named_parameters()], rng_for(case.seed, 0))
        module.train(case.mode == "train")

        def evaluate(args, st):
            """Forward with fixed state and fixed randomness; returns (L, S, outputs)."""
            module.load_state_dict({k: v.copy() for k, v in st.items()})
            if entry.random:
                module.generator = np.random.default_rng(case.seed)
            outs = [o for o in flatten(module(*copy_args(args), **copy_args(case.fkwargs))) if is_float_array(o)]
            return outs

        base = evaluate(case.args, state)
        cots = cotangents_for(case.seed)(base)

        def loss(args, st):
            outs = evaluate(args, st)
            terms = [np.sum(c * o, dtype=np.float64) for c, o in zip(cots, outs) if c is not None]
            scale = sum(float(np.sum(np.abs(c * o))) for c, o in zip(cots, outs) if c is not None)
            return float(sum(terms)), scale

        module.load_state_dict({k: v.copy() for k, v in state.items()})
        if entry.random:
            module.generator = np.random.default_rng(case.seed)
        input_grads, param_grads = impl.vjp(module, copy_args(case.args), cots, **copy_args(case.fkwargs))
        L0, S = loss(case.args, state)
        rng = rng_for(case.seed, 3)
        comparisons, skipped = [], 0

        targets = [(f"grad input[{i}]", "arg", i) for i, x in enumerate(case.args)
                   if is_float_array(x) and i not in entry.nondiff_inputs and x.size]
        targets += [(f"grad {k}", "param", k) for k in param_grads if is_float_array(state.get(k)) and state[k].size]
        for label, kind, key in targets:
            analytic = input_grads[key] if kind == "arg" else param_grads[key]
            base_value = case.args[key] if kind == "arg" else state[key]
            coords = rng.permutation(base_value.size)[:MAX_COORDS]
            worst = Comparison(label, True, TOL)
            for flat in coords:
                idx = np.unravel_index(flat, base_value.shape)
                h = 1e-6 * max(1.0, abs(float(base_value[idx])))

                def shifted(delta):
                    v = base_value.copy()
                    v[idx] += delta
                    if kind == "arg":
                        args = list(case.args)
                        args[key] = v
                        return loss(tuple(args), state)[0]
                    return loss(case.args, {**state, key: v})[0]

                Lp, Lm = shifted(h), shifted(-h)
                right, left = (Lp - L0) / h, (L0 - Lm) / h
                gap, noise = abs(right - left), 1e-12 * S / h
                # A kink: the one-sided differences disagree by more than 1e-3 of their size
                # (relative, so that a kink seen through a small cotangent, |c| < 1e-3 at
                # ReLU's 0, is caught too; an absolute 1e-3 floor let it through).
                if not np.isfinite([Lp, Lm, L0]).all() or gap > 1e-3 * (abs(right) + abs(left)) + 1e-9 + noise:
                    skipped += 1  # a kink or a domain boundary within h: not differentiable here
                    continue
                fd = (Lp - Lm) / (2 * h)
                a = float(analytic[idx])
                allowed = TOL.atol * (1 + abs(fd)) + 1e-8 * S
                err = abs(a - fd)
                ratio = err / allowed if err else 0.0
                if not np.isfinite(a) or ratio > worst.headroom:
                    worst = Comparison(label, bool(np.isfinite(a) and ratio <= 1), TOL, max_abs=err,
                                       max_rel=err / abs(fd) if fd else float(err > 0), headroom=ratio,
                                       worst_index=tuple(int(i) for i in idx), twin_value=a, torch_value=fd,
                                       extra={"note": "torch_value holds the finite-difference estimate"})
            comparisons.append(worst)
        judged = sum(min(MAX_COORDS, (case.args[k] if kind == "arg" else state[k]).size) for _, kind, k in targets) - skipped
        assume(judged > 0 or not targets)  # every coordinate at a kink: draw another case
        return comparisons

    return run


def test_gradcheck(nnp, entry, mode):
    nnp.fuzz(entry, CHECK, case_strategy(entry, "float64", "cpu", mode, check=CHECK), gradcheck_body(entry, nnp.impl),
             dtype="float64", device="cpu", mode=mode, scale=0.5)
