"""Pictures of a placement (the ``plot`` extra: matplotlib, networkx).

:func:`plot_placement` writes one PNG with two panels:

* **utilisation**: one group of bars per site (sites ordered by zone), one
  bar per resource, the 100 % line, down sites hatched grey;
* **traffic graph**: services as nodes coloured by their site, edges as
  thick as the traffic; services of one site are drawn together (the layout
  places site clusters on a circle, zones next to each other); moved
  services have a red ring, a dashed arrow from their old site (when there
  are few) and are listed "service: from → to" in a corner.

Example:
    >>> import tempfile, pathlib
    >>> from hqopt.formulations.placement import Placement
    >>> from hqopt.formulations.placement_generator import generate_placement
    >>> spec = generate_placement(12, 3, seed=1); _ = spec.pop("kind")
    >>> p = Placement.from_spec(spec)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "plan.png"
    >>> plot_placement(p, p.plan({s.name: p.allowed[s.name][0] for s in p.services}), path).exists()
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hqopt.errors import BackendUnavailable

if TYPE_CHECKING:
    from hqopt.formulations.placement import Placement

#: moves listed in the picture's box (the rest are counted)
MAX_MOVE_LABELS = 10
#: arrows from the old site are drawn when at most this many services move
MAX_MOVE_ARROWS = 25


def plot_placement(p: Placement, plan: Mapping[str, Any], path: str | Path, title: str | None = None) -> Path:
    """Write the utilisation and traffic-graph picture of ``plan`` (a decoded answer) to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import networkx as nx
    except ImportError as exc:
        raise BackendUnavailable(f"plotting needs the 'plot' extra (pip install 'hqopt[plot]'): {exc}") from None
    sites = sorted(p.sites, key=lambda s: (s.region, s.zone, s.name))
    colours = _site_colours(sites)
    fig, (left, right) = plt.subplots(1, 2, figsize=(19 if plan["moves"] else 17, 7.5), gridspec_kw={"width_ratios": [1, 1.25]})
    _utilisation(left, p, sites, plan)
    _graph(right, p, sites, plan, colours, nx)
    fig.suptitle(title or f"{p.name}: objective {plan['objective']:.10g}, {len(plan['moves'])} moves", fontsize=13)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _site_colours(sites: list[Any]) -> dict[str, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if len(sites) > 9 else "tab10"]
    palette = [cmap(j) for j in range(cmap.N) if cmap.N != 10 or j != 7]  # grey is for sites that are down
    return {s.name: palette[k % len(palette)] for k, s in enumerate(sites)}


def _utilisation(ax: Any, p: Placement, sites: list[Any], plan: Mapping[str, Any]) -> None:
    rows = {row["site"]: row for row in plan["sites"]}
    x = np.arange(len(sites))
    width = 0.8 / max(len(p.resources), 1)
    for j, r in enumerate(p.resources):
        values = [100 * rows[s.name]["utilisation"].get(r, 0.0) for s in sites]
        ax.bar(x + (j - (len(p.resources) - 1) / 2) * width, values, width, label=r)
    for k, s in enumerate(sites):
        if s.name in p.down:
            ax.axvspan(k - 0.45, k + 0.45, color="grey", alpha=0.3, hatch="//", lw=0)
            ax.text(k, 5, "down", ha="center", rotation=90, fontsize=8)
        elif not rows[s.name]["services"]:
            ax.text(k, 5, "empty", ha="center", rotation=90, fontsize=8, color="grey")
    ax.axhline(100, color="black", lw=1, ls="--")
    ax.set_xticks(x)
    ax.set_xticklabels([s.name for s in sites], rotation=60 if len(sites) > 8 else 0, ha="right" if len(sites) > 8 else "center", fontsize=8 if len(sites) > 20 else 9)
    if len(sites) > 30:  # too many names to read: label every few sites
        for k, label in enumerate(ax.get_xticklabels()):
            label.set_visible(k % math.ceil(len(sites) / 30) == 0)
    ax.set_ylabel("utilisation %")
    ax.set_ylim(0, max(110, ax.get_ylim()[1]))
    ax.set_title("utilisation per site and resource")
    ax.legend(loc="upper right", fontsize=8)


def _graph(ax: Any, p: Placement, sites: list[Any], plan: Mapping[str, Any], colours: dict[str, Any], nx: Any) -> None:
    assignment = plan["assignment"]
    moved = {m["service"]: m for m in plan["moves"]}
    graph = nx.Graph()
    graph.add_nodes_from(assignment)
    graph.add_weighted_edges_from((a, b, v) for (a, b), v in p.traffic.items())
    centres, pos, disc = _cluster_layout(graph, sites, assignment)
    volumes = np.array([d["weight"] for _, _, d in graph.edges(data=True)], dtype=float)
    widths = 0.3 + 2.5 * volumes / volumes.max() if volumes.size else []
    size = float(np.clip(4000 / max(len(assignment), 1), 8, 120))
    nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, alpha=0.3, edge_color="grey")
    nodes = list(assignment)
    nx.draw_networkx_nodes(graph, pos, nodelist=nodes, ax=ax, node_size=size, node_color=[colours[assignment[n]] for n in nodes], linewidths=0)
    for site in sites:  # site names outside the ring; down sites in grey
        c = centres[site.name]
        down = site.name in p.down
        ax.text(*(c * (1.12 + disc)), site.name + (" (down)" if down else ""), ha="center", va="center", fontsize=8 if len(sites) <= 20 else 6,
                color="grey" if down else "black", fontweight="bold")
    for s, m in moved.items() if len(moved) <= MAX_MOVE_ARROWS else ():  # where it came from -> where it is
        ax.annotate("", xy=pos[s], xytext=centres[m["from"]], arrowprops={"arrowstyle": "->", "color": "red", "lw": 0.8, "alpha": 0.6, "ls": "--"})
    if moved:
        nx.draw_networkx_nodes(graph, pos, nodelist=list(moved), ax=ax, node_size=size * 2.5, node_color="none", edgecolors="red", linewidths=1.5)
        lines = [f"{s}: {m['from']} → {m['to']}" for s, m in list(moved.items())[:MAX_MOVE_LABELS]]
        if len(moved) > MAX_MOVE_LABELS:
            lines.append(f"... and {len(moved) - MAX_MOVE_LABELS} more")
        ax.text(1.0, 0.0, f"moved (red rings{', dashed from the old site' if len(moved) <= MAX_MOVE_ARROWS else ''}):\n" + "\n".join(lines), transform=ax.transAxes, fontsize=7, va="bottom", ha="left", clip_on=False,
                color="darkred", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    if len(nodes) <= 40:
        nx.draw_networkx_labels(graph, {n: xy + np.array([0, 0.045]) for n, xy in pos.items()}, labels={n: n for n in nodes}, ax=ax, font_size=5)
    ax.set_title(f"service traffic, coloured by site ({len(nodes)} services, {graph.number_of_edges()} traffic pairs)")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _cluster_layout(graph: Any, sites: list[Any], assignment: Mapping[str, str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Every site on a circle (zone order); its services in a small disc around it (sunflower pattern, by traffic order).

    Returns the site centres, the service positions and the disc radius.
    """
    centres = {}
    for k, site in enumerate(sites):
        angle = math.pi / 2 - 2 * math.pi * k / len(sites)
        centres[site.name] = np.array([math.cos(angle), math.sin(angle)]) * (1.0 if len(sites) > 1 else 0.0)
    disc = 0.85 * math.sin(math.pi / len(sites)) if len(sites) > 1 else 0.9
    pos: dict[str, np.ndarray] = {}
    golden = math.pi * (3 - math.sqrt(5))
    for site in sites:
        members = [s for s, w in assignment.items() if w == site.name]
        members.sort(key=lambda s: -graph.degree(s, weight="weight"))  # busiest in the middle
        for j, s in enumerate(members):
            r = disc * math.sqrt((j + 0.5) / max(len(members), 1))
            pos[s] = centres[site.name] + r * np.array([math.cos(j * golden), math.sin(j * golden)])
    return centres, pos, disc
