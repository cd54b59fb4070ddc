"""The synthetic enterprise library: ``Generator`` draws enterprises, each with its
qualifications, contacts and projects, chunk by chunk; ``generate_library`` keeps them in memory.

What an enterprise looks like follows Wuxi (seed/synth/wuxi.json, enterprise_mix.json): its
district (or, for a few, a place elsewhere in the Yangtze delta) and, with the district's
affinities, its cluster and industry; its size class, and figures that place it there under its
row of the size table; its age, grade (larger firms rated better), name, ownership (drawn with
the size, the name's bracketed place and the age), chain tag, recognitions, contacts, and its
consent on the 入库申报 form. Enterprises that have projects lean larger, in a mix such that the
whole library keeps the target sizes.

Deterministic: every value comes from ``random.Random`` streams seeded from the seed and the
chunk's number (never the global generator), so chunks can be drawn in any order or in parallel
processes and the library stays the same; dates are relative to the fixed ``AS_OF``, not today.
Ownership, consent and key-project lists have streams of their own, so adding them changed no
other value. ``CHUNK`` is part of this contract: changing it changes the library of every
seed."""

import math
from array import array
from collections.abc import Iterator, Sequence
from datetime import date
from random import Random
from typing import Any

from service.synth.codes import MAX_ENTERPRISES, credit_code, organisation_code
from service.synth.consent import form_consent
from service.synth.draws import Choice, log_uniform, pick, randint, wan_to_fen
from service.synth.names import draw_contacts, enterprise_name
from service.synth.projects import draw_project, key_project_list
from service.synth.qualifications import draw_qualifications
from service.synth.reference import Reference, load_reference
from service.synth.vocabulary import enterprise_mix, name_parts, wuxi
from service.taxonomy.sizing import SizeRow, find_row

# The day the synthetic library describes: qualification validity, company ages and project
# years are relative to it. Fixed (not today) so the output depends on the seed only.
AS_OF = date(2026, 11, 1)
DEMO_SEED = 2024
# Projects when the caller gives no count: a richer project library for demo-sized runs, a
# thinner one (as in the real libraries) for benchmark-sized runs.
DEMO_SIZE_LIMIT = 10_000
# Enterprises drawn from one pair of random streams. Part of the determinism contract: changing
# it changes the library of every seed.
CHUNK = 1_000

CITY_AREA = "320200"
CITY_LEVEL_SHARE = 0.09
OUTSIDE_SHARE = 0.025
CHAIN_TAG_SHARE = 0.04
GRADE_SHIFT = {"large": -2, "medium": -1, "small": 0, "micro": 1}
UNRATED_SHARE = 0.04
SIZE_CLASSES = ("large", "medium", "small", "micro")
# A name with a bracketed place ("…（无锡）有限公司") is the usual form of a foreign- or
# HMT-invested subsidiary; state- and collective-controlled firms are older.
BRACKETED_INVESTED = 6.0  # foreign and HMT weights × this for a name with a bracketed place
OLD_STATE, OLD_COLLECTIVE = 2.0, 4.0  # × these for firms established before 1995
UNKNOWN_OWNERSHIP_SHARE = 0.03  # not recorded in the library (null)
FIRST_YEAR, LAST_YEAR = 1985, 2024


class Generator:
    """Draws enterprises and their projects. Build once per run; ``library`` streams them."""

    def __init__(self, seed: int, reference: Reference | None = None, as_of: date = AS_OF) -> None:
        self.seed = seed
        self.reference = reference or load_reference()
        self.as_of = as_of
        ref = self.reference
        places, mix = wuxi(), enterprise_mix()
        self.code_key = Random(f"finmatch-synth:{seed}:codes").getrandbits(32)
        known_clusters: set[str | None] = {
            c for c in ref.clusters if c in places.cluster_industries
        }
        known_clusters.add(None)
        self.district_choice = Choice(
            (d, places.district_weights.get(d, 3)) for d in ref.district_areas
        )
        self.cluster_by_district = {
            d: Choice(
                (c, w * places.district_affinity.get(d, {}).get(c, 1.0))
                for c, w in places.cluster_weights.items()
                if c in known_clusters
            )
            for d in ref.district_areas
        }
        self.cluster_anywhere = Choice(
            (c, w) for c, w in places.cluster_weights.items() if c in known_clusters
        )
        self.industry_choice = {c: Choice(places.cluster_industries[c]) for c in known_clusters}
        self.size_row_of: dict[str, SizeRow | None] = {}
        self.bounds_of: dict[str, tuple[dict[str, dict[str, float]], list[str]]] = {}
        self.grades = [g for g, _ in mix.grade_weights]
        self.grade_choice = Choice(enumerate(w for _, w in mix.grade_weights))
        self.jingkai_area = Choice(places.jingkai_areas)
        self.quals = ref.qualification_terms
        self.ownership_codes = frozenset(ref.ownership_types)
        self.ownership_choice: dict[tuple[str, bool, bool], Choice] = {}
        self.ownership_weights = mix.ownership_weights
        self.mean_age = mix.mean_age
        self.outside_areas = places.outside_areas
        self.chain_names = name_parts().chain_names

    # size -------------------------------------------------------------------------------

    def _row(self, industry_code: str) -> SizeRow | None:
        if industry_code not in self.size_row_of:
            self.size_row_of[industry_code] = find_row(industry_code, self.reference.size_rows)
        return self.size_row_of[industry_code]

    def _bounds(self, industry_code: str) -> tuple[dict[str, dict[str, float]], list[str]]:
        """The lower bounds of the enterprise's size-table row, by indicator and class."""
        if industry_code in self.bounds_of:
            return self.bounds_of[industry_code]
        row = self._row(industry_code)
        bounds: dict[str, dict[str, float]] = {"employees": {}, "revenue": {}, "assets": {}}
        for t in row.thresholds if row is not None else ():
            if t.employees_min is not None:
                bounds["employees"][t.size_class] = t.employees_min
            if t.revenue_min_wan is not None:
                bounds["revenue"][t.size_class] = t.revenue_min_wan
            if t.assets_min_wan is not None:
                bounds["assets"][t.size_class] = t.assets_min_wan
        indicators = [i for i in (row.indicators if row else ()) if bounds[i].get("small")]
        self.bounds_of[industry_code] = (bounds, indicators)
        return bounds, indicators

    @staticmethod
    def size_mix(project_rate: float) -> tuple[Choice, Choice]:
        """Size mixes for enterprises without and with projects such that the whole library
        keeps the target mix: P(has a project) ≈ 1 − e^(−rate) when owners are drawn uniformly."""
        mix = enterprise_mix()
        q = 1 - math.exp(-project_rate) if project_rate > 0 else 0.0
        without = (
            {
                c: max(0.01, (mix.size_target[c] - q * mix.size_with_projects[c]) / (1 - q))
                for c in SIZE_CLASSES
            }
            if q < 1
            else dict(mix.size_target)
        )
        return Choice(without.items()), Choice(mix.size_with_projects.items())

    def _figures(self, rng: Random, industry_code: str, target: str) -> tuple[int, int, int]:
        """Employees, revenue and assets (fen) that place the enterprise in ``target`` under its
        row of the size table (read from the data, not hard-coded here)."""
        bounds, indicators = self._bounds(industry_code)
        # One position within the band for all indicators (figures move together), with noise.
        position = rng.random() ** (0.8 if target == "micro" else 1.4)
        # A micro enterprise needs only one indicator under the small line; often the others
        # are higher (a young firm with staff but little revenue).
        lifted = (
            pick(rng, indicators)
            if target == "micro" and len(indicators) > 1 and rng.random() < 0.35
            else None
        )
        values: dict[str, float] = {}
        for indicator in indicators:
            b = bounds[indicator]
            band = "small" if indicator == lifted else target
            low, high = {
                "large": (b.get("large", b["small"] * 20), b.get("large", b["small"] * 20) * 5),
                "medium": (b.get("medium", b["small"]), b.get("large", b["small"] * 20)),
                "small": (b["small"], b.get("medium", b["small"] * 5)),
                "micro": (
                    max(1.0, b["small"] / 4) if indicator == "employees" else b["small"] / 6,
                    b["small"],
                ),
            }[band]
            p = min(1.0, max(0.0, position + rng.uniform(-0.25, 0.25)))
            values[indicator] = low * (high / low) ** (p**1.2)
        employees = values.get("employees")
        revenue = values.get("revenue")
        if employees is None:  # rows without employees (construction, real estate)
            base = revenue if revenue is not None else values.get("assets", 500.0)
            employees = max(1.0, base / log_uniform(rng, 40, 200))
        if revenue is None:  # rows by employees only (R&D, services) or by assets (leasing)
            revenue = employees * log_uniform(rng, 15, 120, 1.3)
        assets = values.get("assets")
        if assets is None:
            assets = revenue * log_uniform(rng, 0.5, 2.2)
        return (max(1, int(employees)), wan_to_fen(revenue), wan_to_fen(assets))

    # the enterprise -----------------------------------------------------------------------

    def _ownership(self, rng: Random, size: str, name: str, established: date) -> str | None:
        """Drawn from its own stream (``rng``), so that adding it changed no other value."""
        if not self.ownership_codes or rng.random() < UNKNOWN_OWNERSHIP_SHARE:
            return None
        key = (size, "（" in name, established.year < 1995)
        if key not in self.ownership_choice:
            weights = dict(self.ownership_weights[size])
            if key[1]:
                weights["foreign"] *= BRACKETED_INVESTED
                weights["hmt"] *= BRACKETED_INVESTED
            if key[2]:
                weights["state"] *= OLD_STATE
                weights["collective"] *= OLD_COLLECTIVE
            self.ownership_choice[key] = Choice(
                (c, w) for c, w in weights.items() if c in self.ownership_codes
            )
        return self.ownership_choice[key](rng)

    def _consent(
        self,
        rng: Random,
        cluster: str | None,
        district: str | None,
        established: date,
        qualifications: list[dict[str, Any]],
        serial: int,
    ) -> dict[str, Any]:
        """The choice recorded from the enterprise's signed 入库申报 form (see ``consent``), or
        nothing when it never signed one. Drawn from its own stream (``rng``), three draws per
        enterprise whatever it decides, so that adding it changed no other value and one
        enterprise's odds do not move the next one's."""
        signs, declines, when = rng.random(), rng.random(), rng.random()
        return form_consent(
            signs,
            declines,
            when,
            self.as_of,
            cluster,
            district,
            established,
            qualifications,
            serial,
        )

    def enterprise(
        self,
        rng: Random,
        index: int,
        size_choice: Choice,
        ownership_rng: Random,
        consent_rng: Random,
        form_serial: int,
    ) -> dict[str, Any]:
        outside = rng.random() < OUTSIDE_SHARE
        if outside:
            area, place = pick(rng, self.outside_areas)
            district = None
            cluster = self.cluster_anywhere(rng)
        else:
            place = None
            district = self.district_choice(rng)
            cluster = self.cluster_by_district[district](rng)
            if rng.random() < CITY_LEVEL_SHARE:
                area = CITY_AREA
            else:
                area = self.reference.district_areas[district] or self.jingkai_area(rng)
        industry = self.industry_choice[cluster](rng)
        size = size_choice(rng)
        employees, revenue, assets = self._figures(rng, industry, size)
        age = int(rng.expovariate(1 / self.mean_age[size]))
        while age > LAST_YEAR - FIRST_YEAR:
            age = int(rng.expovariate(1 / self.mean_age[size]))
        established = date(LAST_YEAR - age, randint(rng, 1, 12), randint(rng, 1, 28))
        # Codes issued since the 2015 reform carry an "MA" organisation code.
        org = organisation_code(index, self.code_key, new_style=established.year >= 2016)
        grade = None
        if rng.random() >= UNRATED_SHARE:
            rank = self.grade_choice(rng) + GRADE_SHIFT[size]
            grade = self.grades[min(len(self.grades) - 1, max(0, rank))]
        name = enterprise_name(rng, cluster, industry, district, place, size)
        ownership = self._ownership(ownership_rng, size, name, established)
        # Drawn in the order the fields are listed below (as before the consent was added).
        chain_tag = (
            f"{self.chain_names[cluster]}产业链"
            if cluster in self.chain_names and rng.random() < CHAIN_TAG_SHARE
            else None
        )
        qualifications = draw_qualifications(
            rng,
            self.quals,
            self.as_of,
            cluster,
            industry,
            size,
            established,
            employees,
            revenue,
            assets,
        )
        contacts = draw_contacts(rng, org)
        consent = self._consent(
            consent_rng, cluster, district, established, qualifications, form_serial
        )
        return {
            "credit_code": credit_code(area, org),
            "name": name,
            "district_code": district,
            "industry_code": industry,
            "cluster_code": cluster,
            "chain_tag": chain_tag,
            "employees": employees,
            "revenue_fen": revenue,
            "total_assets_fen": assets,
            "established_date": established.isoformat(),
            "credit_grade": grade,
            "ownership": ownership,
            **consent,
            "qualifications": qualifications,
            "contacts": contacts,
        }

    # projects -----------------------------------------------------------------------------

    def _listing(
        self, rng: Random, cluster: str | None, total_wan: float, year: int, status: str
    ) -> str | None:
        """The key-project list the project is on, if any (see ``projects``). Drawn from its own
        stream (``rng``), one draw per project, so that adding it changed no other value."""
        draw = rng.random()
        tier = self.reference.cluster_tiers.get(cluster or "")
        return key_project_list(draw, tier, total_wan, year, status, self.as_of)

    def project(
        self, rng: Random, enterprise: dict[str, Any], taken: set[str], listing_rng: Random
    ) -> dict[str, Any]:
        cluster = enterprise["cluster_code"]
        return draw_project(
            rng,
            enterprise,
            taken,
            self.as_of,
            lambda total_wan, year, status: self._listing(
                listing_rng, cluster, total_wan, year, status
            ),
        )

    # the library --------------------------------------------------------------------------

    @staticmethod
    def project_counts(enterprises: int, projects: int, seed: int) -> array:
        """Projects per enterprise: owners drawn uniformly, so the total is exact."""
        if enterprises > MAX_ENTERPRISES:
            raise ValueError(f"at most {MAX_ENTERPRISES} enterprises per seed")
        owners = Random(f"finmatch-synth:{seed}:owners")
        counts = array("H", bytes(2 * enterprises))
        for _ in range(projects if enterprises else 0):
            counts[owners.randrange(enterprises)] += 1
        return counts

    def chunk(
        self, number: int, counts: Sequence[int], mix: tuple[Choice, Choice]
    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Enterprises CHUNK × number … with their projects (``counts`` of them each). Every
        chunk has its own random streams, so chunks can be drawn in any order or in parallel
        processes and the library stays the same."""
        rng = Random(f"finmatch-synth:{self.seed}:enterprises:{number}")
        project_rng = Random(f"finmatch-synth:{self.seed}:projects:{number}")
        ownership_rng = Random(f"finmatch-synth:{self.seed}:ownership:{number}")
        consent_rng = Random(f"finmatch-synth:{self.seed}:consent:{number}")
        listing_rng = Random(f"finmatch-synth:{self.seed}:listing:{number}")
        # Form serials: the chunk's block of CHUNK numbers, shuffled, so that they are unique in
        # the library without following the order of the credit codes.
        serials = list(range(number * CHUNK + 1, (number + 1) * CHUNK + 1))
        consent_rng.shuffle(serials)
        without, with_projects = mix
        out = []
        for offset, k in enumerate(counts):
            enterprise = self.enterprise(
                rng,
                number * CHUNK + offset,
                with_projects if k else without,
                ownership_rng,
                consent_rng,
                serials[offset],
            )
            taken: set[str] = set()
            projects = [self.project(project_rng, enterprise, taken, listing_rng) for _ in range(k)]
            out.append((enterprise, projects))
        return out

    def library(
        self, enterprises: int, projects: int
    ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Yield (enterprise, its projects) for every index, in order. An enterprise that has
        projects leans larger (see size_mix)."""
        counts = self.project_counts(enterprises, projects, self.seed)
        mix = self.size_mix(projects / enterprises if enterprises else 0)
        for number in range(math.ceil(enterprises / CHUNK)):
            yield from self.chunk(number, counts[number * CHUNK : (number + 1) * CHUNK], mix)


def default_project_count(enterprises: int) -> int:
    return enterprises // 2 if enterprises <= DEMO_SIZE_LIMIT else enterprises // 3


def generate_library(
    enterprises: int,
    projects: int | None,
    seed: int,
    reference: Reference | None = None,
    as_of: date = AS_OF,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole library in memory (for files and tests); ``bulk_load`` streams instead."""
    if projects is None:
        projects = default_project_count(enterprises)
    generator = Generator(seed, reference, as_of)
    out_enterprises: list[dict[str, Any]] = []
    out_projects: list[dict[str, Any]] = []
    for enterprise, its_projects in generator.library(enterprises, projects):
        out_enterprises.append(enterprise)
        out_projects.extend(its_projects)
    return out_enterprises, out_projects


def generate_enterprises(
    n: int, seed: int, reference: Reference | None = None, as_of: date = AS_OF
) -> list[dict[str, Any]]:
    return generate_library(n, 0, seed, reference, as_of)[0]
