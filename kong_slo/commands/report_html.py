"""The report as ONE self-contained HTML page: inline CSS, inline SVG charts, no script, no external resource, so
it opens anywhere without a network. Pure: a ``Report`` in, text out. Every figure also carries a ``data-`` value,
so a test (or a script) reads the numbers from the DOM exactly as they were rendered."""

from __future__ import annotations

import html
import time
from collections.abc import Iterable

from kong_slo.objectives.report_model import FiredAlert, ObjectiveReport, Point, Report

WIDTH, HEIGHT, PAD = 420, 120, 28
STATE_COLOURS = {"ok": "#1a7f37", "warning": "#9a6700", "failing": "#cf222e", "no data": "#57606a",
                 "missing": "#57606a"}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}
header{background:#24292f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d1d9}main{padding:12px 28px 28px;max-width:1100px}
section.api{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:16px 0;padding:14px 18px}
section.api h2{margin:0 0 8px;font-size:18px}
.objective{display:grid;grid-template-columns:250px minmax(0,1fr) minmax(0,1fr);gap:14px;align-items:start;
border-top:1px solid #eaeef2;padding:10px 0}.figures div{margin:2px 0}
.state{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.big{font-size:22px;font-weight:600}.muted{color:#57606a}figure{margin:0}figcaption{font-size:12px;color:#57606a}
svg{background:#fbfcfd;border:1px solid #eaeef2;border-radius:4px}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2}.note{background:#fff8c5;border:1px solid
#d4a72c;border-radius:6px;padding:8px 12px;margin:12px 0}
"""


def _number(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value + 0.0:.12g}{suffix}"  # + 0.0: never "-0"


def _clock(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def chart(points: list[Point], *, kind: str, reference: float | None, label: str) -> str:
    """An SVG line chart of ``points`` with a dashed reference line (0 % budget, burn rate 1)."""
    if not points:
        return f'<figure><svg class="chart {kind} empty" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img">' \
               f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" fill="#57606a">no data to draw in ' \
               f'the window</text></svg><figcaption>{html.escape(label)}</figcaption></figure>'
    values = [point.value for point in points] + ([reference] if reference is not None else [])
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    first, last = points[0].at_ms, points[-1].at_ms
    span = max(1, last - first)

    def xy(at: int, value: float) -> str:
        x = PAD + (WIDTH - 2 * PAD) * ((at - first) / span if len(points) > 1 else 0.5)
        y = HEIGHT - PAD + (2 * PAD - HEIGHT) * (value - low) / (high - low)
        return f"{x:.1f},{y:.1f}"

    path = "M" + " L".join(xy(point.at_ms, point.value) for point in points)
    parts = [f'<figure><svg class="chart {kind}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'data-points="{len(points)}">']
    if reference is not None:
        y = xy(first, reference).split(",")[1]
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y}" y2="{y}" stroke="#cf222e" '
                     f'stroke-dasharray="4 3" stroke-width="1"/>')
    colour = "#0969da" if kind == "budget" else "#8250df"
    parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts.append(f'<text x="4" y="14" font-size="11" fill="#57606a">{_number(round(high, 2))}</text>'
                 f'<text x="4" y="{HEIGHT - 6}" font-size="11" fill="#57606a">{_number(round(low, 2))}</text>')
    parts.append(f'</svg><figcaption>{html.escape(label)}</figcaption></figure>')
    return "".join(parts)


def _objective(item: ObjectiveReport) -> str:
    row = item.status
    colour = STATE_COLOURS.get(row.state, "#57606a")
    figures = (f'<div class="figures"><div><strong>{html.escape(row.objective)}</strong> '
               f'<span class="state" style="background:{colour}">{html.escape(row.state)}</span></div>'
               f'<div class="big" data-figure="value" data-value="{_number(row.current)}">'
               f'{_number(row.current, " %")}</div>'
               f'<div>target <span data-figure="target" data-value="{_number(row.target)}">'
               f'{_number(row.target, " %")}</span> · warning {_number(row.warning, " %")}</div>'
               f'<div>error budget left <span data-figure="budget" data-value="{_number(row.budget_left)}">'
               f'{_number(row.budget_left, " %")}</span></div>'
               f'<div class="muted">window {html.escape(item.window)} · <span data-figure="calls" '
               f'data-value="{_number(item.calls)}">{_number(item.calls)}</span> calls</div></div>')
    budget = chart(item.budget, kind="budget", reference=0.0, label=f"error budget left (%) over {item.window}")
    burn = chart(item.burn, kind="burn", reference=1.0, label="burn rate per interval (1 = lasts the window)")
    return f'<div class="objective" data-objective="{html.escape(row.objective)}">{figures}{budget}{burn}</div>'


def _alerts(alerts: Iterable[FiredAlert]) -> str:
    rows = "".join(f'<tr data-alert><td>{html.escape(alert.title)}</td><td>{html.escape(alert.status)}</td>'
                   f'<td>{_clock(alert.start_ms)}</td><td>{_clock(alert.end_ms) if alert.end_ms else "open"}</td></tr>'
                   for alert in alerts)
    if not rows:
        return '<p class="muted" data-alerts="0">No burn-rate alert fired in the window.</p>'
    return f"<table><tr><th>alert</th><th>status</th><th>opened</th><th>closed</th></tr>{rows}</table>"


def render_html(report: Report) -> str:
    by_api: dict[str, list[ObjectiveReport]] = {}
    for item in report.objectives:
        by_api.setdefault(item.status.api, []).append(item)
    sections = "".join(f'<section class="api" data-api="{html.escape(api)}"><h2>{html.escape(api)}</h2>'
                       + "".join(_objective(item) for item in items) + "</section>" for api, items in by_api.items())
    notes = "".join(f'<p class="note">{html.escape(note)}</p>' for note in report.notes)
    title = f"kong-slo report: {report.stack}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body><header><h1>{html.escape(title)}</h1><p>{report.flavour} SLOs in "
            f"{html.escape(report.environment)} · {_clock(report.generated_ms)}</p></header><main>{notes}"
            f"{sections or '<p class=note>The stack defines no objectives.</p>'}"
            f'<section class="api"><h2>Alerts that fired</h2>{_alerts(report.alerts)}</section></main></body></html>\n')
