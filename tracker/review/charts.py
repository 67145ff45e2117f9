"""Server-rendered SVG charts. Each chart comes with the rows of its data table (RGAA: a table equivalent);
no JavaScript. Colours meet 3:1 contrast against white and every bar carries its value as text."""
from __future__ import annotations

from dataclasses import dataclass, field

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


def bar_chart(title: str, items: list[tuple[str, int]], headers: tuple[str, str], colours: list[str] | None = None):
    colours = colours or PALETTE
    bars = [Bar(label, value, colours[i % len(colours)]) for i, (label, value) in enumerate(items)]
    return BarChart(title=title, bars=bars, headers=headers).layout()


def line_chart(title: str, points: list[tuple[str, int]], headers: tuple[str, str]):
    return LineChart(title=title, points=points, headers=headers).layout()
