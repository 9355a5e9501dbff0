"""A dealer's scorecard: each criterion month by month from the kept figures (DealerMonth: one index
range of at most 24 rows), the tier and its proposals, and a page of their stores in the reader's scope.

Nothing here sums sales lines: the monthly recompute keeps the figures, so the page costs the same at
1,000 dealers and 20,000 stores as at ten."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from flask_babel import format_date, format_decimal, lazy_gettext as _l
from sqlalchemy import func, select

from field import providers, scope
from field.channel.charts import Trend, trend
from field.channel.models import MONEY_METRICS, DealerMonth, DealerPayment, Metric, Tier, TierProposal
from field.channel.tiers import MonthFigures, add_months, meets, values
from field.core import company_today, format_money
from field.dealers.models import Dealer
from field.extensions import db
from field.stores.models import Store

METRIC_LABELS = {
    Metric.SALES_MONTH: _l("Sales, month"),
    Metric.SALES_3M: _l("Sales, last 3 months"),
    Metric.GROWTH_YOY: _l("Growth vs last year"),
    Metric.GROWTH_MOM: _l("Growth vs previous month"),
    Metric.COVERAGE: _l("Store coverage"),
    Metric.COMPLIANCE: _l("Evidence compliance"),
    Metric.PUNCTUALITY: _l("Payment punctuality"),
}

MONTHS_SHOWN = 12
STORES_SHOWN = 50


def metric_label(metric: str) -> str:
    try:
        return str(METRIC_LABELS[Metric(metric)])
    except ValueError:
        return metric


def metric_value(metric: str, value) -> str:
    """A metric's value as shown: money as ¥, the rest as a percentage; "—" when unknown."""
    if value is None or value == "":
        return "—"
    if metric in MONEY_METRICS:
        return format_money(int(Fraction(value)))
    return format_decimal(round(float(Fraction(value)), 1), format="#,##0.#") + "%"


def threshold_text(metric: str, threshold) -> str:
    return metric_value(metric, threshold)


@dataclass
class Criterion:
    metric: str
    label: str
    chart: Trend
    latest: str
    needed: list[tuple[str, str, bool]]  # (tier, threshold shown, met by the latest month)


@dataclass
class Scorecard:
    dealer: Dealer
    month: date | None
    criteria: list[Criterion]
    proposals: list[TierProposal]
    open_proposal: TierProposal | None
    stores: list[Store]
    store_count: int
    orders: object
    payments: list[DealerPayment]


def scorecard(dealer: Dealer, user) -> Scorecard:
    last = db.session.execute(select(func.max(DealerMonth.month)).where(DealerMonth.dealer_id == dealer.id)
                              ).scalar_one_or_none()
    month = last or add_months(company_today().replace(day=1), -1)
    first = add_months(month, -(MONTHS_SHOWN - 1))
    kept = {m.month: MonthFigures(m.sales, m.stores, m.on_schedule, m.periods, m.approved, m.payments, m.on_time)
            for m in db.session.execute(select(DealerMonth).where(
                DealerMonth.dealer_id == dealer.id, DealerMonth.month >= add_months(first, -12),
                DealerMonth.month <= month)).scalars()}
    months = [add_months(first, i) for i in range(MONTHS_SHOWN)]
    by_month = {m: values(kept, m) for m in months}
    tiers = db.session.execute(select(Tier).order_by(Tier.rank.desc())).scalars().all()
    criteria = []
    for metric in Metric:
        points = []
        for m in months:
            v = by_month[m][metric] if m in kept or metric in MONEY_METRICS else None
            points.append((format_date(m, "MMM"), v, metric_value(metric, v)))
        latest = by_month[month][metric] if last else None
        needed = [(t.name, threshold_text(metric, c.threshold), meets(metric, latest, c.threshold))
                  for t in tiers for c in t.criteria if c.metric == metric]
        criteria.append(Criterion(metric.value, str(METRIC_LABELS[metric]), trend(points),
                                  metric_value(metric, latest), needed))
    proposals = db.session.execute(select(TierProposal).where(TierProposal.dealer_id == dealer.id)
                                   .order_by(TierProposal.month.desc()).limit(6)).scalars().all()
    stores_q = scope.stores(user).where(Store.dealer_id == dealer.id)
    store_count = db.session.execute(stores_q.with_only_columns(func.count()).order_by(None)).scalar_one()
    stores = db.session.execute(stores_q.order_by(Store.active.desc(), Store.name, Store.id)
                                .limit(STORES_SHOWN)).scalars().all()
    payments = db.session.execute(select(DealerPayment).where(DealerPayment.dealer_id == dealer.id)
                                  .order_by(DealerPayment.id.desc()).limit(6)).scalars().all()
    orders = providers.ask("dealer_orders_summary", dealer, default=None)  # field/orders: counts, latest
    return Scorecard(dealer, last, criteria, proposals,
                     next((p for p in proposals if p.status == "open"), None), stores, store_count, orders, payments)
