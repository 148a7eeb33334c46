"""gradcheck: the twin's own backward against finite differences of the twin's own
forward, in float64. torch plays no part: messages and records name the two sides
"twin" and "finite differences".

For a random cotangent c, L(theta) = sum(c * f(theta)). For each coordinate of every
float input and every parameter (at most MAX_COORDS per array, chosen at random),
with h = 1e-6 max(1, |theta_i|):

* differences are formed per output element j, c_j (f_j(theta + h) - f_j(theta)):
  an element the step did not change contributes exactly 0, so the rounding is
  that of the elements it changed, about 2.2e-16 S with S = sum|c * f| over those
  elements (not over the whole output); L's difference is their sum.
* allowed error: ``1e-6 (1 + |fd|) + 1e-8 S``: 1e-8 S is ~45x the rounding of a
  one-sided difference at h = 1e-6 (2.2e-16 S / h), and a 1e-6 relative budget
  covers truncation (h^2 |L'''| / 6). Each record carries the bound it applied
  (rtol = 1e-6; atol = 1e-6 + 1e-8 S at the worst coordinate).
* **smooth**: the one-sided differences agree, element by element, within the
  allowed error (sum_j |right_j - left_j| <= allowed; per element, so that two
  kinks whose slope changes cancel in the sum are still seen): the twin must match
  the central difference.
* otherwise the step straddles either curvature or a kink. Repeat with the step
  divided by 4, as long as the rounding of L stays a tenth of the allowed error
  (4 eps S / step <= allowed / 10) and theta + step differs from theta. Smooth
  curvature shrinks the gap between the one-sided differences with the step (about
  4x per division); a kink within the step keeps it (the slopes' jump). So at each
  smaller step: if the gap is now within the allowed error, the point is
  **smooth** and the twin must match the central difference at that step; if the
  gap did not at least halve, it is a **kink**: the twin must lie between the
  one-sided derivatives at that step (either one, or anything between: a
  subgradient), taken per output element and summed (sum_j min(left_j, right_j)
  to sum_j max(left_j, right_j)), within the allowed error. This holds whatever the size of the
  slope change (ELU with alpha = 0.998 at 0 has slopes 1 and 0.998), and a wrong
  subgradient outside the interval still fails. Kinks in several output elements
  closer together than the step (inputs 3e-150 apart around a broadcast L1 target)
  are covered by the per-element sum; before failing a value outside the interval,
  the step keeps shrinking (by 1024 at a time) until it separates them, or the
  rounding limit is reached.
* **steep**: the gap still shrinks like curvature at the smallest usable step but
  is not yet within the allowed error: the function varies on a scale finite
  differences cannot resolve (e.g. log(v) at v = 1e-5). Not judged.
* **undefined**: a step leaves the domain (a non-finite L): not judged.

Kink, steep and undefined coordinates do not count as judged: an array with none judged
in an example is marked ``judged: False``; the driver rejects an example that judged
nothing and reports a check that never judged an array as ``not-judged``.
"""

from __future__ import annotations

import numpy as np

from ..cases import case_strategy
from ..catalog import build_torch
from ..compare import Comparison, Tolerance
from ..engine import bind_case, materialize, target, twin_target, copy_args, cotangents_for, differentiable_leaves, is_float_array, rng_for
from ..noise import reseed
from ..leaves import Call, get, replace_leaf
from .values import methods_for
from reference.runner import flatten

KIND = "gradcheck"
PARAM_NAMES = ("mode", "method")
MAX_COORDS = 24
REL, ABS, ROUND = 1e-6, 1e-6, 1e-8
REASON = "finite differences: 1e-6 (1 + |fd|) for truncation + 1e-8 * sum|c*f| (elements the step changed) for rounding"


def params(entry):
    return [dict(mode=m, method=f) for m in entry.modes() for f in methods_for(entry, differentiable_only=True)]


EPS = float(np.finfo(np.float64).eps)
MAX_HALVINGS = 200  # enough to reach float64's smallest normal steps from h = 1e-6


def _classify(probe, theta: float, analytic: float):
    """(kind, estimate or interval, allowed, step) for one coordinate; kind in smooth,
    kink, steep, undefined. ``probe(delta) -> (d, S)``: d holds c_j (f_j(theta + delta)
    - f_j(theta)) for every output element j, S = sum|c * f| over the elements the
    step changed."""
    step, gap, kink = 1e-6 * max(1.0, abs(theta)), None, None
    for _ in range(MAX_HALVINGS):
        (dp, sp), (dm, sm) = probe(step), probe(-step)
        if not (np.isfinite(dp).all() and np.isfinite(dm).all()):
            return ("kink",) + kink if kink else ("undefined", None, None, step)
        S = max(sp, sm)
        right, left = dp / step, -dm / step  # per output element
        central = float(np.sum(dp - dm)) / (2 * step)
        allowed = ABS + REL * abs(central) + ROUND * S
        new_gap = float(np.sum(np.abs(right - left)))
        if new_gap <= allowed:
            return "smooth", central, allowed, step
        if gap is not None and new_gap > gap / 2:
            interval = (float(np.sum(np.minimum(left, right))), float(np.sum(np.maximum(left, right))))
            kink = (interval, allowed, step)
            if interval[0] - allowed <= analytic <= interval[1] + allowed:
                return ("kink",) + kink
        # Curvature is told from a kink by dividing by 4; once a kink is seen, only its
        # separation from a neighbouring one is sought: shrink faster.
        gap, step = new_gap, step / (4 if kink is None else 1024)
        if 4 * EPS * S / step > allowed / 10 or theta + step == theta or step < np.finfo(np.float64).tiny:
            break
    return ("kink",) + kink if kink else ("steep", None, None, step)


def body(entry, impl):
    def run(case):
        import torch

        module = entry.build(impl.nn, case.kwargs, {"dtype": np.dtype("float64")}, "twin")
        torch_module = build_torch(entry, case.kwargs, {"dtype": torch.float64, "device": "cpu"}, case.seed)
        c0 = bind_case(entry, case, torch_module)
        if entry.lazy:
            materialize(entry, torch_module, module, c0, case.method, "cpu", impl.nn)
        torch_state = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
        state = entry.draw_state(torch_state, [n for n, _ in torch_module.named_parameters()], rng_for(case.seed, 0),
                                 case.state)
        module.train(case.mode == "train")

        def evaluate(c, st):
            """Forward with fixed state and fixed randomness."""
            module.load_state_dict({k: v.copy() for k, v in st.items()})
            if entry.random:
                reseed(module, case.seed)
            out = target(entry, module, case.method, impl.nn, "twin")(*copy_args(c.args), **copy_args(c.kwargs))
            return [o for o in flatten(out) if o is not None]  # every output array (as the gradients check); integer ones (indices) get no cotangent

        base = evaluate(c0, state)
        cots = cotangents_for(case.seed)(base)

        def difference(outs):
            """c * (f - f0) per output element (an element the step did not change is
            exactly 0, whatever the size of the others), and the scale of its
            rounding: sum|c * f| over the elements that changed."""
            parts, scale = [], 0.0
            with np.errstate(invalid="ignore", over="ignore"):
                for c, o, o0 in zip(cots, outs, base):
                    if c is None or not is_float_array(o):
                        continue
                    delta = o - o0
                    changed = delta != 0
                    parts.append((c * delta).reshape(-1).astype(np.float64))
                    scale += float(np.sum(np.abs(c * o)[changed]) + np.sum(np.abs(c * o0)[changed]))
            return (np.concatenate(parts) if parts else np.zeros(0)), scale

        module.load_state_dict({k: v.copy() for k, v in state.items()})
        if entry.random:
            reseed(module, case.seed)
        contract_cots = cots[0] if len(cots) == 1 else tuple(cots)
        input_grads, param_grads = impl.vjp(twin_target(entry, module, case.method, impl.nn), copy_args(c0.args), contract_cots,
                                            **copy_args(c0.kwargs))
        if entry.gradcheck_adjust is not None:
            input_grads, param_grads = entry.gradcheck_adjust(case, input_grads, param_grads, cots)
        rng = rng_for(case.seed, 3)

        grads = Call(tuple(input_grads), {}, c0.names)
        targets = [(f"grad {c0.name(p)}", "arg", p) for p in differentiable_leaves(entry, c0) if get(c0, p).size]
        targets += [(f"grad {k}", "param", k) for k in param_grads if is_float_array(state.get(k)) and state[k].size]
        comparisons = []
        for label, kind, key in targets:
            analytic = get(grads, key) if kind == "arg" else param_grads[key]
            base_value = get(c0, key) if kind == "arg" else state[key]
            counts = {"smooth": 0, "kink": 0, "steep": 0, "undefined": 0}
            worst, worst_allowed = Comparison(label, True, Tolerance(REL, ABS, REASON), subject="twin",
                                              reference="finite differences"), ABS
            for flat in rng.permutation(base_value.size)[:MAX_COORDS]:
                idx = np.unravel_index(flat, base_value.shape)

                def probe(delta, idx=idx):
                    v = base_value.copy()
                    v[idx] += delta
                    if kind == "arg":
                        return difference(evaluate(replace_leaf(c0, key, v), state))
                    return difference(evaluate(c0, {**state, key: v}))

                a = float(analytic[idx])
                what, estimate, allowed, step = _classify(probe, float(base_value[idx]), a)
                counts[what] += 1
                if what in ("undefined", "steep"):
                    continue
                if what == "smooth":
                    err, ref = abs(a - estimate), estimate
                else:
                    lo, hi = estimate
                    err, ref = max(lo - a, a - hi, 0.0), (lo if a < lo else hi if a > hi else a)
                ratio = err / allowed if err else 0.0
                if not np.isfinite(a) or ratio > worst.headroom:
                    note = (f"at a kink: accepted between the one-sided derivatives [{estimate[0]:.9g}, "
                            f"{estimate[1]:.9g}] (step {step:.3g})" if what == "kink" else
                            f"central difference (step {step:.3g})")
                    # The bound this coordinate was held to: atol carries the 1e-8 S term.
                    tol = Tolerance(REL, allowed - REL * abs(ref), REASON)
                    worst = Comparison(label, bool(np.isfinite(a) and ratio <= 1), tol, max_abs=err,
                                       max_rel=err / abs(ref) if ref else float(err > 0), headroom=ratio,
                                       worst_index=tuple(int(i) for i in idx), subject_value=a, reference_value=ref,
                                       subject="twin", reference="finite differences", extra={"point": note})
                    worst_allowed = allowed
            worst.extra.update(judged=counts["smooth"] > 0, coordinates=counts,
                               bound=f"allowed |err| <= {ABS:g} + {REL:g}*|fd| + {ROUND:g}*S = {worst_allowed:.3g}, "
                                     "S = sum|c*f| over the output elements the step changed")
            comparisons.append(worst)
        return comparisons

    return run


def run(nnp, entry, *, mode, method):
    nnp.fuzz(entry, KIND, case_strategy(entry, "float64", "cpu", mode, check=KIND, method=method), body(entry, nnp.impl),
             dtype="float64", device="cpu", mode=mode, scale=0.5, extra_key=method)
