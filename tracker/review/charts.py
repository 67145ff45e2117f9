"""Server-rendered SVG charts. Each chart comes with the rows of its data table (RGAA: a table equivalent);
no JavaScript. Colours meet 3:1 contrast against white and every bar carries its value as text.

`BarChart.html(id)` and `LineChart.html(id)` write the figure: f-strings over escaped values, the bytes the Jinja
macros of templates/review/charts.html wrote (kept as the reference in tests/test_templates.py; as macros they were
about a sixth of /pilotage's rendering)."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from tracker.core.french import number_fr
from tracker.core.markup import text as _text

PALETTE = ["#1d4e89", "#b34700", "#2e7d32", "#8a1c1c", "#5c3d99", "#4b4b4b", "#006d77", "#7a5c00"]


@dataclass
class Bar:
    label: str
    value: int
    colour: str
    y: float = 0
    width: float = 0


@dataclass
class BarChart:
    """Horizontal bars: label, bar, value."""

    title: str
    bars: list[Bar]
    width: int = 640
    row_height: int = 30
    label_width: int = 230
    headers: tuple[str, str] = ("Catégorie", "Nombre")

    @property
    def height(self) -> int:
        return self.row_height * len(self.bars) + 10

    @property
    def rows(self) -> list[tuple[str, int]]:
        return [(bar.label, bar.value) for bar in self.bars]

    def html(self, id: str) -> Markup:
        """The figure: caption, SVG, data table (`id` names its caption and description)."""
        return _bar_html(self, id)

    def layout(self) -> BarChart:
        top = max([b.value for b in self.bars] + [1])
        room = self.width - self.label_width - 60
        for index, bar in enumerate(self.bars):
            bar.y = 5 + index * self.row_height
            bar.width = room * bar.value / top
        return self


@dataclass
class LineChart:
    """One series over months: points, axis labels every few months."""

    title: str
    points: list[tuple[str, int]]  # (label, value)
    width: int = 640
    height: int = 240
    headers: tuple[str, str] = ("Mois", "Valeur")
    coords: list[tuple[float, float, str, int]] = field(default_factory=list)
    max_value: int = 0
    ticks: list[tuple[float, str]] = field(default_factory=list)

    def html(self, id: str) -> Markup:
        """The figure: caption, SVG, data table (`id` names its caption and description)."""
        return _line_html(self, id)

    def layout(self) -> LineChart:
        left, right, top, bottom = 50, 20, 15, 40
        self.max_value = max([v for _, v in self.points] + [1])
        inner_w, inner_h = self.width - left - right, self.height - top - bottom
        n = max(len(self.points) - 1, 1)
        self.coords = [
            (left + inner_w * i / n, top + inner_h * (1 - v / self.max_value), label, v)
            for i, (label, v) in enumerate(self.points)
        ]
        step = max(1, len(self.points) // 6)
        self.ticks = [(x, label) for i, (x, _, label, _) in enumerate(self.coords) if i % step == 0]
        return self

    @property
    def rows(self) -> list[tuple[str, int]]:
        return self.points

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in self.coords)


def _desc(pairs: list[tuple[str, int]]) -> str:
    return " ; ".join(f"{_text(label)}&nbsp;: {_text(value)}" for label, value in pairs) + ("." if pairs else "")


def _figure(chart: BarChart | LineChart, id: str, desc: str, drawing: str) -> Markup:
    """The figure: its caption, the SVG (its description, then `drawing`), its data table."""
    title, ident = _text(chart.title), _text(id)
    rows = "".join(f'<tr><th scope="row">{_text(label)}</th><td class="num">{_text(number_fr(value))}</td></tr>'
                   for label, value in chart.rows)
    return Markup(
        f'<figure class="chart">\n  <figcaption id="{ident}-titre">{title}</figcaption>\n'
        f'  <svg viewBox="0 0 {_text(chart.width)} {_text(chart.height)}" role="img" aria-labelledby="{ident}-titre" '
        f'aria-describedby="{ident}-desc" focusable="false">\n    <desc id="{ident}-desc">{desc}</desc>\n'
        f'{drawing}  </svg>\n'
        f'  <details class="chart-data">\n  <summary>Données du graphique «&nbsp;{title}&nbsp;» (tableau)</summary>\n'
        f'  <div class="table-scroll" role="region" aria-labelledby="{ident}-titre" tabindex="0">\n'
        f'  <table class="table">\n    <caption class="sr-only">{title}</caption>\n'
        f'    <thead><tr><th scope="col">{_text(chart.headers[0])}</th><th scope="col" class="num">'
        f'{_text(chart.headers[1])}</th></tr></thead>\n    <tbody>{rows}</tbody>\n  </table>\n  </div>\n'
        f'</details>\n</figure>')


def _bar_html(chart: BarChart, id: str) -> Markup:
    drawing = "".join(
        f'    <text x="{_text(chart.label_width - 8)}" y="{_text(bar.y + 19)}" text-anchor="end" class="chart-label">'
        f'{_text(bar.label)}</text>\n'
        f'    <rect x="{_text(chart.label_width)}" y="{_text(bar.y + 4)}" width="{bar.width:.1f}" '
        f'height="{_text(chart.row_height - 10)}" fill="{_text(bar.colour)}"></rect>\n'
        f'    <text x="{chart.label_width + bar.width + 6:.1f}" y="{_text(bar.y + 19)}" class="chart-value">'
        f'{_text(number_fr(bar.value))}</text>\n' for bar in chart.bars)
    return _figure(chart, id, _desc([(bar.label, bar.value) for bar in chart.bars]), drawing)


def _line_html(chart: LineChart, id: str) -> Markup:
    bottom = _text(chart.height - 40)
    points = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="chart-point"></circle>'
                     for x, y, _, _ in chart.coords)
    ticks = "".join(f'<text x="{x:.1f}" y="{_text(chart.height - 18)}" text-anchor="middle" class="chart-label">'
                    f'{_text(label)}</text>' for x, label in chart.ticks)
    drawing = (
        f'    <line x1="50" y1="{bottom}" x2="{_text(chart.width - 20)}" y2="{bottom}" class="chart-axis"></line>\n'
        f'    <line x1="50" y1="15" x2="50" y2="{bottom}" class="chart-axis"></line>\n'
        f'    <text x="44" y="20" text-anchor="end" class="chart-value">{_text(chart.max_value)}</text>\n'
        f'    <text x="44" y="{bottom}" text-anchor="end" class="chart-value">0</text>\n'
        f'    <polyline points="{_text(chart.polyline)}" class="chart-line"></polyline>\n{points}{ticks}')
    return _figure(chart, id, _desc(chart.points), drawing)


def bar_chart(title: str, items: list[tuple[str, int]], headers: tuple[str, str], colours: list[str] | None = None):
    colours = colours or PALETTE
    bars = [Bar(label, value, colours[i % len(colours)]) for i, (label, value) in enumerate(items)]
    return BarChart(title=title, bars=bars, headers=headers).layout()


def line_chart(title: str, points: list[tuple[str, int]], headers: tuple[str, str]):
    return LineChart(title=title, points=points, headers=headers).layout()
