"""Reading library spreadsheets into rows (pure), and what a row does to the library (pure)."""

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.access.models import Role
from service.access.policy import Principal
from service.core.settings import project_root
from service.core.tables import FileError, read_table
from service.enterprises import imports, merge
from service.enterprises.import_service import references
from service.enterprises.models import RowAction
from tests.spreadsheets import xlsx

OFFICE = Principal(Role.office, key_id=7)
CODE = "91320200134757148J"  # a valid code registered in Wuxi (320200)
OTHER = "914403001922038216"  # a valid code registered in Shenzhen
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def refs(session: Any) -> imports.References:
    return references(session, today=date(2026, 12, 1))


def rows_of(table: list[list[Any]], refs: imports.References, kind: str = "enterprise") -> list:
    return list(imports.read_rows(iter(table), kind, refs))


def one(header: list[str], cells: list[Any], refs: imports.References) -> imports.Row:
    (row,) = rows_of([header, cells], refs)
    return row


def codes(row: imports.Row) -> dict[str, str]:
    return {e.field: e.code for e in row.errors}


# --- headers --------------------------------------------------------------------------------


def test_chinese_and_english_headers_in_any_order_with_units(refs: imports.References) -> None:
    chinese = one(
        [
            "资产总额（亿元）",
            " 企业名称 ",
            "营业收入（单位：万元）",
            "统一社会信用代码",
            "从业人员（人）",
            "所属地区",
            "产业集群",
            "行业代码",
            "控股情况",
            "成立日期",
            "信用等级",
        ],
        [
            "1.2",
            "无锡华光电子股份有限公司",
            "18500.5",
            CODE,
            "260",
            "新吴",
            "集成电路",
            "3973",
            "私人控股",
            "2009-06-18",
            "aa+",
        ],
        refs,
    )
    assert not chinese.errors, chinese.errors
    english = one(
        [
            "credit_code",
            "revenue_wan",
            "total_assets_yi",
            "name",
            "employees",
            "district",
            "cluster",
            "industry_code",
            "ownership",
            "established_date",
            "credit_grade",
        ],
        [
            CODE,
            18500.5,
            1.2,
            "无锡华光电子股份有限公司",
            260,
            "xinwu",
            "ic",
            "C3973",
            "private",
            date(2009, 6, 18),
            "AA+",
        ],
        refs,
    )
    expected = {
        "name": "无锡华光电子股份有限公司",
        "district_code": "xinwu",
        "industry_code": "C3973",
        "cluster_code": "ic",
        "ownership": "private",
        "employees": 260,
        "revenue_fen": 18_500_500_000,
        "total_assets_fen": 12_000_000_000,
        "established_date": "2009-06-18",
        "credit_grade": "AA+",
    }
    assert chinese.values == expected
    assert english.values == expected
    assert chinese.credit_code == english.credit_code == CODE
    assert chinese.line == 2


def test_district_by_name_short_name_code_or_area_code(refs: imports.References) -> None:
    table = [
        ["统一社会信用代码", "区县"],
        *([CODE, d] for d in ("新吴区", "新吴", "XINWU", "320214")),
    ]
    assert {r.values["district_code"] for r in rows_of(table, refs)} == {"xinwu"}


def test_a_field_in_two_columns_or_no_credit_code_column_is_refused(
    refs: imports.References,
) -> None:
    with pytest.raises(FileError) as twice:
        rows_of([["统一社会信用代码", "营业收入（万元）", "revenue_yuan"], [CODE, 1, 1]], refs)
    assert twice.value.code == "duplicate_column" and twice.value.extra["columns"] == [2, 3]
    with pytest.raises(FileError) as missing:
        rows_of([["企业名称", "从业人员"], ["无锡甲公司", 1]], refs)
    assert missing.value.code == "missing_columns"
    assert missing.value.extra["missing"] == ["统一社会信用代码"]


def test_unknown_columns_are_ignored_and_blank_rows_skipped(refs: imports.References) -> None:
    table = [["备注", "统一社会信用代码"], ["随便写", CODE], [], ["", "  "], [None, OTHER]]
    rows = rows_of(table, refs)
    assert [r.line for r in rows] == [2, 5]
    assert all(not r.errors for r in rows)


# --- amounts and units ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "cell", "fen"),
    [
        ("营业收入", "3000万", 30_000_000_00),
        ("营业收入", "1.2亿元", 120_000_000_00),
        ("营业收入", "18,500元", 18_500_00),
        ("营业收入（万元）", "1.2亿", 120_000_000_00),  # the cell's unit wins
        ("营业收入（元）", 1234.56, 123_456),
        ("营业收入(亿元)", "0.5", 50_000_000_00),
        ("revenue_fen", 7, 7),
        ("营业收入（万元）", "0", 0),
    ],
)
def test_money_with_its_unit_in_the_header_or_the_cell(
    refs: imports.References, header: str, cell: Any, fen: int
) -> None:
    row = one(["统一社会信用代码", header], [CODE, cell], refs)
    assert not row.errors and row.values["revenue_fen"] == fen


@pytest.mark.parametrize(
    ("header", "cell", "code"),
    [
        ("营业收入", "18500", "unit_required"),  # 元 or 万元? never guessed
        ("营业收入（万元）", "-5", "negative_amount"),
        ("营业收入（万元）", "很多", "invalid_amount"),
        ("营业收入（元）", "0.001", "fraction_of_fen"),
        ("营业收入（万元）", "0.0000001", "fraction_of_fen"),
        ("营业收入（亿元）", "1e9", "amount_too_large"),
    ],
)
def test_bad_amounts_are_refused_with_their_code(
    refs: imports.References, header: str, cell: Any, code: str
) -> None:
    row = one(["统一社会信用代码", header], [CODE, cell], refs)
    assert codes(row) == {"revenue_fen": code}
    assert row.errors[0].message.startswith("第 2 行：营业收入")
    assert "revenue_fen" not in row.values


@pytest.mark.parametrize(
    ("cell", "code"),
    [("-3", "negative_count"), ("2.5", "invalid_count"), ("许多", "invalid_count")],
)
def test_bad_head_counts(refs: imports.References, cell: str, code: str) -> None:
    assert codes(one(["统一社会信用代码", "从业人员（人）"], [CODE, cell], refs)) == {
        "employees": code
    }


# --- every reason for every bad row ---------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "cell", "field", "code"),
    [
        ("统一社会信用代码", "91320200134757148K", "credit_code", "invalid_credit_code_checksum"),
        ("统一社会信用代码", "9132020013475714", "credit_code", "invalid_credit_code_length"),
        ("统一社会信用代码", "", "credit_code", "missing_credit_code"),
        ("所属地区", "火星区", "district_code", "unknown_district"),
        ("产业集群", "造船", "cluster_code", "unknown_cluster"),
        ("行业代码", "Z99", "industry_code", "invalid_industry_code"),
        ("行业代码", "C0101", "industry_code", "invalid_industry_code"),
        ("控股情况", "不知道", "ownership", "unknown_ownership"),
        ("信用等级", "AAAA", "credit_grade", "invalid_credit_grade"),
        ("成立日期", "2026-02-30", "established_date", "invalid_date"),
        ("成立日期", "明年", "established_date", "invalid_date"),
        ("成立日期", "2027-01-01", "established_date", "date_in_future"),
        ("邮箱", "not-an-email", "contact_email", "invalid_email"),
        ("企业名称", "x" * 201, "name", "too_long"),
    ],
)
def test_each_bad_cell_rejects_the_row_naming_field_code_and_row(
    refs: imports.References, column: str, cell: str, field: str, code: str
) -> None:
    header = ["统一社会信用代码", "联系人"] if column != "统一社会信用代码" else [column]
    values = [CODE, "王敏"] if column != "统一社会信用代码" else [cell]
    if column != "统一社会信用代码":
        header.append(column)
        values.append(cell)
    if column == "统一社会信用代码" and cell == "":
        header, values = [column, "企业名称"], ["", "无锡某公司"]
    row = one(header, values, refs)
    assert codes(row) == {field: code}, row.errors
    assert row.errors[0].message.startswith("第 2 行：")


def test_a_row_carries_every_reason_at_once(refs: imports.References) -> None:
    row = one(
        ["统一社会信用代码", "所属地区", "营业收入", "信用等级", "从业人员"],
        ["91320200134757148K", "火星区", "-1万", "Z", "-2"],
        refs,
    )
    assert codes(row) == {
        "credit_code": "invalid_credit_code_checksum",
        "district_code": "unknown_district",
        "revenue_fen": "negative_amount",
        "credit_grade": "invalid_credit_grade",
        "employees": "negative_count",
    }
    assert row.written_code == "91320200134757148K" and row.credit_code is None


def test_formula_looking_text_is_kept_as_text(refs: imports.References) -> None:
    name = '=HYPERLINK("http://evil.example","点我")'
    row = one(
        ["统一社会信用代码", "企业名称", "联系人", "联系电话"],
        [CODE, name, "@王", "+86 510 1"],
        refs,
    )
    assert not row.errors
    assert row.values["name"] == name
    assert row.values["contact"] == {"name": "@王", "phone": "+86 510 1"}


def test_a_nul_character_rejects_the_row_and_a_csv_holding_one_is_refused(
    refs: imports.References,
) -> None:
    row = one(["统一社会信用代码", "企业名称"], [CODE, "无锡\x00公司"], refs)
    assert codes(row) == {"name": "nul_character"}
    content = f"统一社会信用代码,企业名称\n{CODE},无锡\x00公司\n".encode()
    with pytest.raises(FileError) as refused:
        list(read_table(content, "a.csv", imports.LIMITS))
    assert refused.value.code == "nul_character"


def test_a_quote_doubled_in_a_late_cell_is_read_as_written(refs: imports.References) -> None:
    """The CSV dialect is sniffed from the first 4 KB; a quoted cell with a doubled quote after
    that is still read as RFC 4180 writes it."""
    filler = "".join(f"{CODE},无锡填充{i}有限公司,\n" for i in range(120))
    content = (
        "统一社会信用代码,企业名称,资质\n"
        + filler
        + f'{OTHER},深圳某公司,"专精特新""小巨人""企业 2025-08-25"\n'
    ).encode()
    table = list(read_table(content, "a.csv", imports.LIMITS))
    assert table[-1][2] == '专精特新"小巨人"企业 2025-08-25'
    last = rows_of(table, refs)[-1]
    assert last.values["qualifications"] == [["little_giant", "2025-08-25"]] or last.values[
        "qualifications"
    ] == [("little_giant", "2025-08-25")]


# --- qualifications, contact, ownership, consent --------------------------------------------


def test_qualifications_in_one_column_and_per_type_columns(refs: imports.References) -> None:
    row = one(
        ["统一社会信用代码", "资质", "高新技术企业认定日期", "srdi_sme", "企业技术中心"],
        [
            CODE,
            "高新技术企业 2024-12-01；专精特新中小企业(2025-03-01)、小巨人：2025年7月1日",
            "2024-12-01",  # the same one: once
            "2025/3/1",
            None,
        ],
        refs,
    )
    assert not row.errors, row.errors
    assert [tuple(q) for q in row.values["qualifications"]] == [
        ("high_tech", "2024-12-01"),
        ("little_giant", "2025-07-01"),
        ("srdi_sme", "2025-03-01"),
    ]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("高新技术企业", "missing_qualification_date"),
        ("绿色工厂 2024-01-01", "unknown_qualification"),  # national or provincial?
        ("独角兽 2024-01-01", "unknown_qualification"),
        ("高新技术企业 2024-02-30", "invalid_date"),
        ("高新技术企业 2030-01-01", "date_in_future"),
    ],
)
def test_bad_qualifications(refs: imports.References, cell: str, code: str) -> None:
    row = one(["统一社会信用代码", "资质"], [CODE, cell], refs)
    assert codes(row) == {"qualifications": code}


def test_contact_fields_need_a_name(refs: imports.References) -> None:
    row = one(["统一社会信用代码", "联系电话", "职务"], [CODE, "0510-1", "经理"], refs)
    assert codes(row) == {"contact_name": "missing_contact_name"}


def test_ownership_from_the_registration_type_or_a_warning(refs: imports.References) -> None:
    derived = one(["统一社会信用代码", "登记注册类型"], [CODE, "私营有限责任公司"], refs)
    assert derived.values["ownership"] == "private" and not derived.warnings
    unknown = one(["统一社会信用代码", "登记注册类型"], [CODE, "股份有限公司"], refs)
    assert "ownership" not in unknown.values and not unknown.errors
    assert [w.code for w in unknown.warnings] == ["undetermined_ownership"]
    stated = one(
        ["统一社会信用代码", "控股情况", "登记注册类型"], [CODE, "3", "外商独资企业"], refs
    )
    assert stated.values["ownership"] == "private"  # the statistics code 3: 私人控股


@pytest.mark.parametrize("word", ["是", "同意", "Y", "yes", "TRUE", "1", True])
def test_consent_words_yes(refs: imports.References, word: Any) -> None:
    row = one(
        ["统一社会信用代码", "授权共享", "申报表编号", "申报表签署日期"],
        [CODE, word, "锡金融入库〔2026〕0001号", "2026-01-05"],
        refs,
    )
    assert row.values["consent"] == {
        "given": True,
        "form_ref": "锡金融入库〔2026〕0001号",
        "form_signed_on": "2026-01-05",
    }


@pytest.mark.parametrize(
    ("cells", "field", "code"),
    [
        (["是", "", ""], "consent_form_ref", "consent_form_required"),
        (["否", "锡金融入库〔2026〕0001号", ""], "consent_form_signed_on", "consent_form_required"),
        (
            ["", "锡金融入库〔2026〕0001号", "2026-01-05"],
            "share_with_banks",
            "consent_choice_required",
        ),
        (["也许", "锡金融入库〔2026〕0001号", "2026-01-05"], "share_with_banks", "invalid_yes_no"),
        (
            ["是", "锡金融入库〔2026〕0001号", "2027-01-05"],
            "consent_form_signed_on",
            "date_in_future",
        ),
    ],
)
def test_consent_needs_its_signed_form(
    refs: imports.References, cells: list[str], field: str, code: str
) -> None:
    row = one(
        ["统一社会信用代码", "是否同意向银行共享", "申报表编号", "申报表签署日期"],
        [CODE, *cells],
        refs,
    )
    assert codes(row) == {field: code}
    assert "consent" not in row.values


def test_csv_in_gb18030_with_a_bom_and_xlsx_read_alike(refs: imports.References) -> None:
    header = ["统一社会信用代码", "企业名称", "营业收入（万元）"]
    line = [CODE, "无锡华光电子股份有限公司", "12.5"]
    text = ",".join(header) + "\r\n" + ",".join(line) + "\r\n"
    for content, name in (
        (text.encode("gb18030"), "a.csv"),
        (("\ufeff" + text).encode("utf-8"), "a.csv"),
        (xlsx([header, [CODE, "无锡华光电子股份有限公司", 12.5]]), "a.xlsx"),
    ):
        (row,) = rows_of(list(read_table(content, name, imports.LIMITS)), refs)
        assert row.values == {"name": line[1], "revenue_fen": 12_500_000}, name


# --- projects -------------------------------------------------------------------------------


def test_project_rows(refs: imports.References) -> None:
    table = [
        [
            "项目名称",
            "项目类型",
            "总投资（亿元）",
            "设备投资（万元）",
            "融资需求",
            "年度",
            "状态",
            "统一社会信用代码",
            "所属名单",
        ],
        [
            "12英寸产线智改数转项目",
            "智改数转",
            "1.2",
            "8000",
            "3000万",
            "2026年",
            "在建",
            CODE,
            "2026年无锡市重大产业项目",
        ],
        ["", "研发", "1", "", "", "2026", "", CODE, ""],
        ["扩产项目", "造房子", "x", "", "", "1999", "拆了", CODE, ""],
    ]
    good, unnamed, bad = rows_of(table, refs, "project")
    assert not good.errors
    assert good.values == {
        "name": "12英寸产线智改数转项目",
        "kind": "intelligent_digital",
        "total_investment_fen": 12_000_000_000,
        "equipment_investment_fen": 8_000_000_000,
        "financing_need_fen": 3_000_000_000,
        "year": 2026,
        "status": "under_construction",
        "listed_in": "2026年无锡市重大产业项目",
    }
    assert good.key == f"{CODE}:12英寸产线智改数转项目"
    assert codes(unnamed) == {"name": "missing_project_name"} and unnamed.key is None
    assert codes(bad) == {
        "kind": "unknown_kind",
        "total_investment_fen": "invalid_amount",
        "year": "invalid_year",
        "status": "unknown_status",
    }


# --- what a row does to the library ---------------------------------------------------------


def held(**columns: Any) -> merge.HeldEnterprise:
    base = {
        "id": 5,
        "credit_code": CODE,
        "name": "无锡华光电子股份有限公司",
        "district_code": "xinwu",
        "industry_code": "C3973",
        "cluster_code": "ic",
        "chain_tag": None,
        "ownership": "private",
        "employees": 260,
        "revenue_fen": 18_500_000_000,
        "total_assets_fen": 32_000_000_000,
        "established_date": date(2009, 6, 18),
        "credit_grade": "A",
        "name_normalized": "华光电子",
        "size_class": "medium",
        "size_industry_key": "industry",
        "share_with_banks": False,
        "consent_source": None,
        "consent_recorded_by": None,
        "consent_recorded_at": None,
        "consent_form_ref": None,
        "consent_form_signed_on": None,
        "version": 3,
    }
    base.update(columns)
    contacts = [
        {
            "id": 11,
            "name": "王敏",
            "title": "财务总监",
            "phone": "0510-1",
            "email": None,
            "is_primary": True,
        }
    ]
    return merge.HeldEnterprise(base, {("high_tech", date(2024, 12, 1))}, contacts)


def plan(
    values: dict[str, Any], current: merge.HeldEnterprise | None, refs: imports.References
) -> merge.Plan:
    return merge.plan_enterprise(2, CODE, values, current, refs, OFFICE, NOW, "导入")


def test_only_the_fields_that_differ_change_and_a_blank_erases_nothing(
    refs: imports.References,
) -> None:
    same = plan({"name": "无锡华光电子股份有限公司", "employees": 260}, held(), refs)
    assert same.action == RowAction.unchanged and not same.changes and not same.columns
    changed = plan({"employees": 320, "established_date": "2009-06-18"}, held(), refs)
    assert changed.action == RowAction.update
    assert changed.changes == [{"field": "employees", "old": 260, "new": 320}]
    assert changed.columns["employees"] == 320 and "credit_grade" not in changed.columns


def test_qualifications_are_added_never_removed_and_contacts_matched_by_name(
    refs: imports.References,
) -> None:
    result = plan(
        {
            "qualifications": [["high_tech", "2024-12-01"], ["srdi_sme", "2025-03-01"]],
            "contact": {"name": "王敏", "phone": "0510-2"},
        },
        held(),
        refs,
    )
    assert result.qualifications == [
        {
            "type_code": "srdi_sme",
            "issued_date": date(2025, 3, 1),
            "expires_date": date(2028, 2, 29),
            "source": "导入",
        }
    ]
    assert result.contact == {"id": 11, "phone": "0510-2"}
    added = plan({"contact": {"name": "李华", "title": "经理"}}, held(), refs)
    assert added.contact == {
        "name": "李华",
        "title": "经理",
        "phone": None,
        "email": None,
        "is_primary": False,
    }
    first = merge.HeldEnterprise(held().columns, set(), [])
    assert plan({"contact": {"name": "李华"}}, first, refs).contact["is_primary"] is True


def test_a_new_enterprise_needs_a_name_and_gets_its_district_from_the_code(
    refs: imports.References,
) -> None:
    nameless = plan({"employees": 3}, None, refs)
    assert nameless.action == RowAction.rejected and nameless.errors[0].code == "missing_name"
    created = plan({"name": "无锡新公司"}, None, refs)
    assert created.action == RowAction.create
    assert created.columns["credit_code"] == CODE and created.columns["registered_in_wuxi"]
    assert created.columns["district_code"] is None  # 320200: the city, no district


def test_consent_from_a_form_and_the_enterprises_own_later_choice(
    refs: imports.References,
) -> None:
    form = {"given": True, "form_ref": "锡金融入库〔2026〕0001号", "form_signed_on": "2026-01-05"}
    recorded = plan({"consent": form}, held(), refs)
    assert recorded.columns["share_with_banks"] is True
    assert recorded.columns["consent_source"] == "office_form"
    assert recorded.columns["consent_recorded_by"] == "key:7"
    again = held(**{k: recorded.columns[k] for k in merge.CONSENT_COLUMNS})
    assert plan({"consent": form}, again, refs).action == RowAction.unchanged
    decided = held(
        share_with_banks=False,
        consent_source="enterprise",
        consent_recorded_by="enterprise:5",
        consent_recorded_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    later = plan({"consent": form, "employees": 300}, decided, refs)
    assert later.action == RowAction.update
    assert [w.code for w in later.warnings] == ["consent_decided_by_enterprise"]
    assert (
        "2026-03-01" in later.warnings[0].message
        and "其余内容照常导入" in later.warnings[0].message
    )
    assert "share_with_banks" not in later.columns and later.columns["employees"] == 300
    newer = held(
        share_with_banks=False,
        consent_source="office_form",
        consent_form_ref="锡金融入库〔2026〕0099号",
        consent_form_signed_on=date(2026, 6, 1),
    )
    older = plan({"consent": form}, newer, refs)
    assert older.action == RowAction.unchanged
    assert [w.code for w in older.warnings] == ["consent_form_superseded"]


def test_project_plans(refs: imports.References) -> None:
    unit = merge.Unit(5, "ic")
    values = {
        "name": "扩产项目",
        "kind": "capacity_expansion",
        "total_investment_fen": 100,
        "year": 2026,
    }
    created = merge.plan_project(2, values, unit, [], CODE)
    assert created.action == RowAction.create
    assert created.columns["cluster_code"] == "ic" and created.columns["status"] == "planned"
    missing = merge.plan_project(2, {"name": "扩产项目"}, unit, [], CODE)
    assert sorted(e.code for e in missing.errors) == [
        "missing_kind",
        "missing_total_investment",
        "missing_year",
    ]
    stored = {**created.columns, "id": 9, "version": 1, "description": None}
    assert merge.plan_project(2, values, unit, [stored], CODE).action == RowAction.unchanged
    too_much = merge.plan_project(
        2, {"name": "扩产项目", "financing_need_fen": 101}, unit, [stored], CODE
    )
    assert [e.code for e in too_much.errors] == ["invalid_project_amounts"]
    assert merge.plan_project(2, values, None, [], CODE).errors[0].code == "unknown_enterprise"
    two = merge.plan_project(2, values, unit, [stored, {**stored, "id": 10}], CODE)
    assert two.errors[0].code == "ambiguous_project"


def test_a_large_csv_is_read_without_a_decoded_copy_of_it() -> None:
    """The reader decodes as it goes: reading a file does not cost a copy of it in memory."""
    import tracemalloc

    line = f"{CODE},无锡内存测试有限公司,新吴区,集成电路,3000万\r\n"
    content = ("统一社会信用代码,企业名称,所属地区,产业集群,营业收入\r\n" + line * 60_000).encode()
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_table(content, "big.csv", imports.LIMITS))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60_001
    assert peak < len(content) / 4, (peak, len(content))


def test_cluster_names_as_office_files_write_them() -> None:
    from service.enterprises.import_columns import alias, cluster_aliases

    clusters = json.loads((project_root() / "seed" / "reference" / "clusters.json").read_text())
    known = cluster_aliases((c["code"], c["name"]) for c in clusters)
    for written, code in [
        ("高端纺织服装", "textile"),
        ("纺织服装", "textile"),
        ("集成电路产业", "ic"),
        ("物联网产业集群", "iot"),
        ("汽车及零部件", "auto"),
        ("高端装备", "hi_equip"),
        ("深海装备", "deep_sea"),
        ("textile", "textile"),
    ]:
        assert known.get(alias(written)) == code, written
    assert alias("装备") not in known  # 高端装备 or 深海装备: a person should say which
