"""Accuracy of name linking on the labelled pairs (tests/lists/data/name_pairs.csv).

    .venv/bin/python bench/list_accuracy.py

Each pair is a name as a list writes it and a library name, labelled the same company or not,
in categories of hard cases (shared trade names, other cities, reordered places, legal forms,
branches, abbreviations, typos, long names that differ in a word …). Each list name is linked
against an index of its pair's library name and eight well-known Wuxi companies; a pair is
linked when the outcome is automatic and the candidate is the pair's. Prints precision and
recall at the automatic threshold, what reaches the review queue, and per category; exits
non-zero when precision or recall falls below --min-precision / --min-recall (1.000 and 0.818
on 2026-12-03). It takes seconds, so --smoke runs it whole."""

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

from service.lists.linking import AUTO, REVIEW, LinkIndex, link
from service.taxonomy.names import normalize_company_name

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "lists" / "data" / "name_pairs.csv"
DISTRACTORS = [
    "无锡市华润微电子有限公司",
    "江苏长电科技股份有限公司",
    "无锡先导智能装备股份有限公司",
    "无锡药明康德新药开发股份有限公司",
    "无锡新洁能股份有限公司",
    "江阴兴澄特种钢铁有限公司",
    "宜兴市环保科技工业园有限公司",
    "无锡小天鹅电器有限公司",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the same run: it takes seconds")
    parser.add_argument("--min-precision", type=float, default=0.99)
    parser.add_argument("--min-recall", type=float, default=0.80)
    args = parser.parse_args()
    rows = list(csv.DictReader(PAIRS.open(encoding="utf-8")))
    outcome: Counter = Counter()
    by_category: dict[str, Counter] = {}
    for row in rows:
        names = [row["library_name"], *DISTRACTORS]
        index = LinkIndex(
            range(1, len(names) + 1),
            names,
            [normalize_company_name(n) for n in names],
            [None] * len(names),
        )
        verdict = link(index, row["list_name"])
        ours = verdict.best is not None and verdict.best.enterprise_id == 1
        same = row["same"] == "1"
        result = (
            "auto"
            if verdict.outcome == "auto" and ours
            else "review"
            if verdict.outcome == "review" and ours
            else "other"
        )
        key = ("same" if same else "different", result)
        outcome[key] += 1
        by_category.setdefault(row["category"], Counter())[key] += 1
    positives = sum(v for (label, _), v in outcome.items() if label == "same")
    negatives = len(rows) - positives
    tp, fp = outcome[("same", "auto")], outcome[("different", "auto")]
    print(f"{len(rows)} pairs: {positives} the same company, {negatives} different")
    print(f"thresholds: automatic {AUTO}, review {REVIEW}")
    print(
        f"at the automatic threshold: precision {tp / max(1, tp + fp):.3f} "
        f"({tp} right, {fp} wrong), recall {tp / positives:.3f}"
    )
    print(
        f"same company sent to review with the right candidate first: "
        f"{outcome[('same', 'review')]} (automatic or review: "
        f"{(tp + outcome[('same', 'review')]) / positives:.3f})"
    )
    print(
        f"different companies sent to review: {outcome[('different', 'review')]}, "
        f"proposed as new: {outcome[('different', 'other')]}"
    )
    print("per category (same/different: auto, review, other):")
    for category, counts in sorted(by_category.items()):
        parts = [
            f"{label} {counts[(label, 'auto')]}/{counts[(label, 'review')]}/"
            f"{counts[(label, 'other')]}"
            for label in ("same", "different")
            if any(counts[(label, r)] for r in ("auto", "review", "other"))
        ]
        print(f"  {category:<20} {'  '.join(parts)}")
    precision, recall = tp / max(1, tp + fp), tp / positives
    if precision < args.min_precision or recall < args.min_recall:
        sys.exit(
            f"FAILED: precision {precision:.3f} (at least {args.min_precision}) or recall "
            f"{recall:.3f} (at least {args.min_recall})"
        )


if __name__ == "__main__":
    main()
