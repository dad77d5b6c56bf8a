"""The operations dashboard's figures, from the statistics the services publish (counts only, never a
person): the invitation funnel by region, office, channel, language and month, the outcome mix, the
referral pipeline and returns by partner, delivery by channel and language.

Pure functions of the gateway's answers, so that the tables, the charts and the CSV/XLSX exports are
the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

FUNNEL = ("invited", "confirmed", "honoured", "no_show", "cancelled", "declined")
OUTCOMES = ("legal_stay_possible", "return_accepted", "return_refused")
PIPELINE = ("referred", "acknowledged", "departed", "withdrawn", "rejected", "open", "overdue")
DELIVERY = ("sent", "failed", "retried", "pending")


@dataclass(frozen=True)
class Table:
    """One table of the dashboard: a dimension, its measures, and rows of numbers."""

    name: str
    dimension: str
    measures: tuple[str, ...]
    rows: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        return {m: sum(r.get(m, 0) for _, r in self.rows) for m in self.measures}


def month_of_week(week: str) -> str:
    """`2026-W10` -> `2026-03`: the month of the week's Thursday (as ISO weeks belong to years)."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 4).strftime("%Y-%m")


def _summed(
    rows: Iterable[Mapping[str, Any]], key: Any, measures: tuple[str, ...]
) -> list[tuple[str, dict[str, float]]]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(measures, 0))
    for row in rows:
        bucket = sums[str(key(row) or "—")]
        for m in measures:
            bucket[m] += float(row.get(m) or 0)
    return sorted(sums.items())


def funnel(rows: list[Mapping[str, Any]], outcome_rows: list[Mapping[str, Any]]) -> dict[str, Table]:
    """The funnel by each dimension; `outcome` (first decisions) where the case statistics have it."""
    tables = {
        dim: Table(f"funnel_{dim}", dim, FUNNEL, _summed(rows, lambda r, d=dim: r.get(d), FUNNEL))
        for dim in ("region", "office", "entry_channel", "language")
    }
    tables["month"] = Table(
        "funnel_month", "month", FUNNEL, _summed(rows, lambda r: month_of_week(r["week"]), FUNNEL)
    )
    decided = {
        "region": _first_outcomes(outcome_rows, lambda r: r["region"]),
        "month": _first_outcomes(outcome_rows, lambda r: str(r["month"])[:7]),
    }
    for dim, counts in decided.items():
        table = tables[dim]
        keys = {k for k, _ in table.rows} | set(counts)
        merged = dict(table.rows)
        rows_out = [
            (k, merged.get(k, dict.fromkeys(FUNNEL, 0)) | {"outcome": counts.get(k, 0)}) for k in sorted(keys)
        ]
        tables[dim] = Table(table.name, dim, (*FUNNEL, "outcome"), rows_out)
    return tables


def _first_outcomes(rows: Iterable[Mapping[str, Any]], key: Any) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for row in rows:
        counts[key(row)] += float(row.get("first_outcomes") or 0)
    return dict(counts)


def outcome_mix(rows: list[Mapping[str, Any]]) -> Table:
    """Outcome decisions per region (A / B / C)."""
    flat = [
        {"region": r["region"], **{o: (r.get("outcomes") or {}).get(o, 0) for o in OUTCOMES}} for r in rows
    ]
    return Table("outcomes_region", "region", OUTCOMES, _summed(flat, lambda r: r["region"], OUTCOMES))


def pipeline(rows: list[Mapping[str, Any]]) -> Table:
    return Table("referrals_partner", "partner", PIPELINE, _summed(rows, lambda r: r["partner"], PIPELINE))


def delivery(rows: list[Mapping[str, Any]], dimension: str) -> Table:
    return Table(
        f"delivery_{dimension}", dimension, DELIVERY, _summed(rows, lambda r: r[dimension], DELIVERY)
    )


def dashboard(
    funnel_rows: list[Any], outcome_rows: list[Any], pipeline_rows: list[Any], delivery_rows: list[Any]
) -> dict[str, Table]:
    tables = {f"funnel_{k}": t for k, t in funnel(funnel_rows, outcome_rows).items()}
    tables["outcomes_region"] = outcome_mix(outcome_rows)
    tables["referrals_partner"] = pipeline(pipeline_rows)
    tables["delivery_channel"] = delivery(delivery_rows, "channel")
    tables["delivery_language"] = delivery(delivery_rows, "language")
    return tables


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def range_params(first: str | None, last: str | None) -> dict[str, dict[str, str | None]]:
    """A month range (`2026-01`..`2026-03`) in each statistics route's own parameters."""
    start = date.fromisoformat(first + "-01") if first else None
    end = date.fromisoformat(last + "-01") if last else None
    last_day = date(end.year + end.month // 12, end.month % 12 + 1, 1) - timedelta(days=1) if end else None
    return {
        "funnel": {
            "week_from": _week(start) if start else None,
            "week_to": _week(last_day) if last_day else None,
        },
        "outcomes": {
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
        },
        "pipeline": {"month_from": first, "month_to": last},
    }
