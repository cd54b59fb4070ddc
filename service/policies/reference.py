"""The city's policies as seed data (seed/reference/policies.json): a policy is added when
missing, and each version of it when its number is missing; what exists is left as the office
keeps it (a version is never changed once written)."""

from collections import Counter
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from service.policies.models import Policy, PolicyVersion
from service.policies.parameters import Parameters


def seed_policies(session: Session, items: list[dict[str, Any]], counts: Counter) -> None:
    for item in items:
        code = item["code"]
        if session.get(Policy, code) is None:
            session.add(
                Policy(
                    code=code,
                    name=item["name"],
                    department_code=item.get("department"),
                    source=item.get("source"),
                )
            )
            session.flush()
            counts["policy.created"] += 1
        else:
            counts["policy.unchanged"] += 1
        known = set(
            session.scalars(
                select(col(PolicyVersion.version)).where(col(PolicyVersion.policy_code) == code)
            )
        )
        for version in item["versions"]:
            if version["version"] in known:
                counts["policy_version.unchanged"] += 1
                continue
            parameters = Parameters.model_validate(version["parameters"])
            end = version.get("effective_to")
            session.add(
                PolicyVersion(
                    policy_code=code,
                    version=version["version"],
                    effective_from=date.fromisoformat(version["effective_from"]),
                    effective_to=date.fromisoformat(end) if end else None,
                    budget_fen=version.get("budget_fen"),
                    parameters=parameters.model_dump(mode="json", exclude_defaults=True)
                    | {"scheme": parameters.scheme.value},
                    note=version.get("note"),
                    created_by="seed",
                )
            )
            counts["policy_version.created"] += 1
