"""What `make cost` prints: a summary with one row per stack (its total, its budget and whether it
is within it), then each stack's priced lines; or the same as JSON for CI. The estimates come
from cost.py; the budgets from each environment's `[cost] monthly_budget_usd`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lib.analysis.cost import Estimate
from lib.analysis.pricing import Prices


@dataclass(frozen=True)
class Row:
    """One stack in the summary."""

    stack: str
    monthly_usd: float
    budget_usd: float | None  # None: the stack has no budget (the bootstrap stack)

    @property
    def over_by_usd(self) -> float | None:
        """How far the estimate is above the budget; None when within it or without one."""
        if self.budget_usd is None or self.monthly_usd <= self.budget_usd:
            return None
        return round(self.monthly_usd - self.budget_usd, 2)

    @property
    def verdict(self) -> str:
        if self.budget_usd is None:
            return "no budget"
        over = self.over_by_usd
        return "ok" if over is None else f"OVER by ${over:,.2f}"


def summary(estimates: list[Estimate], budgets: dict[str, float]) -> list[Row]:
    return [Row(e.stack, e.total, budgets.get(e.stack)) for e in estimates]


def as_json(estimates: list[Estimate], prices: Prices, budgets: dict[str, float]
            ) -> dict[str, Any]:
    """The machine-readable form, for CI."""
    return {
        "currency": prices.table["currency"],
        "region": prices.table["region"],
        "prices_as_of": prices.table["as_of"],
        "source": prices.table["source"],
        "usage_assumptions": prices.usage,
        "summary": [{"stack": r.stack, "monthly_usd": r.monthly_usd, "budget_usd": r.budget_usd,
                     "over_by_usd": r.over_by_usd, "verdict": r.verdict} for r in
                    summary(estimates, budgets)],
        "stacks": {
            e.stack: {
                "monthly_usd": e.total,
                "budget_usd": budgets.get(e.stack),
                "items": [vars(i) for i in e.items],
                "not_priced": dict(sorted(e.not_priced.items())),
            } for e in estimates},
    }


def as_table(estimates: list[Estimate], prices: Prices, budgets: dict[str, float]) -> str:
    """The summary, then every stack's lines, for people."""
    t = prices.table
    rows = summary(estimates, budgets)
    out = [f"Monthly estimate, {t['region']} on-demand {t['currency']}, prices as of {t['as_of']}"
           f" ({t['source']})", ""]
    cells = [("stack", "monthly", "budget", "verdict")] + [
        (r.stack, f"${r.monthly_usd:,.2f}",
         "-" if r.budget_usd is None else f"${r.budget_usd:,.2f}", r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    for stack, monthly, budget, verdict in cells:
        out.append(f"{stack:<{widths[0]}}  {monthly:>{widths[1]}}  {budget:>{widths[2]}}  "
                   f"{verdict}")
    out.append("")
    width = max((len(i.item) for e in estimates for i in e.items), default=20)
    for e, row in zip(estimates, rows):
        budget = "no budget" if row.budget_usd is None else \
            f"budget ${row.budget_usd:,.2f}: {row.verdict}"
        out.append(f"{e.stack}: ${e.total:,.2f} a month  ({budget})")
        for i in e.items:
            quantity = f"{i.quantity:g} {i.unit}"
            note = f"  [{i.assumption}]" if i.assumption else ""
            out.append(f"  {i.item:<{width}} {quantity:>20} {i.monthly_usd:>9,.2f}{note}")
        if e.not_priced:
            listed = ", ".join(f"{k} x{v}" for k, v in sorted(e.not_priced.items()))
            out.append(f"  not priced (not in the total): {listed}")
        out.append("")
    out.append("Usage assumed where the bill depends on traffic (pricing/*.toml [usage]): " +
               ", ".join(f"{k} = {v:g}" for k, v in prices.usage.items()))
    return "\n".join(out)
