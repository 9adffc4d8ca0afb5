"""From recorded runs to metrics, tables and files: runs.csv/json, summary.csv, report.md/html.

:func:`analyse` derives, for every run, the instance's target, the gap and the
time-to-target (from the verified improvement history); and for every
(instance, solver): success probability, median and IQR time-to-target,
TTS(99 %), mean gap, each with a seeded bootstrap 95 % confidence interval,
plus the best objective and mean CPU seconds, energy and peak memory.
:class:`BenchReport` holds both tables and writes the files.

Example:
    >>> runs = [{"instance": "a", "solver": "sa", "seed": s, "sense": "min", "objective": o,
    ...          "feasible": True, "history": [[0.5, o]], "wall_seconds": 1.0, "time_limit": 1.0}
    ...         for s, o in enumerate([3.0, 4.0])]
    >>> report = analyse(runs, {"a": (3.0, "given")})
    >>> row = report.summary[0]
    >>> row["success"], row["ttt_median"], round(row["mean_gap"], 3)
    (0.5, inf, 0.167)
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hqopt.bench.metrics import (
    best_tts,
    bootstrap_ci,
    gap,
    median,
    quantiles,
    success_probability,
    time_to_target,
    tts,
    wilson_interval,
)
from hqopt.model import Sense

#: columns of runs.csv (the history is in runs.json only)
RUN_COLUMNS = [
    "instance", "solver", "kind", "seed", "objective", "feasible", "verified", "status", "target", "target_source",
    "gap", "time_to_target", "success", "wall_seconds", "cpu_seconds", "energy_joules", "qpu_seconds", "price",
    "peak_rss_mb", "peak_rss_method", "backend_used", "error",
]  # fmt: skip
#: columns of summary.csv
SUMMARY_COLUMNS = [
    "instance", "solver", "runs", "feasible", "errors", "target", "target_source", "best_objective",
    "success", "success_lo", "success_hi", "ttt_median", "ttt_q1", "ttt_q3", "ttt_median_lo", "ttt_median_hi",
    "run_seconds", "tts99", "tts99_best", "tts99_best_t", "mean_gap", "mean_gap_lo", "mean_gap_hi", "cpu_seconds", "energy_joules",
    "qpu_seconds", "price", "peak_rss_mb",
]  # fmt: skip
PLOTS = {
    "quality": "quality_over_time.png",
    "ecdf": "ttt_ecdf.png",
    "heatmap": "gap_heatmap.png",
}


@dataclass
class BenchReport:
    """A benchmark's runs (with derived metrics) and its per-(instance, solver) summary."""

    runs: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    directory: Path | None = None
    plots: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False

    def table(self) -> list[list[str]]:
        """The summary as display rows (header first)."""
        header = ["instance", "solver", "feasible", "P(success) [95% CI]", "TTT median [IQR] s",
                  "TTS(99%) s", "best TTS(99%) s [at t]", "mean gap % [95% CI]", "best", "CPU s", "energy J", "peak MB"]  # fmt: skip
        rows = [header]
        for s in self.summary:
            rows.append([
                s["instance"], s["solver"], f"{s['feasible']}/{s['runs']}" + (f" ({s['errors']} err)" if s["errors"] else ""),
                f"{_num(s['success'], '.2f')} [{_num(s['success_lo'], '.2f')}, {_num(s['success_hi'], '.2f')}]",
                f"{_num(s['ttt_median'], '.3g')} [{_num(s['ttt_q1'], '.3g')}, {_num(s['ttt_q3'], '.3g')}]",
                _num(s["tts99"], ".3g"),
                f"{_num(s['tts99_best'], '.3g')} [{_num(s['tts99_best_t'], '.3g')}]",
                f"{_pct(s['mean_gap'])} [{_pct(s['mean_gap_lo'])}, {_pct(s['mean_gap_hi'])}]",
                _num(s["best_objective"], ".10g"), _num(s["cpu_seconds"], ".3g"), _num(s["energy_joules"], ".3g"),
                _num(s["peak_rss_mb"], ".0f"),
            ])  # fmt: skip
        return rows

    def to_markdown(self) -> str:
        rows = self.table()
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return _html_table(self.table())

    # ------------------------------------------------------------------ files
    def write(self, directory: str | os.PathLike[str], title: str, notes: Sequence[str] = ()) -> None:
        """Write runs.csv, runs.json, summary.csv, report.md and report.html into ``directory``."""
        out = Path(directory)
        self.directory = out
        _write_atomic(out / "runs.json", json.dumps(self.runs, indent=1, allow_nan=True, default=str))
        _write_atomic(out / "runs.csv", _csv(self.runs, RUN_COLUMNS))
        _write_atomic(out / "summary.csv", _csv(self.summary, SUMMARY_COLUMNS))
        _write_atomic(out / "report.md", self._markdown_report(title, notes))
        _write_atomic(out / "report.html", self._html_report(title, notes))

    def _markdown_report(self, title: str, notes: Sequence[str]) -> str:
        parts = [f"# {title}", "", *notes, "", self.to_markdown(), "", *_LEGEND, ""]
        for key, name in self.plots.items():
            parts += [f"![{key}]({name})", ""]
        parts.append("Raw runs: [runs.csv](runs.csv), [runs.json](runs.json); summary: [summary.csv](summary.csv).")
        return "\n".join(parts) + "\n"

    def _html_report(self, title: str, notes: Sequence[str]) -> str:
        body = [f"<h1>{html.escape(title)}</h1>"]
        body += [f"<p>{html.escape(n)}</p>" for n in notes if n]
        body.append(self._repr_html_())
        body += [f"<p>{html.escape(line)}</p>" for line in _LEGEND]
        body += [f'<p><img src="{html.escape(name)}" alt="{key}" style="max-width:100%"></p>' for key, name in self.plots.items()]
        body.append('<p>Raw runs: <a href="runs.csv">runs.csv</a>, <a href="runs.json">runs.json</a>; '
                    'summary: <a href="summary.csv">summary.csv</a>.</p>')  # fmt: skip
        style = "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"


_LEGEND = [
    (
        "P(success): fraction of runs whose verified best reached the target within the time limit "
        "(plus the allowed overrun, max(0.5 s, 10 %)). "
        "TTT: time-to-target, inf for runs that never reached it. "
        "TTS(99%) = t*ln(0.01)/ln(1-p) with t the mean run wall time; best TTS: the same at the restart time t "
        "that minimises it, p(t) being the fraction of runs at target by t. "
        "Gap: (objective - target)/|target| in the problem's sense, positive when worse; runs without a feasible "
        "answer are left out of the mean gap. Intervals: percentile bootstrap, 2000 resamples, seed 0."
    ),
]


def analyse(records: Sequence[dict[str, Any]], targets: dict[str, tuple[float | None, str]]) -> BenchReport:
    """Derive per-run metrics against ``targets`` (``instance -> (value, source)``) and summarise."""
    runs = []
    for record in sorted(records, key=lambda r: (r["instance"], r["solver"], r["seed"])):
        run = dict(record)
        sign = Sense.parse(run["sense"]).sign
        target, source = targets.get(run["instance"], (None, "none"))
        run["target"], run["target_source"] = target, source
        run["gap"] = None if target is None else gap(run.get("objective"), target, sign)
        ttt = None if target is None else time_to_target(run.get("history") or [], target, sign)
        run["time_to_target"], run["success"] = ttt, ttt is not None and ttt <= allowed_seconds(run.get("time_limit"))
        runs.append(run)
    summary = []
    for key in sorted({(r["instance"], r["solver"]) for r in runs}):
        group = [r for r in runs if (r["instance"], r["solver"]) == key]
        summary.append(_summarise(group))
    return BenchReport(runs, summary)


def allowed_seconds(time_limit: float | None) -> float:
    """A run succeeds when it reaches the target by its time limit plus the project's allowed
    overrun, max(0.5 s, 10 %) (an external anchor's interpreter start-up counts against it).

    >>> allowed_seconds(2.0), allowed_seconds(10.0), allowed_seconds(None)
    (2.5, 11.0, inf)
    """
    if time_limit is None:
        return math.inf
    return time_limit + max(0.5, 0.1 * time_limit)


def _summarise(group: list[dict[str, Any]]) -> dict[str, Any]:
    first = group[0]
    sign = Sense.parse(first["sense"]).sign
    measured = [r for r in group if not r.get("error")]
    successes = [bool(r["success"]) for r in measured]
    ttts = [r["time_to_target"] if r["success"] else math.inf for r in measured]
    gaps = [r["gap"] for r in measured if r["gap"] is not None]
    objectives = [r["objective"] for r in measured if r.get("objective") is not None]
    p = success_probability(successes)
    run_seconds = _mean([r.get("wall_seconds") for r in measured])
    q1, med, q3 = quantiles(ttts) if ttts else (math.nan,) * 3
    p_ci = wilson_interval(successes)
    med_ci = bootstrap_ci(ttts, median) if ttts else (math.nan, math.nan)
    gap_ci = bootstrap_ci(gaps) if gaps else (math.nan, math.nan)
    best = best_tts(ttts) if ttts else (math.nan, math.nan)
    return {
        "instance": first["instance"],
        "solver": first["solver"],
        "runs": len(group),
        "feasible": sum(bool(r.get("feasible")) for r in measured),
        "errors": len(group) - len(measured),
        "target": first["target"],
        "target_source": first["target_source"],
        "best_objective": (min(objectives, key=lambda o: sign * o) if objectives else None),
        "success": p,
        "success_lo": p_ci[0],
        "success_hi": p_ci[1],
        "ttt_median": med,
        "ttt_q1": q1,
        "ttt_q3": q3,
        "ttt_median_lo": med_ci[0],
        "ttt_median_hi": med_ci[1],
        "run_seconds": run_seconds,
        "tts99": tts(run_seconds, p) if measured else math.nan,
        "tts99_best": best[0],
        "tts99_best_t": best[1],
        "mean_gap": _mean(gaps),
        "mean_gap_lo": gap_ci[0],
        "mean_gap_hi": gap_ci[1],
        "cpu_seconds": _mean([r.get("cpu_seconds") for r in measured]),
        "energy_joules": _mean([r.get("energy_joules") for r in measured]),
        "qpu_seconds": _mean([r.get("qpu_seconds") for r in measured]),
        "price": _mean([r.get("price") for r in measured]),
        "peak_rss_mb": max((r["peak_rss_mb"] for r in measured if r.get("peak_rss_mb") is not None), default=None),
    }


# ------------------------------------------------------------------ helpers
def _mean(values: Sequence[float | None]) -> float:
    data = [v for v in values if v is not None]
    return float(np.mean(data)) if data else math.nan


def _num(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return format(value, spec)


def _pct(value: float | None) -> str:
    return _num(None if value is None else 100 * value, ".3g")


def _csv(rows: Sequence[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table class='hqopt-bench'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


__all__ = ["PLOTS", "RUN_COLUMNS", "SUMMARY_COLUMNS", "BenchReport", "allowed_seconds", "analyse"]
