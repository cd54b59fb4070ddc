"""The server-drawn SVG charts: proportions, escaping, empty data."""

import xml.etree.ElementTree as ET

from service.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


def test_bars_are_proportional_to_the_values() -> None:
    svg = charts.bar_chart(["甲", "乙"], [charts.Series("线索", [10, 5])], "t")
    rects = [r for r in _parse(svg).iter(f"{SVG}rect")]
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == 2 * widths[1] > 0


def test_a_zero_value_draws_no_bar_and_every_label_is_shown() -> None:
    svg = charts.bar_chart(
        ["甲", "乙"], [charts.Series("a", [3, 0]), charts.Series("b", [1, 2])], "t"
    )
    root = _parse(svg)
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("height") == "12"]
    assert 0.0 in widths
    texts = "".join(root.itertext())
    assert "甲" in texts and "乙" in texts


def test_text_is_escaped() -> None:
    evil = '<script>alert(1)</script>&"'
    for svg in (
        charts.bar_chart([evil], [charts.Series(evil, [1])], evil),
        charts.funnel_chart([(evil, 3), ("b", 1)], evil),
        charts.trend_chart([evil, "x"], [charts.Series(evil, [1, 2])], evil),
    ):
        assert "<script>" not in svg
        _parse(svg)


def test_funnel_shares_are_of_the_first_stage() -> None:
    svg = charts.funnel_chart([("线索", 8), ("已联系", 4), ("已放款", 2)], "漏斗")
    text = "".join(_parse(svg).itertext())
    assert "4（50.0%）" in text and "2（25.0%）" in text


def test_trend_draws_one_line_per_series_through_every_point() -> None:
    svg = charts.trend_chart(
        ["2026-01", "2026-02", "2026-03"],
        [charts.Series("线索", [1, 4, 2]), charts.Series("放款", [0, 1, 1])],
        "趋势",
    )
    root = _parse(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert all(len(line.get("points").split()) == 3 for line in lines)
    # the highest point touches the top of the plot
    ys = [float(p.split(",")[1]) for p in lines[0].get("points").split()]
    assert min(ys) == ys[1]


def test_no_data_says_so() -> None:
    for svg in (
        charts.bar_chart([], [], "t"),
        charts.bar_chart(["a"], [charts.Series("s", [0])], "t"),
        charts.funnel_chart([("线索", 0)], "t"),
        charts.trend_chart([], [], "t"),
    ):
        assert "暂无数据" in svg


def test_a_single_month_is_a_point_in_the_middle() -> None:
    svg = charts.trend_chart(["2026-11"], [charts.Series("s", [3])], "t")
    root = _parse(svg)
    circle = next(root.iter(f"{SVG}circle"))
    axis = next(root.iter(f"{SVG}line"))  # the x axis, from the plot's left to its right
    left, right = float(axis.get("x1")), float(axis.get("x2"))
    assert float(circle.get("cx")) == (left + right) / 2


def test_months_between_are_filled() -> None:
    from service.web.dashboard import month_range

    assert month_range("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert month_range("2026-05", "2026-05") == ["2026-05"]


def _font_sizes(svg: str) -> list[int]:
    import re

    return [int(size) for size in re.findall(r'font-size="(\d+)', str(svg))]


def test_every_chart_reads_at_12_px_or_more() -> None:
    for svg in (
        charts.bar_chart(["甲"], [charts.Series("线索", [1])], "t"),
        charts.funnel_chart([("线索", 3), ("已联系", 1)], "t"),
        charts.trend_chart(["2026-10", "2026-11"], [charts.Series("s", [1, 2])], "t"),
    ):
        sizes = _font_sizes(svg)
        assert sizes and min(sizes) >= 12


def test_a_long_bank_name_is_wrapped_whole_and_values_are_printed() -> None:
    name = "无锡农村商业银行股份有限公司新吴科技支行"
    svg = charts.bar_chart(
        [name, "甲"],
        [charts.Series("联系率", [0.75, 0.5])],
        "t",
        show=lambda v: f"{v * 100:.1f}%",
        reference=charts.Reference("全市", 0.6),
    )
    root = _parse(svg)
    label = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "label")
    spans = [s.text for s in label.iter(f"{SVG}tspan")]
    assert len(spans) > 1 and "".join(spans) == name  # wrapped onto lines, nothing cut
    texts = "".join(root.itertext())
    assert "75.0%" in texts and "50.0%" in texts and "全市 60.0%" in texts
    line = next(root.iter(f"{SVG}line"))
    assert line.get("class") == "reference"
