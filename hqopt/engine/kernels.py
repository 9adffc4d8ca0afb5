"""Compiled moves, incremental deltas and search loops (numba, ``nogil``).

Everything here works on two named tuples of arrays: the problem ``P``
(:class:`hqopt.engine.problem.Arrays`) and a chain's state ``S``
(:data:`State`). A move changes 1 to 4 variables by ``d`` (flip / integer
step: 1 variable; shift of a one-hot group: 2; swap of two permutation rows:
4), plus the binaries those group variables define (:func:`with_dependents`:
a service's zone and region variables move with it). Its delta is exact and
costs O(degree): ``h`` holds each variable's local
field ``lin_i + sum_j Q_ij x_j``, ``act`` each penalised row's activity.

Penalised rows cost ``w_r * violation_r``; the weights adapt (raised while a
row is violated, relaxed towards their start value while it holds).

Every kernel reads the arrays it needs out of ``P`` and ``S`` into locals
once, before its loops: reading a field of the named tuple inside a loop
costs a reference-count update each time (a placement's loop of group
shifts ran 5-7x slower that way).

Example (a 3-variable QUBO, one SA slice):
    >>> import dimod
    >>> from hqopt.engine.problem import build_problem
    >>> bqm = dimod.BQM({0: 1.0, 1: -1.0, 2: 1.0}, {(0, 1): -3.0, (1, 2): 2.0}, 0, "BINARY")
    >>> p = build_problem(dimod.CQM.from_bqm(bqm))
    >>> s = new_state(p.arrays, np.zeros(3, dtype=np.int64))
    >>> calibrate(p.arrays, s, 7)
    >>> s.scal[LENGTH] = 500
    >>> anneal(p.arrays, s, 2000, 7)
    >>> s.best_x.tolist(), float(s.scal[BEST_OBJ])
    ([1, 1, 0], -3.0)
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import namedtuple

import numpy as np

# numba highlights its compile-time messages through colorama, whose init()/deinit() replace sys.stdout and
# sys.stderr process-wide from whichever thread compiles -- and these kernels compile in a background thread
# (chains.COMPILE_THREAD), so a program's own redirection of its streams was undone in mid-run. The
# highlighting is off for a numba imported from here; one imported earlier gets a no-op in its place.
os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
if hasattr(sys.modules.get("numba.core.errors"), "ColorShell"):
    vars(sys.modules["numba.core.errors"])["ColorShell"] = contextlib.nullcontext

from numba import njit  # noqa: E402 - after the setting above

#: a chain's state; scalars live in ``scal`` (floats) and ``ints`` at the indices below
State = namedtuple("State", "x h on act w w0 best_x tabu dact mark touched scal ints")

# scal indices
OBJ, PEN, VIOL, BEST_OBJ, BEST_VIOL, T0, T1, STEP, LENGTH, REHEAT, TEMP = range(11)
# ints indices
ITER, STALL, ANNEALS, HAVE_BEST, TENURE_MIN, TENURE_MAX, STALL_LIMIT, ELITE = range(8)

#: a violation below this counts as satisfied
TOL = 1e-6


def new_state(P, x0: np.ndarray) -> State:
    """A chain state at ``x0`` (which must satisfy the one-hot groups); call :func:`refresh` before use."""
    n, m = len(P.lb), len(P.rhs)
    ntabu = P.perm.shape[0] * P.perm.shape[1] if P.perm.shape[0] else n
    scal = np.zeros(11)
    scal[BEST_OBJ] = np.inf
    scal[BEST_VIOL] = np.inf
    scal[REHEAT] = 1.0
    ints = np.zeros(8, dtype=np.int64)
    state = State(
        x=np.asarray(x0, dtype=np.int64).copy(), h=np.zeros(n), on=np.zeros(len(P.gptr) - 1, dtype=np.int32),
        act=np.zeros(m), w=np.ones(m), w0=np.ones(m), best_x=np.asarray(x0, dtype=np.int64).copy(),
        tabu=np.zeros(ntabu, dtype=np.int64), dact=np.zeros(m), mark=np.zeros(m, dtype=np.int8),
        touched=np.zeros(max(m, 1), dtype=np.int32), scal=scal, ints=ints,
    )
    refresh(P, state)
    return state


def move_buffers(P) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``vs``, ``ds`` large enough for any move of :func:`propose` on ``P``."""
    size = _move_size(P)
    return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)


@njit(cache=True, nogil=True)
def _move_size(P):
    """Most variables one move changes: 4 group variables and the binaries they define."""
    most = 0
    dptr = P.dptr
    if len(P.defined):
        for k in range(len(dptr) - 1):
            most = max(most, dptr[k + 1] - dptr[k])
    return 4 + 4 * most


@njit(cache=True, nogil=True)
def with_dependents(P, vs, ds, nv):
    """Extend the move ``vs[:nv]`` by ``ds[:nv]`` (group variables) with the change of every binary
    they define, so the defining rows keep holding; returns the move's new size."""
    if len(P.defined) == 0:
        return nv
    dptr = P.dptr
    dvar = P.dvar
    m = nv
    for a in range(nv):
        k = vs[a]
        for e in range(dptr[k], dptr[k + 1]):
            y = dvar[e]
            b = nv
            while b < m and vs[b] != y:
                b += 1
            if b == m:
                vs[m] = y
                ds[m] = 0
                m += 1
            ds[b] += ds[a]
    size = nv
    for b in range(nv, m):  # a shift inside one zone leaves the zone's variable as it is
        if ds[b] != 0:
            vs[size] = vs[b]
            ds[size] = ds[b]
            size += 1
    return size


@njit(cache=True, nogil=True, inline="always")
def _shift(P, vs, ds, a, b):
    """The move that shifts a group's 1 from ``a`` to ``b`` (with what they define); its size."""
    vs[0] = a
    vs[1] = b
    ds[0] = -1
    ds[1] = 1
    return with_dependents(P, vs, ds, 2)


@njit(cache=True, nogil=True)
def define(P, x):
    """Set every defined binary of ``x`` from its group variables."""
    defined = P.defined
    dptr = P.dptr
    dvar = P.dvar
    for i in range(len(defined)):
        x[defined[i]] = 0
    for k in range(len(x)):
        if x[k] != 0:
            for e in range(dptr[k], dptr[k + 1]):
                x[dvar[e]] += x[k]


@njit(cache=True, nogil=True, inline="always")
def _viol(sense, rhs, a):
    if sense == 0:
        v = a - rhs
    elif sense == 1:
        v = rhs - a
    else:
        v = abs(a - rhs)
    return v if v > TOL else 0.0


@njit(cache=True, nogil=True, inline="always")
def _pair(dense, indptr, indices, data, a, b):
    """Q_ab (dense lookup, else binary search in a's sorted CSR row)."""
    if dense.shape[0] > 0:
        return dense[a, b]
    lo = indptr[a]
    hi = indptr[a + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        c = indices[mid]
        if c < b:
            lo = mid + 1
        elif c > b:
            hi = mid
        else:
            return data[mid]
    return 0.0


@njit(cache=True, nogil=True)
def refresh(P, S):
    """Recompute local fields, group members, row activities and the energy from ``S.x``."""
    x = S.x
    h = S.h
    lin = P.lin
    indptr = P.indptr
    indices = P.indices
    data = P.data
    diag = P.diag
    n = len(P.lb)
    obj = 0.0
    for i in range(n):
        hi = lin[i]
        for e in range(indptr[i], indptr[i + 1]):
            hi += data[e] * x[indices[e]]
        h[i] = hi
    for i in range(n):
        xi = x[i]
        obj += xi * (lin[i] + 0.5 * (h[i] - lin[i])) + diag[i] * xi * xi
    gptr = P.gptr
    gvars = P.gvars
    on = S.on
    for g in range(len(gptr) - 1):
        for e in range(gptr[g], gptr[g + 1]):
            if x[gvars[e]] == 1:
                on[g] = gvars[e]
    rptr = P.rptr
    rval = P.rval
    rcol = P.rcol
    sense = P.sense
    rhs = P.rhs
    act = S.act
    w = S.w
    pen = 0.0
    viol = 0.0
    for r in range(len(rhs)):
        a = 0.0
        for e in range(rptr[r], rptr[r + 1]):
            a += rval[e] * x[rcol[e]]
        act[r] = a
        v = _viol(sense[r], rhs[r], a)
        pen += w[r] * v
        viol += v
    S.scal[0] = obj
    S.scal[1] = pen
    S.scal[2] = viol


@njit(cache=True, nogil=True)
def move_delta(P, S, vs, ds, nv):
    """(objective delta, weighted penalty delta, violation delta) of changing ``x[vs[:nv]]`` by ``ds``."""
    dobj = 0.0
    sx = S.x
    h = S.h
    diag = P.diag
    dense = P.dense
    indptr = P.indptr
    indices = P.indices
    data = P.data
    for a in range(nv):
        k = vs[a]
        d = ds[a]
        x = sx[k]
        dobj += d * h[k] + diag[k] * ((x + d) * (x + d) - x * x)
        for b in range(a):
            dobj += _pair(dense, indptr, indices, data, vs[b], k) * d * ds[b]
    rhs = P.rhs
    if len(rhs) == 0:
        return dobj, 0.0, 0.0
    vptr = P.vptr
    vrow = P.vrow
    vval = P.vval
    mark = S.mark
    touched = S.touched
    dact = S.dact
    nt = 0
    for a in range(nv):
        k = vs[a]
        for e in range(vptr[k], vptr[k + 1]):
            r = vrow[e]
            if mark[r] == 0:
                mark[r] = 1
                touched[nt] = r
                nt += 1
            dact[r] += vval[e] * ds[a]
    dpen = 0.0
    dviol = 0.0
    sense = P.sense
    act = S.act
    w = S.w
    for t in range(nt):
        r = touched[t]
        dv = _viol(sense[r], rhs[r], act[r] + dact[r]) - _viol(sense[r], rhs[r], act[r])
        dpen += w[r] * dv
        dviol += dv
        dact[r] = 0.0
        mark[r] = 0
    return dobj, dpen, dviol


@njit(cache=True, nogil=True)
def apply_move(P, S, vs, ds, nv, dobj, dpen, dviol):
    """Make a move whose deltas :func:`move_delta` returned."""
    x = S.x
    h = S.h
    indptr = P.indptr
    indices = P.indices
    data = P.data
    vptr = P.vptr
    vrow = P.vrow
    vval = P.vval
    act = S.act
    var_group = P.var_group
    on = S.on
    for a in range(nv):
        k = vs[a]
        d = ds[a]
        x[k] += d
        for e in range(indptr[k], indptr[k + 1]):
            h[indices[e]] += data[e] * d
        for e in range(vptr[k], vptr[k + 1]):
            act[vrow[e]] += vval[e] * d
        g = var_group[k]
        if g >= 0 and d > 0:
            on[g] = k
    scal = S.scal
    scal[0] += dobj
    scal[1] += dpen
    scal[2] += dviol


@njit(cache=True, nogil=True)
def keep_best(P, S):
    """Save ``x`` when it is the chain's best (feasible first, then lower objective / violation)."""
    scal = S.scal
    obj = scal[0]
    viol = scal[2]
    if viol <= TOL:
        if scal[4] > TOL or obj < scal[3] - 1e-9:
            scal[3] = obj
            scal[4] = 0.0
            S.best_x[:] = S.x
            S.ints[3] = 1
            return True
    elif scal[4] > TOL and (viol < scal[4] - TOL or (viol <= scal[4] + TOL and obj < scal[3])):
        scal[3] = obj
        scal[4] = viol
        S.best_x[:] = S.x
        S.ints[3] = 1
        return True
    return False


@njit(cache=True, nogil=True)
def propose(P, S, vs, ds):
    """A random structure-keeping move into ``vs``/``ds``; returns its size (0: none possible)."""
    nfree = len(P.free)
    ngroups = len(P.gptr) - 1
    if nfree + ngroups == 0:
        return 0
    pick = np.random.randint(nfree + ngroups)
    if pick >= nfree and P.perm.shape[0] > 0:
        if ngroups < 2:
            return 0
        g1 = pick - nfree
        g2 = np.random.randint(ngroups - 1)
        if g2 >= g1:
            g2 += 1
        a = S.on[g1]
        b = S.on[g2]
        vs[0] = a
        vs[1] = b
        vs[2] = P.perm[g1, P.var_col[b]]
        vs[3] = P.perm[g2, P.var_col[a]]
        ds[0] = -1
        ds[1] = -1
        ds[2] = 1
        ds[3] = 1
        return with_dependents(P, vs, ds, 4)
    if pick < nfree:
        k = P.free[pick]
        x = S.x[k]
        vs[0] = k
        if P.ub[k] - P.lb[k] == 1:
            ds[0] = 1 - 2 * (x - P.lb[k])
        elif P.ub[k] == P.lb[k]:
            return 0
        elif np.random.random() < 0.8:
            d = 1 if np.random.random() < 0.5 else -1
            if x + d > P.ub[k] or x + d < P.lb[k]:
                d = -d
            ds[0] = d
        else:
            y = np.random.randint(P.lb[k], P.ub[k])
            if y >= x:
                y += 1
            ds[0] = y - x
        return 1
    g = pick - nfree
    gptr = P.gptr
    gvars = P.gvars
    size = gptr[g + 1] - gptr[g]
    if size < 2:
        return 0
    a = S.on[g]
    b = gvars[gptr[g] + np.random.randint(size)]
    while b == a:
        b = gvars[gptr[g] + np.random.randint(size)]
    return _shift(P, vs, ds, a, b)


@njit(cache=True, nogil=True)
def randomize(P, S):
    """A random state that keeps the groups (and a permutation) exact; integers keep their value."""
    x = S.x
    free = P.free
    lb = P.lb
    ub = P.ub
    for i in range(len(free)):
        k = free[i]
        if ub[k] - lb[k] == 1:
            x[k] = lb[k] + np.random.randint(2)
    gptr = P.gptr
    gvars = P.gvars
    perm = P.perm
    ngroups = len(gptr) - 1
    if perm.shape[0] > 0:
        cols = np.random.permutation(perm.shape[1])
        for g in range(ngroups):
            for e in range(gptr[g], gptr[g + 1]):
                x[gvars[e]] = 0
            x[perm[g, cols[g]]] = 1
    else:
        for g in range(ngroups):
            for e in range(gptr[g], gptr[g + 1]):
                x[gvars[e]] = 0
            x[gvars[gptr[g] + np.random.randint(gptr[g + 1] - gptr[g])]] = 1
    define(P, x)
    refresh(P, S)


@njit(cache=True, nogil=True)
def seed_and_randomize(P, S, seed):
    """:func:`randomize` after seeding the compiled generator."""
    np.random.seed(seed)
    randomize(P, S)


@njit(cache=True, nogil=True)
def calibrate(P, S, seed):
    """Temperatures from sampled move deltas; penalty weights on the same scale.

    ``T0`` accepts a mean uphill move with probability 1/2, ``T1`` the
    smallest uphill one with probability 1/1000.
    """
    np.random.seed(seed)
    vs = np.zeros(_move_size(P), dtype=np.int64)
    ds = np.zeros(_move_size(P), dtype=np.int64)
    total = 0.0
    count = 0
    smallest = np.inf
    for _ in range(2000):
        nv = propose(P, S, vs, ds)
        if nv == 0:
            continue
        dobj, _, _ = move_delta(P, S, vs, ds, nv)
        if abs(dobj) > 1e-9:
            total += abs(dobj)
            count += 1
            smallest = min(smallest, abs(dobj))
    mean = total / count if count else 1.0
    if not count:
        smallest = 1.0
    S.scal[5] = mean / np.log(2.0)
    S.scal[6] = max(smallest / np.log(1000.0), S.scal[5] * 1e-4)
    rptr = P.rptr
    rval = P.rval
    w = S.w
    w0 = S.w0
    for r in range(len(P.rhs)):
        size = 0.0
        for e in range(rptr[r], rptr[r + 1]):
            size += abs(rval[e])
        coef = size / max(1, rptr[r + 1] - rptr[r])
        w0[r] = mean / max(coef, 1e-12)
        w[r] = w0[r]
    refresh(P, S)


@njit(cache=True, nogil=True)
def adapt_weights(P, S):
    """Raise the weights of violated rows; relax every weight towards its start value only while
    the state is feasible. (Relaxing each held row on its own balances at each row broken ~20 %
    of the time: with a hundred contested rows -- placement's anti-affinity -- never all at once.)"""
    pen = 0.0
    feasible = S.scal[2] <= TOL
    sense = P.sense
    rhs = P.rhs
    act = S.act
    w = S.w
    w0 = S.w0
    for r in range(len(rhs)):
        v = _viol(sense[r], rhs[r], act[r])
        if v > 0.0:
            w[r] *= 1.5
        elif feasible:
            w[r] = max(w0[r], 0.9 * w[r])
        pen += w[r] * v
    S.scal[1] = pen


@njit(cache=True, nogil=True)
def _restart(P, S):
    """Start the next anneal: from a random state, or (every other one, or always in an ``ELITE``
    chain: one started from a given good answer) from the best so far, reheated less."""
    S.ints[2] += 1
    S.scal[7] = 0.0
    if S.ints[3] and (S.ints[7] or S.ints[2] % 2 == 1):
        S.x[:] = S.best_x
        refresh(P, S)
        S.scal[10] = S.scal[5] * S.scal[9]
    else:
        randomize(P, S)
        S.scal[10] = S.scal[5]


@njit(cache=True, nogil=True)
def anneal(P, S, n_moves, seed):
    """``n_moves`` steps of simulated annealing with restarts (resumable: the schedule lives in ``S``).

    Each anneal runs ``S.scal[LENGTH]`` steps from ``T0`` (or ``REHEAT * T0``
    when it starts from the best state) down to ``T1``, geometrically.
    """
    np.random.seed(seed)
    refresh(P, S)
    vs = np.zeros(_move_size(P), dtype=np.int64)
    ds = np.zeros(_move_size(P), dtype=np.int64)
    n = len(P.lb)
    adapt_every = max(1000, n)
    has_rows = len(P.rhs) > 0
    length = max(S.scal[8], 1.0)
    if S.scal[10] <= 0.0:
        S.scal[10] = S.scal[5]
    if S.scal[7] >= length:
        _restart(P, S)
    temp = S.scal[10] * (S.scal[6] / S.scal[10]) ** (S.scal[7] / length) if S.scal[10] > S.scal[6] else S.scal[6]
    alpha = (S.scal[6] / S.scal[10]) ** (1.0 / length) if S.scal[10] > S.scal[6] else 1.0
    keep_best(P, S)
    if not has_rows and len(P.gptr) == 1 and np.all(P.ub - P.lb == 1):
        _anneal_flips(P, S, n_moves, temp, alpha, length)
        return
    scal = S.scal
    ints = S.ints
    for _ in range(n_moves):
        if scal[7] >= length:
            _restart(P, S)
            temp = scal[10]
            alpha = (scal[6] / temp) ** (1.0 / length) if temp > scal[6] else 1.0
        scal[7] += 1.0
        temp *= alpha
        nv = propose(P, S, vs, ds)
        if nv == 0:
            continue
        dobj, dpen, dviol = move_delta(P, S, vs, ds, nv)
        de = dobj + dpen
        if de <= 0.0 or np.random.random() < np.exp(-de / temp):
            apply_move(P, S, vs, ds, nv, dobj, dpen, dviol)
            if scal[0] < scal[3] or scal[2] < scal[4]:
                keep_best(P, S)
        ints[0] += 1  # counts across slices: a slice may be shorter than adapt_every
        if has_rows and ints[0] % adapt_every == 0:
            adapt_weights(P, S)


@njit(cache=True, nogil=True)
def _anneal_flips(P, S, n_moves, temp, alpha, length):
    """:func:`anneal` for free binaries only (QUBO, Max-Cut): sequential sweeps, arrays held in locals.

    The best state is saved in the last fifth of each anneal and at its end.
    """
    x = S.x
    h = S.h
    indptr = P.indptr
    indices = P.indices
    data = P.data
    lb = P.lb
    scal = S.scal
    n = len(x)
    obj = scal[0]
    step = scal[7]
    late = 0.8 * length
    k = int(step) % n
    rng = np.uint64(np.random.randint(1, 2**62))  # xorshift64* state: cheaper than the Mersenne twister
    for _ in range(n_moves):
        if step >= length:
            scal[0] = obj
            keep_best(P, S)
            _restart(P, S)
            obj = scal[0]
            step = 0.0
            temp = scal[10]
            alpha = (scal[6] / temp) ** (1.0 / length) if temp > scal[6] else 1.0
        step += 1.0
        temp *= alpha
        d = 1 - 2 * (x[k] - lb[k])
        de = d * h[k]
        accept = de <= 0.0
        if not accept and de < 30.0 * temp:  # exp(-30) ~ 1e-13: never accepted, skip the draw
            rng ^= rng >> np.uint64(12)
            rng ^= rng << np.uint64(25)
            rng ^= rng >> np.uint64(27)
            u = float((rng * np.uint64(2685821657736338717)) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            accept = u < np.exp(-de / temp)
        if accept:
            x[k] += d
            for e in range(indptr[k], indptr[k + 1]):
                h[indices[e]] += data[e] * d
            obj += de
            if step > late and obj < scal[3] - 1e-9:
                scal[0] = obj
                keep_best(P, S)
        k += 1
        if k == n:
            k = 0
    scal[0] = obj
    scal[7] = step
    keep_best(P, S)


@njit(cache=True, nogil=True)
def _better(dviol, dobj, best_viol, best_obj):
    """Lexicographic (violation, objective) comparison of two move deltas."""
    return dviol < best_viol - TOL or (dviol <= best_viol + TOL and dobj < best_obj - 1e-9)


@njit(cache=True, nogil=True)
def greedy(P, S, seed, max_sweeps):
    """Repair + descent: per free binary / group, the best flip / shift by (violation, objective), while any helps.

    A permutation's groups are left alone (a shift would break its columns).
    """
    np.random.seed(seed)
    refresh(P, S)
    vs = np.zeros(_move_size(P), dtype=np.int64)
    ds = np.zeros(_move_size(P), dtype=np.int64)
    ngroups = len(P.gptr) - 1 if P.perm.shape[0] == 0 else 0
    free = P.free
    lb = P.lb
    ub = P.ub
    gptr = P.gptr
    gvars = P.gvars
    x = S.x
    on = S.on
    nfree = len(free)
    for _ in range(max_sweeps):
        improved = False
        for pick in np.random.permutation(nfree + ngroups):
            if pick < nfree:
                k = free[pick]
                if ub[k] - lb[k] != 1:
                    continue
                vs[0] = k
                ds[0] = 1 - 2 * (x[k] - lb[k])
                dobj, dpen, dviol = move_delta(P, S, vs, ds, 1)
                if _better(dviol, dobj, 0.0, 0.0):
                    apply_move(P, S, vs, ds, 1, dobj, dpen, dviol)
                    improved = True
                continue
            g = pick - nfree
            a = on[g]
            best_b = -1
            best_viol = 0.0
            best_obj = 0.0
            for e in range(gptr[g], gptr[g + 1]):
                b = gvars[e]
                if b == a:
                    continue
                nv = _shift(P, vs, ds, a, b)
                dobj, _, dviol = move_delta(P, S, vs, ds, nv)
                if _better(dviol, dobj, best_viol, best_obj):
                    best_b = b
                    best_viol = dviol
                    best_obj = dobj
            if best_b >= 0:
                nv = _shift(P, vs, ds, a, best_b)
                dobj, dpen, dviol = move_delta(P, S, vs, ds, nv)
                apply_move(P, S, vs, ds, nv, dobj, dpen, dviol)
                improved = True
        if not improved:
            break
    refresh(P, S)
    keep_best(P, S)


@njit(cache=True, nogil=True)
def tabu_flips(P, S, n_iters, seed):
    """1-flip tabu search with aspiration on free binaries (QUBO / Max-Cut), perturbing the best on stalls.

    Tenure: ``TENURE_MIN`` plus a random 0..``TENURE_MAX``; after
    ``STALL_LIMIT`` moves without a new best the chain restarts from its best
    with a tenth of the variables flipped at random.
    """
    np.random.seed(seed)
    refresh(P, S)
    keep_best(P, S)
    n = len(P.lb)
    vs = np.zeros(1, dtype=np.int64)
    ds = np.zeros(1, dtype=np.int64)
    x = S.x
    h = S.h
    tabu = S.tabu
    scal = S.scal
    ints = S.ints
    for _ in range(n_iters):
        it = ints[0]
        ints[0] += 1
        best_k = -1
        best_d = np.inf
        ties = 0
        obj = scal[0]
        target = scal[3] - 1e-9
        for k in range(n):
            d = (1 - 2 * x[k]) * h[k]
            if tabu[k] > it and obj + d >= target:
                continue
            if d < best_d - 1e-12:
                best_d = d
                best_k = k
                ties = 1
            elif d <= best_d + 1e-12:
                ties += 1
                if np.random.randint(ties) == 0:
                    best_k = k
        if best_k < 0:
            continue
        vs[0] = best_k
        ds[0] = 1 - 2 * x[best_k]
        apply_move(P, S, vs, ds, 1, best_d, 0.0, 0.0)
        tabu[best_k] = it + ints[4] + np.random.randint(ints[5] + 1)
        if keep_best(P, S):
            ints[1] = 0
        else:
            ints[1] += 1
        if ints[1] > ints[6]:
            ints[1] = 0
            ints[2] += 1
            x[:] = S.best_x
            for _ in range(max(1, n // 10)):
                k = np.random.randint(n)
                x[k] = 1 - x[k]
            refresh(P, S)
            tabu[:] = 0


@njit(cache=True, nogil=True, inline="always")
def swap_delta(h, dense, indptr, indices, data, a, b, c, d):
    """Objective delta of a permutation swap: a, b off; c, d on (binaries); ``h`` the local fields."""
    return (
        h[c] + h[d] - h[a] - h[b]
        + _pair(dense, indptr, indices, data, a, b) + _pair(dense, indptr, indices, data, c, d)
        - _pair(dense, indptr, indices, data, a, c) - _pair(dense, indptr, indices, data, a, d)
        - _pair(dense, indptr, indices, data, b, c) - _pair(dense, indptr, indices, data, b, d)
    )


@njit(cache=True, nogil=True)
def robust_tabu(P, S, n_iters, seed):
    """Taillard's robust tabu search on a permutation (all 2-exchanges scanned each iteration).

    A swap is tabu when both rows would return to a column they left less
    than a random tenure in ``[TENURE_MIN, TENURE_MAX]`` ago; aspiration by a
    new best, and a swap not made for ``STALL_LIMIT`` iterations is forced.
    """
    np.random.seed(seed)
    refresh(P, S)
    keep_best(P, S)
    ngroups = P.perm.shape[0]
    ncols = P.perm.shape[1]
    vs = np.zeros(4, dtype=np.int64)
    ds = np.array([-1, -1, 1, 1], dtype=np.int64)
    aspiration = S.ints[6]
    h = S.h
    on = S.on
    tabu = S.tabu
    perm = P.perm
    var_col = P.var_col
    dense = P.dense
    indptr = P.indptr
    indices = P.indices
    data = P.data
    scal = S.scal
    ints = S.ints
    for _ in range(n_iters):
        it = ints[0]
        ints[0] += 1
        best = np.inf
        bi = -1
        bj = -1
        forced = False
        obj = scal[0]
        for i in range(ngroups - 1):
            a = on[i]
            ci = var_col[a]
            for j in range(i + 1, ngroups):
                b = on[j]
                cj = var_col[b]
                c = perm[i, cj]
                d = perm[j, ci]
                if dense.shape[0] > 0:
                    delta = (h[c] + h[d] - h[a] - h[b] + dense[a, b] + dense[c, d]
                             - dense[a, c] - dense[a, d] - dense[b, c] - dense[b, d])
                else:
                    delta = swap_delta(h, dense, indptr, indices, data, a, b, c, d)
                ti = tabu[i * ncols + cj]
                tj = tabu[j * ncols + ci]
                autorized = ti < it or tj < it
                aspired = (ti < it - aspiration and tj < it - aspiration) or obj + delta < scal[3] - 1e-9
                if (aspired and not forced) or (aspired and forced and delta < best) or (
                    not forced and autorized and delta < best
                ):
                    bi = i
                    bj = j
                    best = delta
                    if aspired:
                        forced = True
        if bi < 0:
            continue
        a = on[bi]
        b = on[bj]
        ci = var_col[a]
        cj = var_col[b]
        vs[0] = a
        vs[1] = b
        vs[2] = perm[bi, cj]
        vs[3] = perm[bj, ci]
        apply_move(P, S, vs, ds, 4, best, 0.0, 0.0)
        span = ints[5] - ints[4]
        tabu[bi * ncols + ci] = it + ints[4] + (np.random.randint(span + 1) if span > 0 else 0)
        tabu[bj * ncols + cj] = it + ints[4] + (np.random.randint(span + 1) if span > 0 else 0)
        keep_best(P, S)
