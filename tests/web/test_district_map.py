"""The schematic district map: every district of the reference data drawn with its name and
value, shading darker as the value grows, a legend, and the schematic note."""

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from service.web import district_map
from service.web.district_map import district_map as draw
from service.web.district_map import load_shapes, shade

ROOT = Path(__file__).resolve().parents[2]
DISTRICTS = json.loads((ROOT / "seed" / "reference" / "districts.json").read_text("utf-8"))
NAMES = {d["code"]: d["name"] for d in DISTRICTS}


def _darkness(colour: str) -> int:
    return -sum(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_every_district_of_the_reference_data_has_a_shape() -> None:
    shapes = load_shapes()
    assert set(shapes.districts) == set(NAMES)
    for shape in shapes.districts.values():
        assert len(shape.points) >= 3
        x, y = shape.label
        assert 0 <= x <= shapes.width and 0 <= y <= shapes.height


def test_the_districts_sit_in_their_true_relative_places() -> None:
    centre = {code: s.label for code, s in load_shapes().districts.items()}
    lx, ly = centre["liangxi"]
    assert centre["xishan"][0] > lx  # east
    assert centre["huishan"][0] < lx and centre["huishan"][1] < ly  # north-west
    assert centre["binhu"][0] < lx and centre["binhu"][1] > ly  # south-west
    assert centre["xinwu"][0] > lx and centre["xinwu"][1] > ly  # south-east
    assert centre["jiangyin"][1] < min(
        y for _, y in centre.values() if (_, y) != centre["jiangyin"]
    )
    assert centre["yixing"][0] < lx and centre["yixing"][1] > centre["binhu"][1]


def test_every_district_drawn_with_name_value_legend_and_note() -> None:
    values = {code: float(i * 10) for i, code in enumerate(NAMES)}
    values["jingkai"] = None  # type: ignore[assignment]
    svg = str(draw(load_shapes(), values, NAMES, "融资需求（笔）"))
    assert svg.count('class="district"') == len(NAMES)
    for code, name in NAMES.items():
        assert f'data-district="{code}"' in svg and name in svg
    assert ">60<" in svg and "无数据" in svg
    assert "图例：融资需求（笔）" in svg and "示意图" in svg
    assert "<script" not in svg and "href" not in svg
    sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', svg)]
    assert sizes and min(sizes) >= 12


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(1, 1e6))
def test_shading_is_monotone_in_the_value(a: float, b: float, peak: float) -> None:
    low, high = sorted((min(a, peak), min(b, peak)))
    assert _darkness(shade(low, peak)) <= _darkness(shade(high, peak))


def test_the_legend_runs_from_zero_to_the_peak() -> None:
    assert district_map.legend_values(200.0) == [0.0, 50.0, 100.0, 150.0, 200.0]
    assert shade(None, 10) == district_map.NO_DATA
    assert shade(0, 0) == shade(0, 10)  # nothing anywhere is the lightest, not an error


def test_names_are_escaped() -> None:
    svg = str(draw(load_shapes(), {"liangxi": 1.0}, {"liangxi": "<b>&"}, "<m>"))
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
