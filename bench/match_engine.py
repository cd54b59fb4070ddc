"""Matching engine at city scale: the full profile rematch of 500,000 enterprises × 500 products,
against a plain vectorised reference kernel written here (every gate of the profile path and the
seven factors of scoring.score as numpy arrays), and one need against the catalogue.

    .venv/bin/python bench/match_engine.py --enterprises 500000 --products 500

No database: the library comes from `finmatch synth`'s generator (fixed seed, drawn in worker
processes and turned into the engine's arrays there; served when registered in Wuxi, bridge-fund
states drawn here), the products from its product generator.
Prints the compute time of the engine (median of --repeat runs, data generation excluded),
the same for the reference kernel, their ratio, the engine's peak memory (tracemalloc peak of one
call, and the process's ru_maxrss), whether both give identical top-K lists, a spot check of
sampled pairs against scoring.score, and the median time of one enterprise (with and without a
need) against the whole catalogue in process."""

import argparse
import gc
import json
import math
import multiprocessing
import resource
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from service.enterprises.derive import derive  # noqa: E402
from service.matching import factors, facts, scoring  # noqa: E402
from service.matching.engine import Matches, _Plan, match_all  # noqa: E402
from service.matching.enterprise_arrays import GRADE_MISSING, EnterpriseArrays  # noqa: E402
from service.matching.product_arrays import ProductArrays, score_one, score_plain  # noqa: E402
from service.matching.scoring import EnterpriseFacts, Held, NeedFacts, ProductRules  # noqa: E402
from service.products.models import (  # noqa: E402
    Product,
    ProductSpec,
    ProductStatus,
    ProductVersion,
)
from service.products.schemas import ProductCreate  # noqa: E402
from service.synth import AS_OF, CHUNK, Generator, generate_products, load_reference  # noqa: E402
from service.taxonomy.credit_code import CreditCode  # noqa: E402
from service.taxonomy.grades import CREDIT_GRADES  # noqa: E402
from service.taxonomy.industry import code_matches  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "seed" / "reference"
SEED = 1
ON = AS_OF  # the day the synthetic library describes
SERVICE_AREA = ("3202",)  # FINMATCH_SERVICE_AREA's default: Wuxi, 江阴 and 宜兴 included
# Bridge-fund states come from loans, which the synthetic library has none of: drawn here from
# a stream of their own (a loan maturing within the window at a cooperating bank, its renewal
# committed or not yet).
BRIDGE_SHARES = ((scoring.BRIDGE_COMMITTED, 0.015), (scoring.BRIDGE_MATURING, 0.025))

# --- data ------------------------------------------------------------------------------------


def _tiers() -> dict[str, str]:
    return {
        c["code"]: c["tier"]
        for c in json.loads((REFERENCE / "clusters.json").read_text(encoding="utf-8"))
    }


def _qualification_codes() -> list[str]:
    items = json.loads((REFERENCE / "qualification_types.json").read_text(encoding="utf-8"))
    return [q["code"] for q in sorted(items, key=lambda q: q.get("sort_order", 0))]


def enterprise_facts(generator: Generator, number: int, size: int, tiers: dict) -> list:
    """Facts of enterprises CHUNK × number … (ids = index + 1), as the loader would store them
    (size class and registration derived as in `finmatch synth`), served when registered in
    SERVICE_AREA, with a bridge-fund state drawn from BRIDGE_SHARES."""
    out = []
    mix = generator.size_mix(0.0)
    bridge_rng = Random(f"bench-match-engine:{SEED}:bridge:{number}")
    for offset, (e, _) in enumerate(generator.chunk(number, [0] * size, mix)):
        industry = e["industry_code"]
        row = generator._row(industry) if industry else None
        d = derive(
            CreditCode(e["credit_code"]),
            e["name"],
            industry,
            e["employees"],
            e["revenue_fen"],
            e["total_assets_fen"],
            (row,) if row else (),
        )
        draw, bridge = bridge_rng.random(), None
        for state, share in BRIDGE_SHARES:
            if draw < share:
                bridge = state
                break
            draw -= share
        out.append(
            EnterpriseFacts(
                id=number * CHUNK + offset + 1,
                cluster=e["cluster_code"],
                tier=tiers.get(e["cluster_code"] or ""),
                size_class=d.size_class,
                qualifications=tuple(
                    Held(
                        q["type_code"],
                        date.fromisoformat(q["issued_date"]),
                        date.fromisoformat(q["expires_date"]) if q["expires_date"] else None,
                    )
                    for q in e["qualifications"]
                ),
                established=date.fromisoformat(e["established_date"]),
                revenue_fen=e["revenue_fen"],
                credit_grade=e["credit_grade"],
                district=e["district_code"],
                registered_in_wuxi=d.registered_in_wuxi,
                industry_code=industry,
                ownership=e["ownership"],
                area_code=d.registered_area_code,
                in_service_area=scoring.in_service_area(d.registered_area_code, SERVICE_AREA),
                bridge=bridge,
            )
        )
    return out


_worker: dict = {}


def _start() -> None:
    _worker.update(generator=Generator(SEED, load_reference()), tiers=_tiers())


def _chunk_arrays(job: tuple[int, int]) -> EnterpriseArrays:
    number, size = job
    chunk = enterprise_facts(_worker["generator"], number, size, _worker["tiers"])
    return EnterpriseArrays.from_facts(chunk, ON, _qualification_codes())


def library_arrays(n: int, workers: int) -> EnterpriseArrays:
    """The first n enterprises of seed 1's library (what `finmatch synth --enterprises n`
    loads), as arrays; drawn in worker processes, so only the arrays reach this one."""
    jobs = [(k, min(CHUNK, n - k * CHUNK)) for k in range(math.ceil(n / CHUNK))]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start) as pool:
        parts = list(pool.map(_chunk_arrays, jobs, chunksize=8))
    return EnterpriseArrays.concat(parts)


def catalogue(p: int) -> list[ProductRules]:
    banks = json.loads((REFERENCE / "banks.json").read_text(encoding="utf-8"))
    own = [b["code"] for b in banks if b["kind"] != "fund"]
    funds = [b["code"] for b in banks if b["kind"] == "fund"]
    out = []
    for i, item in enumerate(generate_products(p, own or funds, SEED, fund_codes=funds)):
        create = ProductCreate.model_validate(item)
        product = Product(
            id=i + 1, code=create.code, bank_code=create.bank_code, status=ProductStatus.active
        )
        spec = {f: getattr(create, f) for f in ProductSpec.model_fields}
        version = ProductVersion(**spec, product_id=i + 1, version=1)
        out.append(facts.product_rules(product, version))
    return out


def scoring_config() -> scoring.ScoringConfig:
    data = json.loads((REFERENCE / "scoring.json").read_text(encoding="utf-8"))
    return facts.config_from_dict(data["version"], data, {"LPR1Y": 300, "LPR5Y": 350})


# --- the plain vectorised reference kernel ---------------------------------------------------


def reference_kernel(
    a: EnterpriseArrays,
    products: list[ProductRules],
    config: scoring.ScoringConfig,
    block: int = 16,
) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Straightforward numpy over all enterprises: for each product every gate of the profile
    path and each of the seven factors as a full-length array (the rules of scoring.gates and
    the factor formulas of scoring written as array expressions, each contribution rounded as
    scoring.score rounds it), then the product's top prospects by np.argsort; the enterprises'
    top products by np.argsort of their kept products and a block of new scores. Same results
    as the engine."""
    n, k_e, k_p = len(a), config.top_per_enterprise, config.top_per_product
    on = a.on
    products = sorted(products, key=lambda p: p.id)
    w = config.weights

    def indices(vocab: tuple, wanted: frozenset) -> list[int]:
        return [i for i, v in enumerate(vocab) if v in wanted]

    cluster_truthy = np.array([bool(c) for c in a.clusters])[a.cluster]
    tier_value = np.array(
        [config.tier_value.get(t or "none", config.tier_value.get("none", 0.4)) for t in a.tiers]
    )[a.tier]
    size_base = np.array([config.size_value.get(s or "unknown", 0.3) for s in a.size_classes])[
        a.size_class
    ]
    valid_count = np.bitwise_count(a.qualifications).astype(np.float64)
    has_industry = np.array([bool(c) for c in a.industries])[a.industry]
    committed = np.isin(a.bridge, indices(a.bridges, frozenset({scoring.BRIDGE_COMMITTED})))
    bit = {c: 1 << i for i, c in enumerate(a.qualification_codes)}
    rank = {g: i for i, g in enumerate(CREDIT_GRADES)}

    def industries_in(scopes: tuple[str, ...]) -> np.ndarray:
        """Enterprises whose industry code falls in one of the scopes (section or prefix)."""
        codes = [
            i
            for i, code in enumerate(a.industries)
            if code and any(code_matches(code, s) for s in scopes)
        ]
        return np.isin(a.industry, codes)

    def contribution(name: str, value: np.ndarray | float) -> np.ndarray | int:
        # round(weight * clamp(value) * 100), as scoring.score: np.rint rounds half to even too
        if isinstance(value, np.ndarray):
            return np.rint(w[name] * np.clip(value, 0, 1) * 100)
        return round(w[name] * factors.clamp(value) * 100)

    top_s = np.full((n, k_e), -1, dtype=np.int16)
    top_p = np.full((n, k_e), -1, dtype=np.int32)
    block_s = np.full((n, block), -1, dtype=np.int16)
    block_p = np.full(block, -1, dtype=np.int32)
    prospects = []
    for j, p in enumerate(products):
        # gates, in scoring.gates' order (those of a need skipped: profile matching)
        ok = a.in_service_area & p.active
        if p.effective_from and on < p.effective_from:
            ok[:] = False
        if p.effective_to and on > p.effective_to:
            ok[:] = False
        in_included = np.isin(a.cluster, indices(a.clusters, p.clusters_included))
        if p.clusters_included:
            ok &= in_included
        ok &= ~(cluster_truthy & np.isin(a.cluster, indices(a.clusters, p.clusters_excluded)))
        in_tiers = np.isin(a.tier, indices(a.tiers, p.tiers))
        if p.tiers:
            ok &= in_tiers
        if p.size_classes:
            ok &= np.isin(a.size_class, indices(a.size_classes, p.size_classes))
        if p.qualifications_any:
            wanted = np.uint64(sum(bit.get(c, 0) for c in p.qualifications_any))
            ok &= (a.qualifications & wanted) != 0
        if p.qualifications_all:
            wanted = np.uint64(sum(bit.get(c, 0) for c in p.qualifications_all))
            ok &= (a.qualifications & wanted) == wanted
            if any(c not in bit for c in p.qualifications_all):
                ok[:] = False
        if p.min_years_in_business:
            ok &= a.has_established & (a.years_in_business >= p.min_years_in_business)
        if p.revenue_min_fen is not None or p.revenue_max_fen is not None:
            ok &= a.has_revenue
            if p.revenue_min_fen is not None:
                ok &= a.revenue_fen >= p.revenue_min_fen
            if p.revenue_max_fen is not None:
                ok &= a.revenue_fen < p.revenue_max_fen
        if p.min_credit_grade:
            ok &= (a.grade_rank != GRADE_MISSING) & (a.grade_rank <= rank[p.min_credit_grade])
        if p.districts:
            ok &= np.isin(a.district, indices(a.districts, p.districts))
        if p.registered_in_wuxi:
            ok &= a.registered_in_wuxi
        if p.regions:
            ok &= np.isin(
                a.area_code,
                [
                    i
                    for i, area in enumerate(a.area_codes)
                    if area and any(area.startswith(r) for r in p.regions)
                ],
            )
        if p.ownership_types:
            ok &= np.isin(a.ownership, indices(a.ownerships, p.ownership_types))
        if p.industries_excluded:
            ok &= ~industries_in(p.industries_excluded)
        if p.industries_included:
            ok &= industries_in(p.industries_included)
        if p.needs_committed_renewal:  # the bridge fund: a maturing loan, renewal committed
            ok &= committed
        # the seven factors
        targeted = np.where(
            cluster_truthy & in_included, 1.0, np.where(bool(p.tiers) & in_tiers, 0.85, 0.5)
        )
        sector = 0.6 * targeted + 0.4 * tier_value
        aimed = p.industries_included + p.industries_targeted
        industry: np.ndarray | float
        if aimed:
            industry = np.where(industries_in(aimed), 1.0, np.where(has_industry, 0.0, 0.4))
        else:
            industry = 0.6
        size = (0.5 + 0.5 * size_base) if p.size_classes else (0.3 + 0.5 * size_base)
        need = 0.7 if p.credit else 0.45  # without a need, asking for nothing is easier
        q_targeted = 1.0 if (p.qualifications_any or p.qualifications_all) else 0.4
        qualification = 0.5 * q_targeted + 0.5 * np.minimum(1.0, valid_count / 3)
        cost = factors.cost_fit(factors.rate_bp(p, None, config), p, config)[0]
        policy = 1.0 if p.scheme in config.policy_schemes else 0.0
        score = (
            contribution("sector", sector)
            + contribution("industry", industry)
            + contribution("size", size)
            + contribution("need", need)
            + contribution("qualification", qualification)
            + contribution("cost", cost)
            + contribution("policy", policy)
        )
        s = np.where(ok, score, -1).astype(np.int16)
        # the product's prospects: argsort by (score desc, position)
        eligible = np.flatnonzero(ok)
        order = np.argsort((10_001 - s[eligible].astype(np.int64)) * n + eligible, kind="stable")
        best = eligible[order[:k_p]]
        prospects.append((best.astype(np.int64), s[best]))
        # the enterprises' top products, merged a block of products at a time
        b = j % block
        block_s[:, b] = s
        block_p[b] = j
        if b == block - 1 or j == len(products) - 1:
            width = b + 1
            all_s = np.concatenate((top_s, block_s[:, :width]), axis=1)
            all_p = np.concatenate((top_p, np.broadcast_to(block_p[:width], (n, width))), axis=1)
            key = np.where(
                all_s >= 0,
                (10_001 - all_s.astype(np.int32)) * 65_536 + all_p,
                np.iinfo(np.int32).max,
            )
            pick = np.argsort(key, axis=1, kind="stable")[:, :k_e]
            top_s = np.take_along_axis(all_s, pick, axis=1)
            top_p = np.where(top_s >= 0, np.take_along_axis(all_p, pick, axis=1), -1)
            block_s[:] = -1
    return top_p, top_s, prospects


# --- one need against the catalogue ----------------------------------------------------------

PURPOSES = ("working_capital", "equipment", "rnd", "project", "renewal", "trade")
COLLATERAL = ("none", "guarantee", "property", "equipment", "ip", "receivables")


def random_need(rng: Random, config: scoring.ScoringConfig) -> NeedFacts:
    purpose = rng.choice(PURPOSES)
    return NeedFacts(
        amount_fen=rng.choice((50, 100, 200, 300, 500, 1000, 2000, 5000)) * 1_000_000,
        term_months=rng.choice((3, 6, 12, 24, 36, 60)),
        purpose=purpose,
        collateral=frozenset(rng.sample(COLLATERAL, rng.choice((1, 1, 2)))),
        purpose_ancestors=config.purpose_ancestors(purpose),  # as facts.need_facts fills it
    )


def describe(
    a: EnterpriseArrays, products: list[ProductRules], config: scoring.ScoringConfig
) -> None:
    """What the data exercises: the enterprises' new facts, the products' new rules, and how
    the engine groups the library."""
    n = len(a)

    def share(mask: np.ndarray) -> str:
        return f"{int(mask.sum()):,} ({mask.mean():.1%})"

    def area(prefix: str) -> np.ndarray:
        hits = [i for i, c in enumerate(a.area_codes) if c and c.startswith(prefix)]
        return np.isin(a.area_code, hits)

    def state(vocab: tuple, value: str | None, column: np.ndarray) -> np.ndarray:
        return np.isin(column, [i for i, v in enumerate(vocab) if v == value])

    print(
        f"enterprises: outside the service area {share(~a.in_service_area)}; registered in "
        f"江阴 320281 {share(area('320281'))}, 宜兴 320282 {share(area('320282'))}; "
        f"ownership private {share(state(a.ownerships, 'private', a.ownership))}, unknown "
        f"{share(state(a.ownerships, None, a.ownership))}; bridge committed "
        f"{share(state(a.bridges, scoring.BRIDGE_COMMITTED, a.bridge))}, maturing "
        f"{share(state(a.bridges, scoring.BRIDGE_MATURING, a.bridge))} (of {n:,})"
    )
    count = {
        "regions": sum(bool(p.regions) for p in products),
        "industries_targeted": sum(bool(p.industries_targeted) for p in products),
        "industries_included": sum(bool(p.industries_included) for p in products),
        "industries_excluded": sum(bool(p.industries_excluded) for p in products),
        "ownership_types": sum(bool(p.ownership_types) for p in products),
        "policy scheme": sum(p.scheme in config.policy_schemes for p in products),
        "bridge fund": sum(p.needs_committed_renewal for p in products),
    }
    print("products with " + ", ".join(f"{k} {v}" for k, v in count.items()))
    plan = _Plan(a, sorted(products, key=lambda p: p.id), config)
    print(
        f"engine grouping: {plan.score_table.shape[1]:,} score classes × "
        f"{plan.gate_table.shape[1]:,} gate classes → {plan.n_profiles:,} profiles"
    )


def same_top_k(
    reference: tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]],
    matches: Matches,
) -> bool:
    """Whether the reference kernel's top-K lists are the engine's, per enterprise (products
    and scores) and per product (prospects and scores)."""
    ref_p, ref_s, ref_prospects = reference
    return (
        np.array_equal(ref_p, matches.top_products)
        and np.array_equal(ref_s, matches.top_scores)
        and all(
            np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
            for a, b in zip(ref_prospects, matches.prospects, strict=True)
        )
    )


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=500_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the engine and the reference"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single", type=int, default=300, help="enterprises for the single path")
    parser.add_argument(
        "--smoke", action="store_true", help="a run of seconds on small sizes, same checks"
    )
    args = parser.parse_args()
    if args.smoke:  # small sizes, unless given explicitly
        parser.set_defaults(enterprises=3_000, products=60, repeat=2, single=30, workers=1)
        args = parser.parse_args()
    failed: list[str] = []

    config = scoring_config()
    started = time.perf_counter()
    arrays = library_arrays(args.enterprises, args.workers)
    products = catalogue(args.products)
    print(
        f"data: {len(arrays):,} enterprises × {len(products)} products on {ON} "
        f"(generated in {time.perf_counter() - started:.1f} s, not counted below)"
    )
    describe(arrays, products, config)

    engine_times = []
    matches = None
    for _ in range(args.repeat):
        matches = None  # not held while the next run computes
        gc.collect()
        t = time.perf_counter()
        matches = match_all(arrays, products, config)
        engine_times.append(time.perf_counter() - t)
    rss_after_engine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    matches = None
    gc.collect()
    tracemalloc.start()
    matches = match_all(arrays, products, config)
    _, engine_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = int((matches.top_products >= 0).sum())
    prospects = sum(len(pos) for pos, _ in matches.prospects)
    print(
        f"engine (match_all): median {statistics.median(engine_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in engine_times)}); "
        f"{kept:,} enterprise matches, {prospects:,} product prospects kept"
    )
    print(
        f"engine peak memory: tracemalloc {engine_peak / 2**20:.0f} MiB; "
        f"process ru_maxrss {rss_after_engine:.0f} MiB after the engine runs "
        f"(library arrays and interpreter included)"
    )
    rows_times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = matches.rows()
        rows_times.append(time.perf_counter() - t)
        del rows
    tracemalloc.start()
    rows = matches.rows()
    _, rows_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"rows for storage (Matches.rows, both ranks merged): median "
        f"{statistics.median(rows_times):.2f} s for {len(rows['enterprise_id']):,} rows, "
        f"tracemalloc peak {rows_peak / 2**20:.0f} MiB"
    )
    del rows

    reference_times = []
    for _ in range(args.repeat):
        gc.collect()
        t = time.perf_counter()
        ref_p, ref_s, ref_prospects = reference_kernel(arrays, products, config)
        reference_times.append(time.perf_counter() - t)
    engine_median = statistics.median(engine_times)
    reference_median = statistics.median(reference_times)
    print(
        f"reference kernel: median {reference_median:.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in reference_times)})"
    )
    print(f"ratio reference / engine: {reference_median / engine_median:.1f}×")
    same = same_top_k((ref_p, ref_s, ref_prospects), matches)
    print(f"identical top-K (per enterprise and per product): {same}")
    if not same:
        failed.append("engine and reference kernel differ")
    if kept == 0 or prospects == 0:
        failed.append("the engine kept no match: the comparison proves nothing")
    changed = ref_s.copy()  # the comparison itself must notice one score changed
    changed[np.unravel_index(np.argmax(changed), changed.shape)] -= 1
    if same_top_k((ref_p, changed, ref_prospects), matches):
        failed.append("the top-K comparison missed a changed score")

    # spot check against the pure scoring, on the first chunks' enterprises
    generator = Generator(SEED, load_reference())
    tiers = _tiers()
    sample = [
        f
        for k in range(min(2, math.ceil(args.enterprises / CHUNK)))
        for f in enterprise_facts(generator, k, min(CHUNK, args.enterprises - k * CHUNK), tiers)
    ]
    rng = Random(7)
    checked = mismatched = 0
    for i in rng.sample(range(len(sample)), min(200, len(sample))):
        ranked = scoring.rank([scoring.score(sample[i], None, p, ON, config) for p in products])
        want = [(r.product_id, r.score_centi) for r in ranked[: config.top_per_enterprise]]
        got = [
            (int(matches.product_ids[j]), int(s))
            for j, s in zip(matches.top_products[i], matches.top_scores[i], strict=True)
            if j >= 0
        ]
        checked += 1
        mismatched += want != got
    print(
        f"spot check, top products of {checked} sampled enterprises vs "
        f"scoring.rank(scoring.score(...)): {checked - mismatched}/{checked} equal"
    )
    if mismatched:
        failed.append(f"spot check: {mismatched} of {checked} enterprises differ")

    # one enterprise (with and without a need) against the catalogue
    cat = ProductArrays(products)
    singles = sample[: args.single]
    needs = [random_need(rng, config) for _ in singles]
    for label, with_need in (("with a need", True), ("profile only", False)):
        fast, plain, kept_counts = [], [], []
        equal = True
        for e, need in zip(singles, needs, strict=True):
            nd = need if with_need else None
            t = time.perf_counter()
            results = score_one(e, nd, cat, ON, config)
            fast.append(time.perf_counter() - t)
            t = time.perf_counter()
            everything = score_plain(e, nd, products, ON, config)
            plain.append(time.perf_counter() - t)
            near = [r for r in everything if len(r.failures) <= config.near_miss_max_failures]
            equal &= results == near
            kept_counts.append(len(results))
        print(
            f"one enterprise {label} × {len(products)} products: median {_median_ms(fast):.2f} ms "
            f"(plain loop {_median_ms(plain):.2f} ms; {statistics.median(kept_counts):.0f} results "
            f"kept: eligible + near misses; identical to the plain loop: {equal})"
        )
        if not equal:
            failed.append(f"one enterprise {label}: differs from the plain loop")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process ru_maxrss at the end: {rss:.0f} MiB (includes the reference kernel)")
    if failed:
        raise SystemExit("checks failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
