"""A schematic map of Wuxi's districts as SVG drawn on the server: no script, no file from
outside. Pure: the shapes, the values and the names in, markup out.

No real boundary data is available offline, so the shapes (``seed/reference/
district_shapes.json``, keyed by the district codes of ``districts.json``) only keep the
districts' true relative positions — 梁溪 in the centre, 锡山 east, 惠山 north-west, 滨湖
south-west by the lake, 新吴 south-east, 江阴 north on the Yangtze, 宜兴 south-west by Taihu —
and the map says so (示意图). Each district is shaded by its value on one sequential scale
(darker is more), labelled with its name and value, and a legend gives the scale."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from service.core.settings import project_root
from service.web.charts import FONT

LIGHT = (239, 246, 255)  # the lowest value
DARK = (30, 58, 138)  # the highest
NO_DATA = "#e5e7eb"
LEGEND_STEPS = 5
NAME_LINE = 4  # characters of a name's line inside a shape
SCHEMATIC_NOTE = "示意图：仅示意各区相对位置，非实际边界"


@dataclass(frozen=True)
class Shape:
    points: tuple[tuple[float, float], ...]
    label: tuple[float, float]


@dataclass(frozen=True)
class Shapes:
    width: int
    height: int
    districts: Mapping[str, Shape]
    water: tuple[tuple[str, Shape], ...]


def parse_shapes(data: Mapping[str, Any]) -> Shapes:
    def shape(item: Mapping[str, Any]) -> Shape:
        return Shape(
            tuple((float(x), float(y)) for x, y in item["points"]),
            (float(item["label"][0]), float(item["label"][1])),
        )

    return Shapes(
        width=int(data["width"]),
        height=int(data["height"]),
        districts={code: shape(item) for code, item in data["districts"].items()},
        water=tuple((w["name"], shape(w)) for w in data.get("water", [])),
    )


@cache
def load_shapes(path: Path | None = None) -> Shapes:
    """The shapes kept with the reference data."""
    path = path or project_root() / "seed" / "reference" / "district_shapes.json"
    return parse_shapes(json.loads(path.read_text(encoding="utf-8")))


def shade(value: float | None, peak: float) -> str:
    """The fill of a value on the scale 0..peak: lighter to darker, monotone; grey for none."""
    if value is None:
        return NO_DATA
    t = 0.0 if peak <= 0 else min(1.0, max(0.0, value / peak))
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(LIGHT, DARK, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _ink(value: float | None, peak: float) -> str:
    """Text that reads on the fill: white on the darker half."""
    return "#ffffff" if value is not None and peak > 0 and value / peak > 0.55 else "#111827"


def name_lines(name: str, width: int = NAME_LINE) -> list[str]:
    """A long name (无锡经济开发区) on lines that fit its small shape; whole."""
    if len(name) <= width + 1:
        return [name]
    return [name[i : i + width] for i in range(0, len(name), width)]


def _points(shape: Shape) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in shape.points)


def district_map(
    shapes: Shapes,
    values: Mapping[str, float | None],
    names: Mapping[str, str],
    measure: str,
    show: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """Every district of ``shapes`` shaded by ``values[code]`` (absent or None: 无数据), with
    its name and value, the water for orientation, a legend and the schematic note."""
    known = [v for v in values.values() if v is not None]
    peak = max(known, default=0.0)
    legend_h = 64
    width, height = shapes.width, shapes.height + legend_h
    body: list[str] = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for name, water in shapes.water:
        lx, ly = water.label
        body.append(
            f'<polygon points="{_points(water)}" fill="#bfdbfe" stroke="#93c5fd">'
            f"<title>{escape(name)}</title></polygon>"
            f'<text x="{lx:g}" y="{ly:g}" text-anchor="middle" fill="#1e40af" '
            f'font-style="italic">{escape(name)}</text>'
        )
    labels: list[str] = []
    for code, shape in shapes.districts.items():
        value = values.get(code)
        name = names.get(code, code)
        shown = "无数据" if value is None else show(value)
        lx, ly = shape.label
        ink = _ink(value, peak)
        # A halo keeps dark text legible where it runs over a neighbour or a border.
        halo = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if ink != "#ffffff" else ""
        lines = name_lines(name)
        top = ly - 3 - (len(lines) - 1) * 14
        spans = "".join(
            f'<tspan x="{lx:g}" y="{top + k * 14:g}">{escape(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        body.append(
            f'<g class="district" data-district="{escape(code)}">'
            f'<polygon points="{_points(shape)}" fill="{shade(value, peak)}" stroke="#ffffff" '
            f'stroke-width="2"><title>{escape(name)}：{escape(shown)}</title></polygon></g>'
        )
        # Names and values after every shape, so that no neighbour covers them.
        labels.append(
            f'<text text-anchor="middle" fill="{ink}" font-weight="bold"{halo}>{spans}</text>'
            f'<text x="{lx:g}" y="{ly + 13:g}" text-anchor="middle" fill="{ink}"{halo}>'
            f"{escape(shown)}</text>"
        )
    body.append(f'<g class="labels">{"".join(labels)}</g>')
    body.append(_legend(peak, shapes.height + 8, width, measure, show))
    body.append(
        f'<text x="{width - 6}" y="{shapes.height - 6}" text-anchor="end" fill="#6b7280">'
        f"{escape(SCHEMATIC_NOTE)}</text>"
    )
    title = f"无锡各区{measure}（示意图）"
    return Markup(
        f'<svg class="chart map" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT} '
        f'font-size="12"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def legend_values(peak: float, steps: int = LEGEND_STEPS) -> list[float]:
    """The values the legend's swatches stand for: 0 to the peak in equal steps."""
    return [peak * i / (steps - 1) for i in range(steps)]


def _legend(peak: float, top: float, width: int, measure: str, show: Callable[[float], str]) -> str:
    parts = [f'<g class="legend"><text x="8" y="{top + 12:g}">图例：{escape(measure)}</text>']
    swatch = (width - 16) / (LEGEND_STEPS + 1)
    for i, value in enumerate(legend_values(peak)):
        x = 8 + i * swatch
        parts.append(
            f'<rect x="{x:.1f}" y="{top + 20:g}" width="{swatch - 4:.1f}" height="14" '
            f'fill="{shade(value, peak)}" stroke="#9ca3af"/>'
            f'<text x="{x:.1f}" y="{top + 48:g}">{escape(show(value))}</text>'
        )
    x = 8 + LEGEND_STEPS * swatch
    parts.append(
        f'<rect x="{x:.1f}" y="{top + 20:g}" width="{swatch - 4:.1f}" height="14" '
        f'fill="{NO_DATA}" stroke="#9ca3af"/><text x="{x:.1f}" y="{top + 48:g}">无数据</text></g>'
    )
    return "".join(parts)
