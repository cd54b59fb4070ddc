"""Agreement of the recommendations with the expert evaluation set
(tests/matching/expert.py): for each expectation kind, how many labelled expectations hold,
and, with --show, each case's top three and near misses. Then, over the demo library
(seed/demo/enterprises.json, profile recommendations): of the enterprises eligible for a
policy product, how many find one in their top three, and how many near misses they see.

    .venv/bin/python bench/expert_agreement.py [--show] [--smoke]

Exits non-zero when an expectation does not hold. The run takes seconds: --smoke (the size
every benchmark takes for the CI's smoke pass) is the same run.
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import date  # noqa: E402

from service.matching.recommendations import _recommend  # noqa: E402
from tests.matching.expert import (  # noqa: E402
    CASES,
    POLICY,
    WAN,
    Firm,
    catalogue,
    evaluate,
)

DEMO = Path(__file__).resolve().parents[1] / "seed" / "demo" / "enterprises.json"


def demo_library(cat, label: str) -> None:  # noqa: ANN001
    """Profile recommendations of every demo enterprise."""
    with_policy = in_top3 = 0
    misses: list[int] = []
    for row in json.loads(DEMO.read_text(encoding="utf-8")):
        firm = Firm(
            row["industry_code"],
            row.get("employees") or 0,
            (row.get("revenue_fen") or 0) // WAN,
            None if row.get("total_assets_fen") is None else row["total_assets_fen"] // WAN,
            cluster=row.get("cluster_code"),
            area=row["credit_code"][2:8],
            district=row.get("district_code"),
            quals=tuple(
                (q["type_code"], q["issued_date"], q.get("expires_date"))
                for q in row.get("qualifications") or ()
            ),
            established=row.get("established_date") or "2015-01-01",
            grade=row.get("credit_grade"),
            ownership=row.get("ownership"),
        )
        items, near, _ = _recommend(cat, firm.facts(), [("profile", None)])
        misses.append(len(near))
        if any(i.scheme in POLICY for i in items):
            with_policy += 1
            in_top3 += any(i.scheme in POLICY for i in items[:3])
    n = len(misses)
    print(f"\ndemo library, {label}: {n} enterprises, profile recommendations on {date.today()}")
    print(
        f"eligible for a policy product: {with_policy}; one of them in the top three: "
        f"{in_top3} ({in_top3 / max(with_policy, 1):.1%})"
    )
    print(f"near misses shown: at most {max(misses)}, mean {sum(misses) / n:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every case's results")
    parser.add_argument("--smoke", action="store_true", help="the same run (it takes seconds)")
    args = parser.parse_args()
    cat = catalogue()
    held: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failed: list[str] = []
    for case in CASES:
        outcome = evaluate(case, cat)
        for kind, what, ok in outcome.checks:
            total[kind] += 1
            held[kind] += ok
            if not ok:
                failed.append(f"  {case.id}: {kind} {what}")
        if args.show:
            print(f"\n{case.id} — {case.title}")
            for item in outcome.items[:3]:
                print(f"  {item.score:6.2f}  {item.product_name}（{item.bank_name}）")
            for miss in outcome.near_misses:
                remedies = "；".join(f.remedy for f in miss.failures)
                print(f"  差一点  {miss.product_name}（{miss.bank_name}）：{remedies}")
            for notice in outcome.notices:
                print(f"  提示  {notice}")
    print(f"\n{len(CASES)} labelled cases, {sum(total.values())} expectations")
    print(f"{'kind':<22}{'held':>6}{'of':>6}{'agreement':>11}")
    for kind in sorted(total):
        print(f"{kind:<22}{held[kind]:>6}{total[kind]:>6}{held[kind] / total[kind]:>11.1%}")
    overall = sum(held.values()) / sum(total.values())
    print(f"{'all':<22}{sum(held.values()):>6}{sum(total.values()):>6}{overall:>11.1%}")
    if failed:
        print("not held:\n" + "\n".join(failed))
    demo_library(cat, f"scoring configuration version {cat.config.version}")
    # The same with the policy and industry factors' points given back to the five factors
    # of version 1 (its weights): how the policy products ranked before.
    old = {"sector": 30, "industry": 0, "size": 15, "need": 25, "qualification": 15}
    before = replace(cat, config=replace(cat.config, weights={**old, "cost": 15, "policy": 0}))
    demo_library(before, "version 1's weights (no policy or industry factor)")
    if failed:
        raise SystemExit(f"{len(failed)} of {sum(total.values())} expectations not held")


if __name__ == "__main__":
    main()
