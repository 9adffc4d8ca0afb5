"""The three benchmark plots (matplotlib, Agg backend; the ``plot`` extra).

- quality over time: per instance, the gap of the best-so-far to the target
  (%), median over seeds with the interquartile band, one colour per solver;
  a run counts as +inf (off the chart) until its first feasible answer;
- ECDF of time-to-target: per solver, the fraction of all its runs (every
  instance and seed) that reached the target by time t; it levels off at the
  success probability;
- gap heatmap: mean gap (%) per instance and solver; blank where no run was
  feasible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hqopt.bench.metrics import best_at, gap, quantiles
from hqopt.errors import BackendUnavailable
from hqopt.model import Sense

#: the most instances drawn as panels of the quality-over-time figure
MAX_PANELS = 12
#: points on the time axis of the quality-over-time figure
TIME_POINTS = 200


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise BackendUnavailable("plots need matplotlib: pip install 'hqopt[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colours(solvers: Sequence[str]) -> dict[str, Any]:
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    return {s: cmap(k % 10) for k, s in enumerate(solvers)}


def quality_over_time(runs: Sequence[dict[str, Any]], path: Path, time_limit: float) -> None:
    """Median and IQR of the best-so-far gap (%) over time, per instance and solver."""
    plt = _pyplot()
    instances = sorted({r["instance"] for r in runs if r.get("target") is not None})[:MAX_PANELS]
    solvers = sorted({r["solver"] for r in runs})
    colours = _colours(solvers)
    cols = min(3, max(1, len(instances)))
    rows = max(1, math.ceil(len(instances) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    last = max((h[0] for r in runs for h in r.get("history") or []), default=0.0)
    times = np.linspace(0.0, max(time_limit * 1.1, last * 1.02), TIME_POINTS)
    for ax, instance in zip(axes.flat, instances):
        highest = 0.0
        for solver in solvers:
            group = [r for r in runs if r["instance"] == instance and r["solver"] == solver and not r.get("error")]
            if not group:
                continue
            sign = Sense.parse(group[0]["sense"]).sign
            target = group[0]["target"]
            curves = []
            for r in group:
                values = best_at(r.get("history") or [], times)
                curves.append([math.inf if v is None else 100 * gap(v, target, sign) for v in values])
            bands = np.array([quantiles(list(column)) for column in np.array(curves).T])  # (time, [q1, median, q3])
            finite = np.isfinite(bands[:, 1])
            if not finite.any():
                continue
            ax.plot(times, np.where(finite, bands[:, 1], np.nan), color=colours[solver], label=solver, lw=1.6)
            ax.fill_between(times, bands[:, 0], np.where(np.isfinite(bands[:, 2]), bands[:, 2], np.nan),
                            color=colours[solver], alpha=0.2, lw=0)  # fmt: skip
            highest = max(highest, float(np.nanmax(np.where(finite, bands[:, 1], np.nan))))
        ax.set_title(instance, fontsize=10)
        ax.set_xlabel("seconds")
        ax.set_ylabel("gap to target %")
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]), top=max(highest * 1.1, 1e-3))
        ax.axhline(0.0, color="grey", lw=0.6, ls=":")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(instances):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 6), frameon=False)
    fig.suptitle("best-so-far gap: median and IQR over seeds", y=0.995, fontsize=10, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ttt_ecdf(runs: Sequence[dict[str, Any]], path: Path, time_limit: float) -> None:
    """Fraction of each solver's runs that reached the target by time t."""
    plt = _pyplot()
    solvers = sorted({r["solver"] for r in runs})
    colours = _colours(solvers)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    lowest = time_limit
    for solver in solvers:
        group = [r for r in runs if r["solver"] == solver and not r.get("error") and r.get("target") is not None]
        if not group:
            continue
        times = sorted(r["time_to_target"] for r in group if r["success"])
        if times:
            lowest = min(lowest, max(times[0], 1e-4))
        xs = [1e-4, *times, max([time_limit * 1.1, *times])]
        ys = [0.0, *[(k + 1) / len(group) for k in range(len(times))], len(times) / len(group)]
        ax.step(xs, ys, where="post", color=colours[solver], label=f"{solver} ({len(times)}/{len(group)})", lw=1.6)
    ax.set_xscale("log")
    ax.set_xlim(lowest / 2, max([time_limit * 1.1] + [r["time_to_target"] * 1.1 for r in runs if r.get("success")]))
    ax.set_ylim(-0.02, 1.02)
    ax.axvline(time_limit, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("time-to-target, seconds (log)")
    ax.set_ylabel("fraction of runs at target")
    ax.set_title("ECDF of time-to-target (all instances and seeds)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gap_heatmap(summary: Sequence[dict[str, Any]], path: Path) -> None:
    """Mean gap (%) per instance (rows) and solver (columns), annotated."""
    plt = _pyplot()
    instances = sorted({s["instance"] for s in summary})
    solvers = sorted({s["solver"] for s in summary})
    grid = np.full((len(instances), len(solvers)), np.nan)
    for s in summary:
        if s["mean_gap"] is not None and not math.isnan(s["mean_gap"]):
            grid[instances.index(s["instance"]), solvers.index(s["solver"])] = 100 * s["mean_gap"]
    fig, ax = plt.subplots(figsize=(1.3 * len(solvers) + 2.6, 0.42 * len(instances) + 1.8))
    finite = grid[np.isfinite(grid)]
    top = max(float(finite.max()), 1e-6) if finite.size else 1.0
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="Reds", vmin=0.0, vmax=top, aspect="auto")
    for i in range(len(instances)):
        for j in range(len(solvers)):
            text = "none" if math.isnan(grid[i, j]) else f"{grid[i, j]:.2f}"
            dark = not math.isnan(grid[i, j]) and grid[i, j] > 0.6 * top
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(len(solvers)), solvers, rotation=30, ha="right")
    ax.set_yticks(range(len(instances)), instances)
    ax.set_title("mean gap to target, % (none: no feasible run)", fontsize=10)
    fig.colorbar(image, ax=ax, label="%")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_all(runs: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], directory: Path, time_limit: float) -> dict[str, str]:
    """Draw the three plots into ``directory``; returns ``{kind: file name}``."""
    from hqopt.bench.report import PLOTS

    quality_over_time(runs, directory / PLOTS["quality"], time_limit)
    ttt_ecdf(runs, directory / PLOTS["ecdf"], time_limit)
    gap_heatmap(summary, directory / PLOTS["heatmap"])
    return dict(PLOTS)


__all__ = ["draw_all", "gap_heatmap", "quality_over_time", "ttt_ecdf"]
