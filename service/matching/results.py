"""What the scorer answers for one (enterprise, product) pair: every failed gate with its reason,
its remedy, whether the enterprise can act on it soon and how far the remedy goes; every factor
with its weight, value, contribution and reason; the score (the contributions added up, in
hundredths of a point) and whether the pair is a near miss. Pure data."""

from dataclasses import dataclass


@dataclass(frozen=True)
class GateFailure:
    gate: str
    reason: str
    remedy: str
    actionable: bool = False  # the enterprise can change it soon
    # How far the remedy goes, 0–1 (the share of the amount to give up, of the term to
    # change; a fixed effort for a qualification, collateral, a purpose or a commitment):
    # near misses are shown closest first.
    gap: float = 1.0


@dataclass(frozen=True)
class Factor:
    name: str
    weight: int
    value: float  # 0–1
    contribution_centi: int  # hundredths of a point
    reason: str

    @property
    def contribution(self) -> float:
        return self.contribution_centi / 100


@dataclass(frozen=True)
class Result:
    enterprise_id: int
    product_id: int
    config_version: int
    eligible: bool
    failures: tuple[GateFailure, ...]
    factors: tuple[Factor, ...]
    rate_bp: int | None

    @property
    def score_centi(self) -> int:
        return sum(f.contribution_centi for f in self.factors) if self.eligible else 0

    @property
    def score(self) -> float:
        return self.score_centi / 100

    @property
    def gap(self) -> float:
        """How far an ineligible pair is from eligible: the failures' gaps added up."""
        return sum(f.gap for f in self.failures)

    @property
    def near_miss(self) -> bool:
        """Ineligible only for reasons the enterprise can change soon."""
        return not self.eligible and all(f.actionable for f in self.failures)
