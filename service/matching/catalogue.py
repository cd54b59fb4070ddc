"""The catalogue as the use cases score against it: the active products at their current
versions (each an ``Offer``: the product as the answers show it, with its rules), the Chinese
names of codes, the configuration in force and the day, compiled once into ``ProductArrays``.
``Catalogue.load`` keeps a per-process copy that a cheap stamp query keeps current."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from service.core.models import today_local
from service.enterprises.models import Enterprise
from service.matching import facts, queries, scoring
from service.matching.product_arrays import ProductArrays, score_one
from service.matching.results import Result
from service.products.models import Product, ProductVersion
from service.products.queries import bank_names


@dataclass(frozen=True)
class Offer:
    """A product at its current version, as the answers show it, with its rules."""

    ref: dict
    rules: scoring.ProductRules

    @property
    def version(self) -> int:
        return int(self.ref["product_version"])


@dataclass
class Catalogue:
    """The active products at their current versions, with what the answers need."""

    offers: list[Offer]
    names: dict[str, str]
    config: scoring.ScoringConfig
    on: date
    arrays: ProductArrays | None = None

    @classmethod
    def load(cls, session: Session, on: date | None = None) -> "Catalogue":
        """The catalogue in force, from a per-process copy that a cheap stamp query (the
        newest product, bank and configuration changes, and row counts) keeps current."""
        on = on or today_local()
        key = session.get_bind().engine.url.render_as_string(hide_password=True)
        stamp = (on, *queries.catalogue_stamp(session))
        cached = _catalogues.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        banks = dict(bank_names(session))
        offers = [
            Offer(offer_ref(product, version, banks.get(product.bank_code)), rules)
            for product, version, rules in facts.catalogue(session)
        ]
        catalogue = cls(
            offers,
            facts.names(session),
            facts.current_config(session, on),
            on,
            ProductArrays([offer.rules for offer in offers]),
        )
        _catalogues[key] = (stamp, catalogue)
        return catalogue

    def score_all(
        self, enterprise: scoring.EnterpriseFacts, need: scoring.NeedFacts | None
    ) -> list[Result]:
        """The results of every product that is eligible or a near miss (the vectorised gates
        leave out the rest without scoring them)."""
        if self.arrays is None:
            return [
                scoring.score(enterprise, need, offer.rules, self.on, self.config, self.names)
                for offer in self.offers
            ]
        return score_one(enterprise, need, self.arrays, self.on, self.config, self.names)

    def enterprise_facts(self, session: Session, enterprise: Enterprise) -> scoring.EnterpriseFacts:
        (out,) = facts.enterprise_facts(
            session, [enterprise], on=self.on, window_days=self.config.bridge_window_days
        )
        return out

    def ref_of(self, product_id: int) -> dict:
        if not hasattr(self, "_by_id"):
            self._by_id = {offer.rules.id: offer.ref for offer in self.offers}
        return self._by_id[product_id]


def offer_ref(product: Product, version: ProductVersion, bank_name: str | None) -> dict:
    return {
        "product_code": product.code,
        "product_name": version.name,
        "product_version": version.version,
        "bank_code": product.bank_code,
        "bank_name": bank_name,
        "scheme": version.scheme,
        "category": str(version.category),
    }


_catalogues: dict[str, tuple[tuple, Catalogue]] = {}
