"""Plain factory functions for test data."""

from itertools import count
from typing import Any

from service.taxonomy.credit_code import with_check_character

_serial = count(1)


def credit_code(area: str = "320214") -> str:
    """A valid, unique credit code registered in ``area``."""
    n = next(_serial)
    org = f"{n:08d}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(d) * w for d, w in zip(org, weights, strict=True)) % 11
    org += {10: "X", 11: "0"}.get(check, str(check))
    return with_check_character("91" + area + org)


def enterprise_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "credit_code": credit_code(),
        "name": f"无锡测试{next(_serial)}微电子有限公司",
        "district_code": "xinwu",
        "industry_code": "C3973",
        "cluster_code": "ic",
        "employees": 120,
        "revenue_fen": 8_000_000_000,
        "total_assets_fen": 12_000_000_000,
        "established_date": "2015-03-01",
        "credit_grade": "A",
        "qualifications": [],
        "contacts": [
            {"name": "李华", "title": "财务经理", "phone": "0510-81234567", "is_primary": True}
        ],
    }
    data.update(overrides)
    return data


# A large IC maker: none of the seeded catalogue's products serves it with a 12-month credit
# loan, so tests of their own products and banks are not outranked by the city's policy
# products (which every small firm in Wuxi may take up).
LARGE_IC = {
    "cluster_code": "ic",
    "employees": 1_500,
    "revenue_fen": 50_000_000_000,
    "total_assets_fen": 80_000_000_000,
}


def create_enterprise(client: Any, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/enterprises", json=enterprise_payload(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


# What the office sends to record an enterprise's consent from its signed 入库申报 form.
OFFICE_FORM = {
    "consent_form_ref": "锡金融入库〔2026〕0001号",
    "consent_form_signed_on": "2026-01-05",
}


def office_consent(given: bool = True, **form: Any) -> dict[str, Any]:
    return {"share_with_banks": given, **OFFICE_FORM, **form}


def bank_payload(**overrides: Any) -> dict[str, Any]:
    data = {
        "code": f"test-bank-{next(_serial)}",
        "name": "测试银行股份有限公司无锡分行",
        "short_name": "测试银行",
        "kind": "joint_stock",
        "bridge_fund_partner": True,
    }
    data.update(overrides)
    return data


def product_payload(bank_code: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": f"test-product-{next(_serial)}",
        "bank_code": bank_code,
        "name": "测试科创贷",
        "category": "credit",
        "scheme": "own",
        "eligibility": {
            "size_classes": ["small", "micro"],
            "qualifications_any": ["tech_sme"],
            "min_credit_grade": "BBB",
        },
        "amount_min_fen": 10_000_000,
        "amount_max_fen": 300_000_000,
        "term_unit": "month",
        "term_min": 6,
        "term_max": 12,
        "rate": {"base": "LPR1Y", "spread_bp": 45},
        "collateral_types": ["none"],
        "purposes": ["working_capital"],
        "effective_from": "2026-01-01",
        "is_sample": True,
    }
    data.update(overrides)
    return data


def need_payload(enterprise_id: int, **overrides: Any) -> dict[str, Any]:
    """A 200万, 12-month working-capital credit need that consents to reach banks."""
    return {
        "enterprise_id": enterprise_id,
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": True,
        "max_banks": 3,
        **overrides,
    }
