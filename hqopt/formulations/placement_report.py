"""A placement answer for people: per-site table, cost by term, rule checks, moves.

:class:`PlacementReport` is built from a :class:`~hqopt.formulations.placement.Placement`
and an assignment; it renders as plain text (``str``/:meth:`to_text`, for
pipes and logs), as Rich tables (``rich.print(report)``, for terminals) and as
HTML (``_repr_html_``, for notebooks). :class:`PlacementPlan` is the decoded
answer ``Result.decoded``: the JSON-friendly dict, with a compact ``repr``, a
:meth:`~PlacementPlan.report` and ``_repr_html_``.

Example:
    >>> from hqopt.formulations.placement import Placement
    >>> p = Placement.from_spec({"sites": [{"name": "a", "zone": "z", "capacity": {"cpu": 4}, "price": {"cpu": 1}},
    ...                                    {"name": "b", "zone": "z", "capacity": {"cpu": 4}}, {"name": "c", "capacity": {"cpu": 4}}],
    ...                          "services": [{"name": "s1", "demand": {"cpu": 3}}, {"name": "s2", "demand": {"cpu": 2}}],
    ...                          "current": {"s1": "b", "s2": "b"}, "sites_down": ["b"]})
    >>> plan = p.plan({"s1": "a", "s2": "a"})
    >>> plan
    <placement plan: 2 services on 1 of 3 sites, objective 7, 2 moves, infeasible>
    >>> print(plan.report().to_text().splitlines()[-2])
      s1: b (down) → a
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hqopt.formulations.placement import Placement
    from hqopt.formulations.placement_bound import PlacementBound
    from hqopt.result import Result


class PlacementPlan(dict):
    """The decoded answer (a plain dict for JSON) that also knows its instance.

    Keys: ``assignment``, ``sites``, ``costs``, ``weights``, ``objective``,
    ``moves`` (``[{service, from, to}]``), ``feasible``, ``violations``.
    """

    def __init__(self, data: dict[str, Any], placement: Placement) -> None:
        super().__init__(data)
        self.placement = placement

    def __repr__(self) -> str:
        used = sum(1 for row in self["sites"] if row["services"])
        return (
            f"<placement plan: {len(self['assignment'])} services on {used} of {len(self['sites'])} sites, "
            f"objective {self['objective']:.10g}, {len(self['moves'])} moves, {'feasible' if self['feasible'] else 'infeasible'}>"
        )

    def report(self, result: Result | None = None, bound: PlacementBound | None = None) -> PlacementReport:
        """The full report (``result`` adds status and the solver's bound)."""
        return build_report(self.placement, self["assignment"], result, bound)

    def _repr_html_(self) -> str:
        return self.report()._repr_html_()


@dataclass
class PlacementReport:
    """Tables (each a title, a header and rows of text) and the facts around them."""

    title: str
    facts: list[tuple[str, str]]
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    notes: list[tuple[str, list[str]]] = field(default_factory=list)

    def to_text(self) -> str:
        """Plain text, aligned columns, no colour (for pipes and logs)."""
        lines = [self.title]
        width = max((len(k) for k, _ in self.facts), default=0)
        lines += [f"  {k.ljust(width)}  {v}" for k, v in self.facts]
        for title, header, rows in self.tables:
            lines += ["", title]
            widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
            for row in [header, *rows]:
                lines.append("  " + "  ".join(str(c).ljust(w) if j == 0 else str(c).rjust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip())
        for title, items in self.notes:
            lines += ["", title] + [f"  {item}" for item in items]
        return "\n".join(lines)

    __str__ = to_text

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        parts: list[Any] = [Text(self.title, style="bold")]
        facts = Table(show_header=False, box=None, pad_edge=False)
        facts.add_column(style="bold")
        facts.add_column()
        for k, v in self.facts:
            facts.add_row(k, Text(v, style="red" if v.startswith(("no", "VIOLATED")) else ""))
        parts.append(facts)
        for title, header, rows in self.tables:
            table = Table(title=title, title_justify="left", title_style="bold")
            for j, name in enumerate(header):
                table.add_column(name, justify="left" if j == 0 else "right")
            for row in rows:
                table.add_row(*(Text(str(c)) for c in row))
            parts.append(table)
        for title, items in self.notes:
            parts.append(Text(title, style="bold"))
            parts += [Text("  " + item, style="red" if "VIOLATED" in item else "") for item in items]
        return Group(*parts)

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<h4>{e(self.title)}</h4>", "<table>"]
        out += [f"<tr><th style='text-align:left'>{e(k)}</th><td style='text-align:left'>{e(v)}</td></tr>" for k, v in self.facts]
        out.append("</table>")
        for title, header, rows in self.tables:
            out.append(f"<p><b>{e(title)}</b></p><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows]
            out.append("</table>")
        for title, items in self.notes:
            out.append(f"<p><b>{e(title)}</b></p><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
        return "\n".join(out)


def build_report(
    p: Placement,
    assignment: dict[str, str],
    result: Result | None = None,
    bound: PlacementBound | None = None,
    misplaced: dict[str, list[str]] | None = None,
) -> PlacementReport:
    """The report of ``assignment`` on ``p``; ``result`` adds status and solver bound, ``bound`` the whole-objective bound.

    ``misplaced``: ``{service: sites}`` of an infeasible solution's services on no site or on several
    (``assignment`` leaves them out; see :meth:`~hqopt.formulations.placement.Placement.partial_assignment`).
    """
    check = p.check(assignment)
    facts = [("objective", f"{check.objective:.10g}"), ("feasible", "yes" if check.feasible else "no")]
    if result is not None:
        facts.append(("status", f"{result.status.value} ({result.backend}, {result.timing.total:.1f} s, seed {result.seed})"))
        if result.bound is not None:
            facts.append(("solver bound", f"{result.bound:.10g}  gap {_gap(check.objective, result.bound)}  (the backend's, on the model)"))
    if bound is not None:
        facts.append(("bound", f"{bound.value:.10g}  gap {_gap(check.objective, bound.value)}  (covers {', '.join(bound.covers)}; {bound.method})"))
    if p.down:
        facts.append(("sites down", ", ".join(p.down)))
    return PlacementReport(
        title=f"placement {p.name}: {len(p.services)} services, {len(p.sites)} sites",
        facts=facts,
        tables=[_site_table(p, assignment, check), _cost_table(p, check)],
        notes=[("rules", _rule_checks(p, assignment, check, misplaced or {})), ("moves", _moves(p, check.moves, assignment))],
    )


def _gap(objective: float, bound: float) -> str:
    return f"{abs(objective - bound) / max(abs(objective), 1e-9):.1%}"


def _site_table(p: Placement, assignment: dict[str, str], check: Any) -> tuple[str, list[str], list[list[str]]]:
    header = ["site", "fault domain", "services", *(f"{r} %" for r in p.resources), "energy", "state"]
    rows = []
    for site in p.sites:
        guests = sum(1 for where in assignment.values() if where == site.name)
        used = check.usage[site.name]
        percent = [f"{100 * used[r] / site.capacity[r]:.0f}" if site.capacity.get(r) else ("-" if not used[r] else "over") for r in p.resources]
        energy = sum(used[r] * site.price.get(r, 0.0) for r in p.resources)
        state = "down" if site.name in p.down else "in use" if guests else "empty"
        domain = site.zone if site.zone.startswith(site.region) else f"{site.region}/{site.zone}"
        rows.append([site.name, domain, str(guests), *percent, f"{energy:.10g}", state])
    return "sites (utilisation per resource)", header, rows


def _cost_table(p: Placement, check: Any) -> tuple[str, list[str], list[list[str]]]:
    rows = []
    total = check.objective or 1.0
    for term, cost in check.costs.items():
        weighted = p.weights[term] * cost
        rows.append([term, f"{cost:.10g}", f"{p.weights[term]:g}", f"{weighted:.10g}", f"{100 * weighted / total:.0f}" if total else "-"])
    rows.append(["total", "", "", f"{check.objective:.10g}", "100"])
    return "objective by term", ["term", "cost", "weight", "weighted", "%"], rows


def _rule_checks(p: Placement, assignment: dict[str, str], check: Any, misplaced: dict[str, list[str]]) -> list[str]:
    """One line per kind of rule: how many hold, and which are violated."""
    lines = []
    wrong = [f"{s.name} on {len(where)} sites ({', '.join(where)})" if (where := misplaced.get(s.name)) else f"{s.name} not placed" for s in p.services if s.name not in assignment]
    if wrong:
        lines.append(f"one site per service: VIOLATED: {'; '.join(wrong)}")
    violated = [v for v in check.violations if v.startswith("group ")]
    if p.anti_affinity:
        lines.append(f"anti-affinity: {len(p.anti_affinity) - len({v.split()[1] for v in violated})} of {len(p.anti_affinity)} groups spread as required" + (f"; VIOLATED: {'; '.join(violated)}" if violated else ""))
    spread = [v for v in check.violations if "spread over" in v]
    if p.affinity:
        lines.append(f"affinity: {len(p.affinity) - len(spread)} of {len(p.affinity)} kept together" + (f"; VIOLATED: {'; '.join(spread)}" if spread else ""))
    all_sites = len(p.sites) - len(p.down)
    limited = [s.name for s in p.services if len(p.allowed[s.name]) < all_sites]
    bad = [s for s in limited if assignment.get(s) not in p.allowed[s]]
    if limited:
        lines.append(f"pins/forbids: {len(limited) - len(bad)} of {len(limited)} services on a site they may use" + (f"; VIOLATED: {', '.join(bad)}" if bad else ""))
    capacity = [v for v in check.violations if v.startswith("site ")]
    lines.append("capacity: every site within capacity" if not capacity else f"capacity: VIOLATED: {'; '.join(capacity)}")
    on_down = [s for s, where in assignment.items() if where in p.down]
    if p.down:
        lines.append(f"sites down: {'no service on them' if not on_down else 'VIOLATED: ' + ', '.join(on_down)}")
    if p.max_moves is not None:
        lines.append(f"moves: {len(check.moves)} of at most {p.max_moves}" + ("; VIOLATED" if len(check.moves) > p.max_moves else ""))
    return lines


def _moves(p: Placement, moves: list[str], assignment: dict[str, str]) -> list[str]:
    if not p.current:
        return ["no current placement given"]
    if not moves:
        return ["none: every service stays where it is"]
    return [f"{s}: {p.current[s]}{' (down)' if p.current[s] in p.down else ''} → {assignment[s]}" for s in moves]
