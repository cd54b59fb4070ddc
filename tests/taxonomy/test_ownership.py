"""Ownership (控股情况) from a registration type: labelled examples, pure."""

import pytest

from service.taxonomy.ownership import ownership_from_registration_type

LABELLED = [
    # 企业登记注册类型 (统计用, 1998/2011)
    ("国有企业", "state"),
    ("国有独资公司", "state"),
    ("国有联营企业", "state"),
    ("集体企业", "collective"),
    ("集体联营企业", "collective"),
    ("股份合作企业", "collective"),
    ("私营独资企业", "private"),
    ("私营合伙企业", "private"),
    ("私营有限责任公司", "private"),
    ("私营股份有限公司", "private"),
    ("个人独资企业", "private"),
    ("合资经营企业（港或澳、台资）", "hmt"),
    ("港澳台商独资经营企业", "hmt"),
    ("港、澳、台商投资股份有限公司", "hmt"),
    ("中外合资经营企业", "foreign"),
    ("中外合作经营企业", "foreign"),
    ("外商独资企业", "foreign"),
    ("外商投资股份有限公司", "foreign"),
    # 营业执照上的“类型”
    ("有限责任公司（自然人独资）", "private"),
    ("有限责任公司(自然人投资或控股)", "private"),
    ("股份有限公司（非上市、自然人投资或控股）", "private"),
    ("有限责任公司（国有独资）", "state"),
    ("有限责任公司（国有控股）", "state"),
    ("全民所有制", "state"),
    ("集体所有制", "collective"),
    ("有限责任公司（外国法人独资）", "foreign"),
    ("有限责任公司（外国自然人独资）", "foreign"),
    ("有限责任公司(外商投资、非独资)", "foreign"),
    ("有限责任公司（台港澳法人独资）", "hmt"),
    ("有限责任公司（台港澳与境内合资）", "hmt"),
    ("有限责任公司（台港澳自然人独资）", "hmt"),
    # Says nothing about who holds the capital.
    ("有限责任公司（非自然人投资或控股的法人独资）", None),
    ("其他有限责任公司", None),
    ("股份有限公司", None),
    ("联营企业", None),
    ("其他企业", None),
    ("普通合伙企业", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("text, expected", LABELLED)
def test_registration_type_to_ownership(text: str | None, expected: str | None) -> None:
    assert ownership_from_registration_type(text) == expected


def test_spaces_and_full_width_forms_do_not_matter() -> None:
    assert ownership_from_registration_type(" 有限责任公司 （ 自然人独资 ） ") == "private"
    assert ownership_from_registration_type("有限责任公司(台港澳法人独资)") == "hmt"
