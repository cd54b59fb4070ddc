"""Charts as SVG drawn on the server: no script, no asset from outside. Pure: data in, markup
out. Every text is escaped; sizes come from a viewBox, so a chart fits a phone as a desk."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2")
FONT = 'font-family="Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _num(value: float) -> str:
    """A figure as a label: integers without decimals, others to one place."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    t = escape(title)
    attribute = escape(title, {'"': "&quot;"})
    return Markup(
        f'<svg class="chart" role="img" aria-label="{attribute}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
        f"<title>{t}</title>{''.join(body)}</svg>"
    )


def _empty(title: str) -> Markup:
    return _svg(
        400, 60, title, ['<text x="200" y="35" text-anchor="middle" fill="#6b7280">暂无数据</text>']
    )


LINE_CHARS = 8  # characters of a wrapped label line beside a bar (12 px each)
LINE_H = 15


CLOSING = "）)」》】，。、；：！？"


def wrap(label: str, width: int = LINE_CHARS) -> list[str]:
    """A label cut into lines of about ``width`` characters, whole: nothing is dropped; a
    closing bracket or punctuation stays at the end of its line, never starts one."""
    lines: list[str] = []
    for i in range(0, len(label), width):
        line = label[i : i + width]
        while lines and line and line[0] in CLOSING:
            lines[-1], line = lines[-1] + line[0], line[1:]
        if line:
            lines.append(line)
    return lines or [""]


@dataclass(frozen=True)
class Reference:
    """A marked value across every group of bars, e.g. the city's average."""

    label: str
    value: float


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    unit: str = "",
    show: Callable[[float], str] | None = None,
    reference: Reference | None = None,
) -> Markup:
    """Horizontal bars, one group per label and one bar per series (long Chinese labels
    read better beside a bar than under it, wrapped onto lines, never cut), each with its
    value printed after it (``show`` formats it); a ``reference`` is a dashed line across
    the groups with its label and value."""
    if not labels or not series or not any(v for s in series for v in s.values):
        return _empty(title)
    fmt = show or _num
    peak = max([*(max(s.values) for s in series), reference.value if reference else 0]) or 1
    # room for a line and the closing punctuation kept at its end (``wrap``)
    label_w, bar_h, gap, width = 132, 14, 10, 480
    plot_w = width - label_w - 70
    legend_h = 22 if len(series) > 1 or reference else 0
    lines = [wrap(label) for label in labels]
    heights = [max(bar_h * len(series), LINE_H * len(ls)) + gap for ls in lines]
    height = legend_h + sum(heights) + 10
    body: list[str] = []
    for i, s in enumerate(series if len(series) > 1 else []):
        x = label_w + i * 110
        body.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[i % 6]}"/>')
        body.append(f'<text x="{x + 16}" y="14">{escape(s.name)}</text>')
    top = legend_h
    for row, label in enumerate(labels):
        group_h = heights[row]
        first = top + (group_h - gap) / 2 - (len(lines[row]) - 1) * LINE_H / 2
        spans = "".join(
            f'<tspan x="{label_w - 6}" y="{first + k * LINE_H:.1f}">{escape(line)}</tspan>'
            for k, line in enumerate(lines[row])
        )
        body.append(
            f'<text class="label" text-anchor="end" dominant-baseline="middle">'
            f"<title>{escape(label)}</title>{spans}</text>"
        )
        bars_top = top + (group_h - gap - bar_h * len(series)) / 2
        for i, s in enumerate(series):
            value = s.values[row]
            w = 0 if value <= 0 else max(1.0, plot_w * value / peak)
            y = bars_top + i * bar_h
            body.append(
                f'<rect x="{label_w}" y="{y:g}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{PALETTE[i % 6]}"><title>{escape(s.name)} {escape(label)}：'
                f"{escape(fmt(value))}{escape(unit)}</title></rect>"
            )
            body.append(
                f'<text class="value" x="{label_w + w + 4:.1f}" y="{y + bar_h / 2:g}" '
                f'dominant-baseline="middle" fill="#374151">{escape(fmt(value))}</text>'
            )
        top += group_h
    if reference is not None:
        rx = label_w + plot_w * reference.value / peak
        text = f"{reference.label} {fmt(reference.value)}"
        body.append(
            f'<line class="reference" x1="{rx:.1f}" y1="{legend_h - 4}" x2="{rx:.1f}" '
            f'y2="{top}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="4 3">'
            f"<title>{escape(text)}</title></line>"
        )
        anchor = "end" if rx > width - 90 else "start"
        body.append(
            f'<text x="{rx + (-4 if anchor == "end" else 4):.1f}" y="14" text-anchor="{anchor}" '
            f'fill="#dc2626">{escape(text)}</text>'
        )
    return _svg(width, int(height), title, body)


def funnel_chart(stages: Sequence[tuple[str, int]], title: str) -> Markup:
    """Stages as centred bars narrowing with the count, each with its share of the first."""
    if not stages or stages[0][1] <= 0:
        return _empty(title)
    first = stages[0][1]
    width, step, label_w = 480, 34, 70
    plot_w = width - label_w - 110
    body: list[str] = []
    for i, (label, count) in enumerate(stages):
        w = max(2.0, plot_w * count / first)
        x = label_w + (plot_w - w) / 2
        y = 6 + i * step
        share = count / first * 100
        body.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{step - 6}" rx="3" '
            f'fill="{PALETTE[0]}" fill-opacity="{1 - i * 0.12:.2f}">'
            f"<title>{escape(label)}：{count}（{share:.1f}%）</title></rect>"
        )
        body.append(
            f'<text x="{label_w - 8}" y="{y + (step - 6) / 2}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(label)}</text>'
        )
        body.append(
            f'<text x="{label_w + plot_w + 8}" y="{y + (step - 6) / 2}" '
            f'dominant-baseline="middle">{count:,}（{share:.1f}%）</text>'
        )
    return _svg(width, 6 + len(stages) * step, title, body)


def trend_chart(labels: Sequence[str], series: Sequence[Series], title: str) -> Markup:
    """Lines over months (labels in order), with a dot and a hover title per point."""
    if not labels or not series or not any(v for s in series for v in s.values):
        return _empty(title)
    width, height, left, right, top, bottom = 480, 240, 44, 16, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(s.values) for s in series) or 1
    n = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_num(peak)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    every = max(1, (n + 5) // 6)  # at most about six month labels
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            body.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    for k, s in enumerate(series):
        colour = PALETTE[k % 6]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(s.values):
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(s.name)} {escape(labels[i])}：{_num(v)}</title></circle>"
            )
        lx = left + k * 100
        body.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{lx + 16}" y="16">{escape(s.name)}</text>')
    return _svg(width, height, title, body)
