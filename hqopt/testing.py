"""Conformance suites for plugin authors, as dimod, Optuna and scikit-learn ship them.

Call them from your own tests; each raises :class:`AssertionError` naming the
contract that broke:

* :func:`check_backend` -- a :class:`~hqopt.backends.base.Backend`: dimod's
  sampler API and energies (``dimod.testing``), spin/binary/DictBQM, odd labels,
  unknown ``sample()`` keywords warn, the model solved is left unchanged,
  untimed seeded runs replay, the time
  limit holds (overrun at most max(0.5 s, 10 %)) or the run is refused at once,
  a stop request is honoured promptly;
* :func:`check_format` -- a file format (:class:`~hqopt.io.base.FileFormat`):
  round trip, sniffing/detection, instance numbers, malformed input is a
  one-line :class:`~hqopt.errors.FormatError`;
* :func:`check_formulation` -- a domain formulation: the Model and the
  formulation's independent checker agree on feasibility and objective, on
  random assignments and on solved ones.

A plugin backend's test is one line, ``check_backend(MyBackend())``; docs/plugins.md
has a complete example, and tests/test_conformance.py runs every built-in.

Example:
    >>> check_format("coo")  # round trip, sniffing, instance numbers, malformed files
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
import unittest
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import dimod
import numpy as np

import hqopt
from hqopt.backends.base import Backend
from hqopt.backends.registry import get_backend
from hqopt.errors import FormatError, HqoptError, ModelError, SpecError
from hqopt.io import detect_format, get_format
from hqopt.io.base import FileFormat, ReadOptions
from hqopt.model import Model

__all__ = ["allowed_overrun", "check_backend", "check_format", "check_formulation"]


def allowed_overrun(time_limit: float) -> float:
    """The overrun the time-limit contract allows: max(0.5 s, 10 %).

    >>> allowed_overrun(1.0), allowed_overrun(20.0)
    (0.5, 2.0)
    """
    return max(0.5, 0.1 * time_limit)


# --------------------------------------------------------------------- backends
def check_backend(
    backend: str | Backend,
    *,
    time_limit: float = 0.5,
    size: int = 300,
    max_variables: int = 3,
    replay: bool = True,
    **options: Any,
) -> None:
    """Run the backend contract on ``backend`` (a name plus ``options``, or an instance).

    Args:
        time_limit: the limit used for the time-limit and stop checks.
        size: variables of the random sparse QUBO those checks solve.
        max_variables: largest problem of dimod's sampler tests (they expect
            the optimum on 3 variables; leave it at 3 unless yours is exact).
        replay: check that untimed seeded runs repeat exactly.
    """
    make = (lambda: backend) if isinstance(backend, Backend) else (lambda: get_backend(backend, **options))
    engine = make()
    dimod.testing.assert_sampler_api(engine)
    _check_dimod_sampler_tests(make, max_variables)
    _check_bqm_kinds_and_labels(engine)
    _check_unknown_kwargs_warn(engine)
    _check_model_unchanged(make)
    if replay:
        _check_replay(make)
    problem = _sparse_qubo(size, seed=7)
    _check_time_limit(make(), problem, time_limit)
    _check_stop(make(), problem, time_limit)


def _check_dimod_sampler_tests(make: Callable[[], Backend], max_variables: int) -> None:
    """dimod's own sampler tests (empty, 1..3 variables, spin/binary, every BQM class)."""

    def sampler() -> Backend:
        return make()

    case = unittest.TestCase()
    for test in dimod.testing.sampler.create_bqm_tests(sampler, max_num_variables=max_variables):
        try:
            test(case)
        except AssertionError as exc:
            raise AssertionError(f"dimod sampler test {test.__name__} failed: {exc}") from exc


def _check_bqm_kinds_and_labels(engine: Backend) -> None:
    labels = ["a", ("t", 1), 7, frozenset({"f"})]
    rng = np.random.default_rng(3)
    linear = {v: float(rng.integers(-5, 6)) for v in labels}
    quadratic = {(labels[i], labels[j]): float(rng.integers(-5, 6)) for i in range(4) for j in range(i + 1, 4)}
    ground = {}
    for vartype in ("SPIN", "BINARY"):
        bqm = dimod.BQM(linear, quadratic, 1.5, vartype)
        ground[vartype] = dimod.ExactSolver().sample(bqm).first.energy
        for kind in (dimod.BQM, dimod.DictBQM):
            model = kind(bqm.linear, bqm.quadratic, bqm.offset, vartype)
            samples = engine.sample(model, seed=1)
            assert samples.vartype is model.vartype, f"{engine.name}: {kind.__name__} {vartype} came back as {samples.vartype.name}"
            assert set(samples.variables) == set(labels), f"{engine.name}: labels changed: {list(samples.variables)}"
            dimod.testing.assert_sampleset_energies(samples, model)


def _check_unknown_kwargs_warn(engine: Backend) -> None:
    bqm = dimod.BQM({"a": -1.0}, {}, 0.0, "BINARY")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = engine.sample(bqm, seed=1, num_reads=3, no_such_parameter=True)
    names = " ".join(str(w.message) for w in caught if issubclass(w.category, dimod.exceptions.SamplerUnknownArgWarning))
    assert "num_reads" in names and "no_such_parameter" in names, (
        f"{engine.name}: unknown sample() keywords must warn with SamplerUnknownArgWarning and be dropped"
    )
    dimod.testing.assert_sampleset_energies(samples, bqm)


def _check_replay(make: Callable[[], Backend]) -> None:
    model = Model.from_bqm(dimod.generators.gnp_random_bqm(10, 0.5, "BINARY", random_state=11))
    first = hqopt.solve(model, backend=make(), seed=5)
    second = hqopt.solve(model, backend=make(), seed=5)
    assert (first.solution, first.objective) == (second.solution, second.objective), (
        f"{first.backend}: an untimed run with seed=5 did not repeat: {first.objective} then {second.objective}"
    )


def _check_model_unchanged(make: Callable[[], Backend]) -> None:
    """A solve leaves the user's model as it was (a CQM backend may be handed the model's own CQM)."""
    model = _candidate_models()[-1]  # constrained, with an integer
    before = model.cqm.to_file().read()
    try:
        hqopt.solve(model, backend=make(), seed=3)
    except HqoptError:
        return  # refused (e.g. needs an account or a smaller model): nothing ran
    changed = not model.cqm.is_equal(dimod.CQM.from_file(before))
    assert not changed, f"{make().name}: solving changed the model it was given"


def _sparse_qubo(n: int, seed: int) -> Model:
    rng = np.random.default_rng(seed)
    edges = {tuple(sorted(map(int, rng.choice(n, 2, replace=False)))) for _ in range(3 * n)}
    bqm = dimod.BQM(
        {i: float(rng.integers(-50, 51)) for i in range(n)}, {e: float(rng.integers(-50, 51)) for e in edges}, 0.0, "BINARY"
    )
    return Model.from_bqm(bqm, name=f"sparse{n}")


def _check_time_limit(engine: Backend, model: Model, time_limit: float) -> None:
    bound = time_limit + allowed_overrun(time_limit)
    t0 = time.perf_counter()
    try:
        result = hqopt.solve(model, backend=engine, time_limit=time_limit, seed=1)
    except HqoptError:  # a refusal is allowed if it is prompt
        elapsed = time.perf_counter() - t0
        assert elapsed <= bound, f"{engine.name}: refused after {elapsed:.2f} s; a refusal must come within the limit"
        return
    elapsed = time.perf_counter() - t0
    assert elapsed <= bound, f"{engine.name}: time_limit={time_limit} s took {elapsed:.2f} s (allowed {bound:.2f} s)"
    # an answer, or no answer with the reason the backend could not start searching in time (NotSearchedWarning)
    assert result.solution is not None or result.info.get("compile"), f"{engine.name}: no answer within time_limit={time_limit} s, and no reason given"


def _check_stop(engine: Backend, model: Model, after: float) -> None:
    stop = threading.Event()
    timer = threading.Timer(after, stop.set)
    t0 = time.perf_counter()
    timer.start()
    try:
        hqopt.solve(model, backend=engine, time_limit=60, seed=1, stop=stop)
    except HqoptError:
        pass  # refused (e.g. too large for it): nothing ran that had to stop
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - t0
    bound = after + allowed_overrun(after) + 0.5
    assert elapsed <= bound, f"{engine.name}: a stop requested at {after:g} s was honoured only after {elapsed:.2f} s"


# ---------------------------------------------------------------------- formats
def _candidate_models() -> list[Model]:
    """Small models of the shapes formats hold: QUBO (min, max), constrained with integers."""
    qubo: dict[tuple[Hashable, Hashable], float] = {(1, 1): -3.0, (2, 2): 2.0, (3, 3): -1.0, (4, 4): 4.0, (1, 2): 5.0, (2, 3): -2.0, (1, 4): 3.0, (3, 4): -6.0}
    models = [Model.from_qubo(qubo, name="qubo"), Model.from_qubo(qubo, name="qubo-max", sense="max")]
    m = Model(name="constrained", sense="min")
    x = [m.binary(f"x{i}") for i in range(3)]
    n = m.integer("n", 0, 4)
    m.set_objective(2 * x[0] - 3 * x[1] + x[2] + 2 * n)
    m.add_constraint(x[0] + x[1] + x[2] == 1, label="one")
    m.add_constraint(x[1] + n >= 2, label="cover")
    m.add_constraint(3 * x[2] + n <= 5, label="cap")
    models.append(m)
    return models


def _random_assignments(model: Model, count: int, seed: int) -> list[dict[Any, float]]:
    rng = np.random.default_rng(seed)
    cqm = model.cqm
    out = []
    for _ in range(count):
        sample = {}
        for v in cqm.variables:
            vartype = cqm.vartype(v)
            if vartype is dimod.SPIN:
                sample[v] = float(rng.choice([-1, 1]))
            elif vartype is dimod.BINARY:
                sample[v] = float(rng.integers(0, 2))
            else:
                lo, hi = cqm.lower_bound(v), cqm.upper_bound(v)
                sample[v] = float(rng.integers(int(lo), int(min(hi, lo + 1000)) + 1))
        out.append(sample)
    return out


def _same_model(original: Model, read: Model, what: str) -> None:
    assert read.num_variables == original.num_variables, f"{what}: {read.num_variables} variables, wrote {original.num_variables}"
    assert read.num_constraints == original.num_constraints, f"{what}: {read.num_constraints} constraints, wrote {original.num_constraints}"
    mapping = dict(zip(sorted(original.variables, key=str), sorted(read.variables, key=str)))
    if set(read.variables) == set(original.variables):
        mapping = {v: v for v in original.variables}
    for sample in _random_assignments(original, 20, seed=1):
        a = original.evaluate(sample)
        b = read.evaluate({mapping[v]: x for v, x in sample.items()})
        # a format without a sense may store the minimisation form: compare in that form
        a_min, b_min = original.sense.sign * a.objective, read.sense.sign * b.objective
        assert math.isclose(a_min, b_min, rel_tol=1e-9, abs_tol=1e-9), (
            f"{what}: objective {b.objective} ({read.sense.value}) != {a.objective} ({original.sense.value})"
        )
        assert a.feasible == b.feasible, f"{what}: feasibility differs on {sample}"


def _mutations(text: str, seed: int) -> Iterable[str]:
    """Malformed variants of a valid file: truncations, bad tokens, dropped and doubled lines, junk."""
    rng = np.random.default_rng(seed)
    yield ""
    yield "\x00\xff garbage \x01\n"
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        yield text[: int(len(text) * fraction)]
    lines = text.splitlines(keepends=True)
    for _ in range(6):
        k = int(rng.integers(len(lines)))
        yield "".join(lines[:k] + lines[k + 1 :])
        yield "".join(lines[: k + 1] + lines[k:])
        tokens = lines[k].split()
        if tokens:
            tokens[int(rng.integers(len(tokens)))] = "x?y"
            yield "".join(lines[:k] + [" ".join(tokens) + "\n"] + lines[k + 1 :])


def check_format(fmt: str | FileFormat, examples: Iterable[str | Path] = ()) -> None:
    """Run the file-format contract on ``fmt`` (a name or a FileFormat).

    Writable formats round-trip at least one of a few small models (a QUBO,
    a maximisation, a constrained model with an integer) -- the same problem
    comes back, possibly relabelled in order or in minimisation form when the
    format has no sense; ``examples`` (files
    in this format) are read, sniffed and detected, and mutated into malformed
    inputs, which must give a one-line FormatError (or a Model), nothing else.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    texts: list[tuple[Path, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        if fmt.write is not None:
            written = 0
            for model in _candidate_models():
                path = Path(folder) / f"{model.name}{fmt.extensions[0]}"
                try:
                    fmt.write(model, path)
                except (FormatError, ModelError):
                    continue  # this format cannot hold that kind of model
                read = hqopt.io.load(path, format=fmt.name)
                _same_model(model, read, f"{fmt.name} round trip of {model.name}")
                texts.append((path, path.read_bytes().decode("latin-1")))
                written += 1
            assert written, f"{fmt.name}: writable, but none of the small test models could be written"
        for example in examples:
            file, _ = hqopt.io.split_instance(example)
            hqopt.io.load(example, format=fmt.name)
            texts.append((file, file.read_bytes().decode("latin-1")))
        assert texts, f"{fmt.name}: read-only format: pass example files"
        for path, text in texts:
            _check_detection(fmt, path, text)
            _check_instances(fmt, path, text)
            for k, bad in enumerate(_mutations(text, seed=len(text))):
                _check_malformed(fmt, path.with_name(f"bad{k}{path.suffix}"), bad)


def _check_detection(fmt: FileFormat, path: Path, text: str) -> None:
    if fmt.sniff is not None and not text.startswith("DIMOD"):
        assert fmt.sniff(text[:8192]), f"{fmt.name}: its sniffer does not recognise {path.name}"
    detected = detect_format(path, text)
    assert detected.name == fmt.name, f"{path.name} was detected as {detected.name}, not {fmt.name}"


def _check_instances(fmt: FileFormat, path: Path, text: str) -> None:
    plain = fmt.read(text, str(path), ReadOptions())
    first = fmt.read(text, str(path), ReadOptions(instance=1))
    assert first.num_variables == plain.num_variables, f"{fmt.name}: instance 1 is not the default problem of {path.name}"
    try:
        fmt.read(text, str(path), ReadOptions(instance=10**6))
    except FormatError as exc:
        assert "\n" not in str(exc), f"{fmt.name}: multi-line error for a missing instance"
    else:
        raise AssertionError(f"{fmt.name}: instance 1000000 of {path.name} was read instead of refused")


def _check_malformed(fmt: FileFormat, path: Path, text: str) -> None:
    try:
        fmt.read(text, str(path), ReadOptions())
    except (FormatError, SpecError) as exc:  # SpecError: a spec file's bad field (names the file too)
        message = str(exc)
        assert "\n" not in message and len(message) <= 500, f"{fmt.name}: error is not one short line: {message[:200]!r}"
        assert path.name in message, f"{fmt.name}: error does not name the file: {message!r}"
    except Exception as exc:  # noqa: BLE001 - exactly what the contract forbids
        raise AssertionError(f"{fmt.name}: malformed input raised {type(exc).__name__}: {exc} (text {text[:80]!r})") from exc


# ----------------------------------------------------------------- formulations
Verdict = Callable[[Any, Mapping[str, Any]], tuple[bool, float]]


def _default_verdict(instance: Any, decoded: Mapping[str, Any]) -> tuple[bool, float]:
    """(feasible, objective) from a decoded answer: ``feasible`` and the first of objective/cost/value/cut."""
    for key in ("objective", "cost", "value", "cut"):
        if key in decoded:
            return bool(decoded.get("feasible", True)), float(decoded[key])
    raise AssertionError(f"decoded answer has none of objective/cost/value/cut: {sorted(decoded)}")


def check_formulation(
    cls: Any,
    spec: Mapping[str, Any],
    *,
    samples: int = 40,
    seed: int = 0,
    time_limit: float = 2.0,
    verdict: Verdict = _default_verdict,
) -> None:
    """Run the formulation contract on ``cls`` with an example ``spec`` (``kind`` removed).

    The Model (``to_model``) and the formulation's independent checker (via
    ``decode``; ``verdict`` turns its answer into ``(feasible, objective)``)
    must agree on random assignments and on the answers a solver finds; an
    unknown spec field is a SpecError.
    """
    instance = cls.from_spec(spec)
    model = instance.to_model()
    try:
        cls.from_spec({**spec, "no_such_field": 1})
    except SpecError as exc:
        assert "no_such_field" in str(exc), f"{cls.__name__}: the SpecError does not name the unknown field: {exc}"
    else:
        raise AssertionError(f"{cls.__name__}: an unknown spec field was accepted")
    result = hqopt.solve(model, backend="cpsat", time_limit=time_limit, seed=seed)
    candidates = _random_assignments(model, samples, seed)
    if result.solution is not None:
        candidates.append(dict(result.solution))
    if result.sampleset is not None:
        candidates += [dict(d.sample) for d in result.sampleset.data(["sample"])][:20]
    agreed_feasible = 0
    for sample in candidates:
        evaluation = model.evaluate(sample)
        try:
            feasible, objective = verdict(instance, instance.decode(sample))
        except (ModelError, SpecError):  # the checker refuses to read it as an answer: infeasible
            feasible, objective = False, math.nan
        assert feasible == evaluation.feasible, (
            f"{cls.__name__}: the model says feasible={evaluation.feasible} "
            f"(violations {evaluation.violations}), its checker says {feasible}"
        )
        if feasible:
            agreed_feasible += 1
            assert math.isclose(objective, evaluation.objective, rel_tol=1e-9, abs_tol=1e-6), (
                f"{cls.__name__}: the model's objective {evaluation.objective} != the checker's {objective}"
            )
    assert agreed_feasible or result.status is hqopt.Status.INFEASIBLE, f"{cls.__name__}: no feasible answer to compare"
