"""Names of synthetic enterprises and people, and an enterprise's contacts.

An enterprise's name is place + trade name (字号) + industry word + legal form, as Wuxi's firms
are named: wholesalers (F51) say what they trade in, R&D (M73) and technology-service (M75) firms
say so, large firms are more often 股份 or 集团; a few names carry a bracketed place (the usual
form of a foreign- or HMT-invested subsidiary) and a few trade names are shared by firms of
different industries (hard cases for name search). Nothing here is a real enterprise or person:
names are assembled from the character pools of seed/synth/name_parts.json, phone numbers are
random, e-mail addresses are under example.com."""

from random import Random
from typing import Any

from service.synth.draws import pick
from service.synth.vocabulary import name_parts

SHARED_TRADE_SHARE = 0.05
BRACKET_SHARE = 0.06


def trade_name(rng: Random) -> str:
    parts = name_parts()
    if rng.random() < SHARED_TRADE_SHARE:
        return pick(rng, parts.shared_trade_names)
    chars = parts.trade_chars
    first = pick(rng, chars)
    second = pick(rng, chars)
    while second == first:
        second = pick(rng, chars)
    if rng.random() < 0.15:
        return first + second + pick(rng, chars)
    return first + second


def enterprise_name(
    rng: Random,
    cluster: str | None,
    industry: str,
    district: str | None,
    outside_place: str | None,
    size: str,
) -> str:
    parts = name_parts()
    trade = trade_name(rng)
    if industry.startswith("F51"):
        word = parts.trade_words[cluster] + pick(rng, ("贸易", "商贸", "供应链", "进出口", "销售"))
        forms: tuple[str, ...] = ("有限公司", "有限责任公司")
    elif industry.startswith("M73"):
        word = pick(rng, parts.cluster_words[cluster]).removesuffix("科技").removesuffix("技术")
        word += pick(rng, ("研究院", "技术研究院", "技术研发", "科技研究"))
        forms = ("有限公司",)
    elif industry.startswith("M75"):
        word = pick(rng, parts.cluster_words[cluster]).removesuffix("科技").removesuffix("技术")
        word += pick(rng, ("技术服务", "科技服务", "技术推广"))
        forms = ("有限公司",)
    else:
        word = pick(rng, parts.cluster_words[cluster])
        if size == "large":
            forms = ("股份有限公司", "集团有限公司", "有限公司", "股份有限公司")
        elif word.endswith(("科技", "技术")):
            forms = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
        else:
            forms = (
                "有限公司",
                "有限公司",
                "有限公司",
                "科技有限公司",
                "股份有限公司",
                "有限责任公司",
            )
    form = pick(rng, forms)
    if outside_place is None and rng.random() < BRACKET_SHARE:
        return f"{trade}{word}（{pick(rng, ('无锡', '无锡', '江阴', '宜兴'))}）{form}"
    if outside_place is not None:
        prefix = outside_place if rng.random() < 0.6 else ""
    elif district == "jiangyin" and rng.random() < 0.6:
        prefix = pick(rng, ("江阴", "江阴市"))
    elif district == "yixing" and rng.random() < 0.6:
        prefix = pick(rng, ("宜兴", "宜兴市"))
    else:
        r = rng.random()
        prefix = "无锡" if r < 0.45 else "无锡市" if r < 0.65 else ""
    return prefix + trade + word + form


def person_name(rng: Random) -> str:
    parts = name_parts()
    given = pick(rng, parts.given_chars)
    if rng.random() < 0.7:
        given += pick(rng, parts.given_chars)
    return pick(rng, parts.surnames) + given


def draw_contacts(rng: Random, org_code: str) -> list[dict[str, Any]]:
    """One or two contacts (the first is the primary one), as ``EnterpriseCreate`` takes them."""
    parts = name_parts()
    out = []
    for i in range(1 if rng.random() < 0.6 else 2):
        if rng.random() < 0.55:
            phone = f"13{rng.randrange(10**9):09d}"
        else:
            phone = f"0510-8{rng.randrange(10**7):07d}"
        email = (
            f"{pick(rng, parts.email_locals)}{i or ''}@{org_code[:8].lower()}.example.com"
            if rng.random() < 0.6
            else None
        )
        out.append(
            {
                "name": person_name(rng),
                "title": pick(rng, parts.primary_titles if i == 0 else parts.other_titles),
                "phone": phone,
                "email": email,
                "is_primary": i == 0,
            }
        )
    return out
