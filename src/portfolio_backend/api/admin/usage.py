"""GET /admin/api/usage: turns, visitors, tokens and cost per UTC day, and today's budget use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ...deps import LedgerDep
from ...store.usage import DAY_SECONDS, DayUsage

router = APIRouter(prefix="/api", tags=["admin"])


class DayFigures(BaseModel):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")
    turns: int
    visitors: int = Field(description="Distinct visitors with at least one turn.")
    prompt_tokens: int
    cached_tokens: int = Field(description="Part of prompt_tokens served from the model's prompt cache.")
    completion_tokens: int
    tokens: int = Field(description="prompt_tokens + completion_tokens.")
    cost_usd: float
    estimated_turns: int = Field(description="Turns whose usage the server did not report: estimated, not exact.")


class BudgetFigures(BaseModel):
    daily_usd: float | None = Field(description="DAILY_BUDGET_USD; null when none is set.")
    spent_today_usd: float = Field(description="Today's spend, turns in flight included.")
    used_fraction: float | None = Field(description="spent_today_usd / daily_usd; null without a budget.")
    visitor_daily_tokens: int | None = Field(description="VISITOR_DAILY_TOKENS; null when none is set.")
    resets_at: str = Field(description="The next UTC midnight, ISO 8601.")


class UsageReport(BaseModel):
    model: str = Field(description="The model turns are priced as.")
    days: list[DayFigures] = Field(description="Oldest first; the last is today.")
    budget: BudgetFigures


def _figures(day: DayUsage) -> DayFigures:
    return DayFigures(
        date=datetime.fromtimestamp(day.day * DAY_SECONDS, UTC).date().isoformat(),
        turns=day.turns,
        visitors=day.visitors,
        prompt_tokens=day.prompt_tokens,
        cached_tokens=day.cached_tokens,
        completion_tokens=day.completion_tokens,
        tokens=day.tokens,
        cost_usd=day.micro_usd / 1_000_000,
        estimated_turns=day.estimated_turns,
    )


@router.get("/usage")
async def read_usage(
    ledger: LedgerDep,
    days: Annotated[int, Query(ge=1, le=90, description="How many UTC days, today included.")] = 30,
) -> UsageReport:
    """Turns, visitors, tokens and cost per UTC day (today last), and how much of today's budget is used."""
    figures = await ledger.last_days(days)
    today = figures[-1]
    budgets = ledger.budgets
    spent = (today.micro_usd + today.reserved_micro_usd) / 1_000_000
    daily = budgets.daily_micro_usd / 1_000_000 if budgets.daily_micro_usd else None
    return UsageReport(
        model=ledger.model,
        days=[_figures(day) for day in figures],
        budget=BudgetFigures(
            daily_usd=daily,
            spent_today_usd=spent,
            used_fraction=spent / daily if daily else None,
            visitor_daily_tokens=budgets.visitor_daily_tokens or None,
            resets_at=datetime.fromtimestamp((today.day + 1) * DAY_SECONDS, UTC).isoformat().replace("+00:00", "Z"),
        ),
    )
