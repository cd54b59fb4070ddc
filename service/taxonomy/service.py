"""Reference-data use cases: lookups, validation with suggestions, the size table as rows, a
free text matched to clusters and figures classified by size; and the one reference the office
changes through the API, which ownership types count as 民营 (the office only: the permission
is checked here, ``require``). Reading the reference data is public."""

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.taxonomy.clusters import ClusterHit, ClusterKeywords, match_clusters
from service.taxonomy.exceptions import OwnershipTypeNotFound
from service.taxonomy.industry import IndustryCodeError, normalize_industry_code
from service.taxonomy.models import (
    Cluster,
    District,
    LprRate,
    OwnershipType,
    QualificationType,
    SizeIndustry,
    SizeThreshold,
)
from service.taxonomy.schemas import OwnershipTypeUpdate
from service.taxonomy.sizing import Figures, SizeResult, SizeRow, Threshold, classify
from service.taxonomy.suggest import closest


def list_clusters(session: Session) -> list[Cluster]:
    return list(
        session.exec(select(Cluster).order_by(col(Cluster.tier_rank), col(Cluster.priority_rank)))
    )


def match_cluster_text(session: Session, text: str, limit: int) -> list[ClusterHit]:
    """The clusters whose keywords a free text (a business scope …) holds, best first."""
    clusters = [ClusterKeywords(c.code, c.name, tuple(c.keywords)) for c in list_clusters(session)]
    return match_clusters(text, clusters, limit)


def list_districts(session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(col(District.sort_order))))


def list_qualification_types(session: Session) -> list[QualificationType]:
    return list(session.exec(select(QualificationType).order_by(col(QualificationType.sort_order))))


def district_aliases(session: Session) -> dict[str, str]:
    """How a spreadsheet names a district -> its code: "新吴区", "新吴", "江阴市", "江阴",
    "xinwu", or the area code "320214"."""
    out: dict[str, str] = {}
    for district in list_districts(session):
        out[district.code] = district.code
        out[district.name] = district.code
        for suffix in ("区", "市", "县"):
            if district.name.endswith(suffix) and len(district.name) > 2:
                out[district.name[: -len(suffix)]] = district.code
        if district.area_code:
            out[district.area_code] = district.code
    return out


def list_ownership_types(session: Session) -> list[OwnershipType]:
    return list(session.exec(select(OwnershipType).order_by(col(OwnershipType.sort_order))))


def get_ownership_type(session: Session, code: str, for_update: bool = False) -> OwnershipType:
    row = session.get(
        OwnershipType,
        code,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if row is None:
        options = [(o.code, o.name) for o in list_ownership_types(session)]
        raise OwnershipTypeNotFound(
            f"控股情况代码 '{code}' 不存在。", value=code, suggestions=closest(code, options)
        )
    return row


def update_ownership_type(
    session: Session, principal: Principal, code: str, data: OwnershipTypeUpdate
) -> OwnershipType:
    """Whether the type counts as 民营 (the office's decision); the audit hook records who
    changed it. Listeners (products restricted to 民营企业) hear of the change in the same
    transaction."""
    require(principal, Role.office)
    row = get_ownership_type(session, code, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    if "private" in changes and changes["private"] is None:
        raise Unprocessable("private 不能为空。", code="missing_field", field="private")
    if "private" in changes and changes["private"] != row.private:
        row.private = changes["private"]
        session.flush()
        emit(session, "ownership_type.changed", code=row.code, private=row.private)
        session.commit()
        session.refresh(row)
    return row


def list_lpr(session: Session) -> list[LprRate]:
    return list(
        session.exec(
            select(LprRate).order_by(col(LprRate.effective_date).desc(), col(LprRate.tenor))
        )
    )


def _size_table(session: Session) -> tuple[Sequence[SizeIndustry], Sequence[SizeThreshold]]:
    """The size table's industries in their order, and every threshold."""
    industries = session.exec(select(SizeIndustry).order_by(col(SizeIndustry.sort_order))).all()
    return industries, session.exec(select(SizeThreshold)).all()


def load_size_rows(session: Session) -> list[SizeRow]:
    industries, thresholds = _size_table(session)
    by_key: dict[str, list[Threshold]] = {}
    for t in thresholds:
        by_key.setdefault(t.industry_key, []).append(
            Threshold(str(t.size_class), t.employees_min, t.revenue_min_wan, t.assets_min_wan)
        )
    return [
        SizeRow(
            i.key, i.name, tuple(i.gbt_scope), tuple(i.indicators), tuple(by_key.get(i.key, ()))
        )
        for i in industries
    ]


def size_standards(session: Session) -> list[tuple[SizeIndustry, list[SizeThreshold]]]:
    industries, thresholds = _size_table(session)
    order = {"large": 0, "medium": 1, "small": 2}
    return [
        (
            i,
            sorted(
                (t for t in thresholds if t.industry_key == i.key),
                key=lambda t: order.get(str(t.size_class), 9),
            ),
        )
        for i in industries
    ]


def classify_size(session: Session, industry_code: str, figures: Figures) -> tuple[str, SizeResult]:
    """The industry code as written in the table, and its size class from the figures; an
    industry code that is not one is a 422 ``invalid_industry_code``."""
    try:
        code = normalize_industry_code(industry_code)
    except IndustryCodeError as exc:
        raise Unprocessable(str(exc), code="invalid_industry_code", field="industry_code") from exc
    return code, classify(code, figures, load_size_rows(session))


def _unknown(
    kind: str, label: str, field: str, value: str, options: Iterable[tuple[str, str]]
) -> Unprocessable:
    suggestions = closest(value, options)
    hint = "、".join(f"{s['value']}（{s['label']}）" for s in suggestions)
    detail = f"未知的{label} '{value}'。" + (f"是否指：{hint}？" if hint else "")
    return Unprocessable(
        detail, code=f"unknown_{kind}", field=field, value=value, suggestions=suggestions
    )


class Vocabulary:
    """The valid codes of the reference data, loaded once per use case."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._clusters: dict[str, str] | None = None
        self._districts: dict[str, str] | None = None
        self._qualifications: dict[str, str] | None = None
        self._ownership: dict[str, str] | None = None

    @property
    def clusters(self) -> dict[str, str]:
        if self._clusters is None:
            self._clusters = {c.code: c.name for c in list_clusters(self._session)}
        return self._clusters

    @property
    def districts(self) -> dict[str, str]:
        if self._districts is None:
            self._districts = {d.code: d.name for d in list_districts(self._session)}
        return self._districts

    @property
    def qualifications(self) -> dict[str, str]:
        if self._qualifications is None:
            self._qualifications = {q.code: q.name for q in list_qualification_types(self._session)}
        return self._qualifications

    @property
    def ownership_types(self) -> dict[str, str]:
        if self._ownership is None:
            self._ownership = {o.code: o.name for o in list_ownership_types(self._session)}
        return self._ownership

    def cluster(self, value: str | None, field: str = "cluster_code") -> str | None:
        return self._check("cluster", "产业集群代码", field, value, self.clusters)

    def district(self, value: str | None, field: str = "district_code") -> str | None:
        return self._check("district", "区县代码", field, value, self.districts)

    def qualification(self, value: str | None, field: str = "type_code") -> str | None:
        return self._check("qualification", "资质类型代码", field, value, self.qualifications)

    def ownership(self, value: str | None, field: str = "ownership") -> str | None:
        return self._check("ownership", "控股情况代码", field, value, self.ownership_types)

    def clusters_list(self, values: Sequence[str], field: str) -> list[str]:
        return [self.cluster(v, field) for v in values]  # type: ignore[misc]

    def districts_list(self, values: Sequence[str], field: str) -> list[str]:
        return [self.district(v, field) for v in values]  # type: ignore[misc]

    def qualifications_list(self, values: Sequence[str], field: str) -> list[str]:
        return [self.qualification(v, field) for v in values]  # type: ignore[misc]

    def ownership_list(self, values: Sequence[str], field: str) -> list[str]:
        return [self.ownership(v, field) for v in values]  # type: ignore[misc]

    @staticmethod
    def _check(
        kind: str, label: str, field: str, value: str | None, known: dict[str, str]
    ) -> str | None:
        if value is None:
            return None
        if value in known:
            return value
        # A name given instead of a code is accepted ("新吴区" for "xinwu").
        for code, name in known.items():
            if value == name:
                return code
        raise _unknown(kind, label, field, value, known.items())
