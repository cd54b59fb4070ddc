"""Agreement of the recommendations with the expert evaluation set
(tests/matching/expert.py): for each expectation kind, how many labelled expectations hold,
and, with --show, each case's top three and near misses.

    .venv/bin/python bench/expert_agreement.py [--show]
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.matching.expert import CASES, catalogue, evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every case's results")
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


if __name__ == "__main__":
    main()
