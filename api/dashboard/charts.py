"""Charts drawn on the server as inline SVG: a line, bars, and the lesson funnel. No script, no CDN.

Every mark carries the figure it draws (``data-label``, ``data-value``) and a ``<title>`` a reader sees
on hover, so what a chart shows can be checked against the API's numbers (tests/e2e/test_dashboard.py).
Sizes are fixed user units in a ``viewBox``: the CSS scales the drawing to its column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 16, 40
Format = Callable[[float], str]


def plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def cents(currency: str) -> Format:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency.lower(), currency.upper() + " ")
    return lambda value: f"{symbol}{value / 100:,.2f}"


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


@dataclass(frozen=True)
class Point:
    label: str
    value: float


def _attribute(value: object) -> str:
    return escape(str(value), quote=True)


def _scale(points: Sequence[Point]) -> float:
    top = max((p.value for p in points), default=0)
    return float(top) if top > 0 else 1.0


def _axis(top: float, formatted: Format) -> list[str]:
    """Horizontal grid lines at 0, half and the top, labelled in the figure's unit."""
    plot = HEIGHT - TOP - BOTTOM
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(formatted(top * fraction))}</text>"
        )
    return parts


def _x_labels(points: Sequence[Point], xs: Sequence[float]) -> list[str]:
    """At most about seven labels under the axis, the last one always, so dates never overlap."""
    step = max(1, -(-len(points) // 7))
    last = len(points) - 1
    shown = [index for index in range(0, len(points), step) if last - index >= step or index == last]
    if last not in shown:
        shown.append(last)
    return [
        f'<text class="tick" x="{xs[index]:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
        f"{escape(points[index].label)}</text>"
        for index in shown
    ]


def _svg(kind: str, name: str, parts: list[str], height: int = HEIGHT) -> Markup:
    return Markup(  # noqa: S704 - every value in ``parts`` went through html.escape
        f'<svg class="chart {kind}" data-figure="{_attribute(name)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{_attribute(name)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(parts)
        + "</svg>"
    )


def _empty(kind: str, name: str) -> Markup:
    return _svg(
        kind,
        name,
        [
            f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            "no data in this range</text>"
        ],
    )


def line_chart(name: str, points: Sequence[Point], formatted: Format = plain) -> Markup:
    """One value per day (or any ordered label): a polyline with a dot per point."""
    if not points:
        return _empty("line", name)
    top, plot_w, plot_h = _scale(points), WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [
        LEFT + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2) for i in range(len(points))
    ]
    ys = [TOP + plot_h * (1 - p.value / top) for p in points]
    parts = _axis(top, formatted)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    parts.append(f'<polyline class="series" points="{line}"/>')
    for p, x, y in zip(points, xs, ys, strict=True):
        parts.append(
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3" data-label="{_attribute(p.label)}" '
            f'data-value="{_attribute(p.value)}">'
            f"<title>{escape(p.label)}: {escape(formatted(p.value))}</title></circle>"
        )
    parts.extend(_x_labels(points, xs))
    return _svg("line", name, parts)


def bar_chart(name: str, points: Sequence[Point], formatted: Format = plain) -> Markup:
    """Vertical bars, one per label, each with its value written above it when there is room."""
    if not points:
        return _empty("bar", name)
    top, plot_w, plot_h = _scale(points), WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    width = max(2.0, slot * 0.7)
    parts = _axis(top, formatted)
    xs = []
    for index, p in enumerate(points):
        height = plot_h * p.value / top
        x = LEFT + slot * index + (slot - width) / 2
        xs.append(x + width / 2)
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" data-label="{_attribute(p.label)}" data-value="{_attribute(p.value)}">'
            f"<title>{escape(p.label)}: {escape(formatted(p.value))}</title></rect>"
        )
        if slot >= 36:
            parts.append(
                f'<text class="value" x="{x + width / 2:.1f}" y="{TOP + plot_h - height - 4:.1f}" '
                f'text-anchor="middle">{escape(formatted(p.value))}</text>'
            )
    parts.extend(_x_labels(points, xs))
    return _svg("bar", name, parts)


@dataclass(frozen=True)
class Step:
    label: str
    reached: int
    completed: int


def funnel(name: str, steps: Sequence[Step]) -> Markup:
    """The lesson funnel: per lesson in order, a bar for the students who reached it and, inside it,
    one for those who completed it, both against the students who reached the first lesson."""
    if not steps:
        return _empty("funnel", name)
    row, label_w, count_w = 30, 200, 110
    height = TOP + row * len(steps) + 8
    top = max(max(s.reached for s in steps), 1)
    plot_w = WIDTH - label_w - count_w - RIGHT
    parts = []
    for index, s in enumerate(steps):
        y = TOP + row * index
        reached_w, completed_w = plot_w * s.reached / top, plot_w * s.completed / top
        title = escape(f"{s.label}: {s.reached} reached, {s.completed} completed")
        label = s.label if len(s.label) <= 28 else s.label[:27] + "…"
        parts.append(
            f'<text class="tick" x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<g class="step" data-label="{_attribute(s.label)}" data-reached="{s.reached}" '
            f'data-completed="{s.completed}"><title>{title}</title>'
            f'<rect class="reached" x="{label_w}" y="{y + 2}" width="{reached_w:.1f}" height="{row - 6}"/>'
            f'<rect class="completed" x="{label_w}" y="{y + 2}" width="{completed_w:.1f}" '
            f'height="{row - 6}"/>'
            f"</g>"
            f'<text class="value" x="{label_w + plot_w + 8}" y="{y + 17}">{s.completed} / {s.reached}</text>'
        )
    return _svg("funnel", name, parts, height=height)
