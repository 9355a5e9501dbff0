"""Tier criteria and proposals (field/channel): the figures a dealer is judged on, which tier it meets,
the monthly recompute's proposals, and a manager's decision."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from field.activities.models import Review, Verdict
from field.audit import AuditEvent
from field.channel import operations as ops
from field.channel.models import DealerMonth, Metric, ProposalStatus, Tier, TierProposal
from field.channel.tiers import MonthFigures, TierRule, add_months, best_tier, meets, values
from field.core import Conflict, FieldError
from field.dealers.models import Dealer
from field.extensions import db
from field.sales.models import Sale
from tests.factories import make_store, make_visit, running

pytestmark = pytest.mark.usefixtures("request_ctx")

NOV = date(2026, 11, 1)


def make_dealer(region, code="D1", name="华东经销商", tier=""):
    dealer = Dealer(code=code, name=name, region=region, tier=tier, active=True, contact_name="", phone="", address="")
    db.session.add(dealer)
    db.session.commit()
    return dealer


def sale(store, day, amount):
    db.session.add(Sale(store=store, sold_on=day, amount=amount, quantity=1, source="import",
                        source_key=f"{store.id}-{day}-{amount}"))
    db.session.commit()


# --- the figures -----------------------------------------------------------------------------------

def test_add_months_crosses_years():
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 11, 1), -12) == date(2025, 11, 1)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_values_from_the_kept_months():
    months = {NOV: MonthFigures(sales=120_000, stores=10, on_schedule=7, periods=4, approved=3),
              add_months(NOV, -1): MonthFigures(sales=100_000),
              add_months(NOV, -2): MonthFigures(sales=80_000),
              add_months(NOV, -12): MonthFigures(sales=60_000)}
    v = values(months, NOV)
    assert v[Metric.SALES_MONTH] == 120_000
    assert v[Metric.SALES_3M] == 300_000
    assert v[Metric.GROWTH_MOM] == 20          # 120k vs 100k
    assert v[Metric.GROWTH_YOY] == 100         # 120k vs 60k a year before
    assert v[Metric.COVERAGE] == 70
    assert v[Metric.COMPLIANCE] == 75


def test_growth_is_unknown_without_an_earlier_month_and_fails():
    v = values({NOV: MonthFigures(sales=50_000)}, NOV)
    assert v[Metric.GROWTH_YOY] is None and v[Metric.GROWTH_MOM] is None
    assert not meets(Metric.GROWTH_YOY, None, Decimal("0"))
    # Nothing reviewed is not held against the dealer; no stores means coverage is unknown and fails.
    assert v[Metric.COMPLIANCE] is None and meets(Metric.COMPLIANCE, None, Decimal("90"))
    assert not meets(Metric.COVERAGE, None, Decimal("10"))


def test_a_threshold_is_met_at_exactly_its_value():
    assert meets(Metric.COVERAGE, Fraction(70), Decimal("70.00"))
    assert not meets(Metric.COVERAGE, Fraction(6999, 100), Decimal("70.00"))


def test_the_best_ranked_tier_whose_criteria_all_hold():
    tiers = [TierRule("潜力渠道", 1, ()),
             TierRule("战略渠道", 2, ((Metric.SALES_MONTH, Decimal(100_000)),)),
             TierRule("价值渠道", 3, ((Metric.SALES_MONTH, Decimal(100_000)), (Metric.COVERAGE, Decimal(80))))]
    assert best_tier(tiers, {Metric.SALES_MONTH: 150_000, Metric.COVERAGE: Fraction(90)}) == "价值渠道"
    assert best_tier(tiers, {Metric.SALES_MONTH: 150_000, Metric.COVERAGE: Fraction(50)}) == "战略渠道"
    assert best_tier(tiers, {Metric.SALES_MONTH: 10, Metric.COVERAGE: Fraction(90)}) == "潜力渠道"
    assert best_tier(tiers[1:], {Metric.SALES_MONTH: 10, Metric.COVERAGE: None}) == ""


# --- criteria as a manager types them ----------------------------------------------------------------

@pytest.mark.parametrize("metric,text,field", [
    ("turnover", "10", "metric"),            # a criterion that references nothing
    ("coverage", "abc", "threshold"),
    ("coverage", "-5", "threshold"),
    ("coverage", "", "threshold"),
    ("coverage", "NaN", "threshold"),
    ("growth_yoy", "1e9", "threshold"),
    ("sales_month", "100.005", "threshold"),  # money: at most two decimals
    ("sales_month", "-1", "threshold"),
])
def test_bad_criteria_are_refused_with_the_field_named(org, metric, text, field):
    tier = ops.create_tier("价值渠道", 3, org.manager)
    with pytest.raises(FieldError) as err:
        ops.set_criterion(tier, metric, text, org.manager)
    assert err.value.field == field and err.value.message
    assert tier.criteria == []


def test_money_thresholds_are_typed_in_yuan_and_kept_in_fen(org):
    tier = ops.create_tier("价值渠道", 3, org.manager)
    crit = ops.set_criterion(tier, "sales_month", "1,000.50", org.manager)
    assert crit.threshold == Decimal(100_050)
    again = ops.set_criterion(tier, "sales_month", "2000", org.manager)
    assert again is crit and crit.threshold == Decimal(200_000)


def test_tier_names_are_unique_and_ranks_whole(org):
    ops.create_tier("价值渠道", 3, org.manager)
    with pytest.raises(FieldError) as err:
        ops.create_tier("价值渠道", 2, org.manager)
    assert err.value.field == "name"
    for rank in ("x", "0", "100", "1.5"):
        with pytest.raises(FieldError) as err:
            ops.create_tier("战略渠道", rank, org.manager)
        assert err.value.field == "rank"


# --- the recompute and its proposals -------------------------------------------------------------------

def _tiers(org):
    top = ops.create_tier("价值渠道", 3, org.manager)
    ops.set_criterion(top, "sales_month", "1000", org.manager)
    ops.set_criterion(top, "coverage", "50", org.manager)
    ops.create_tier("潜力渠道", 1, org.manager)
    db.session.commit()


def test_recompute_keeps_figures_and_proposes_the_best_tier(org):
    _tiers(org)
    dealer = make_dealer(org.east)
    a = make_store(rep=org.rep, dealer_id=dealer.id, tier="C")
    b = make_store(rep=org.rep, dealer_id=dealer.id, tier="C")
    make_store(rep=org.rep)  # another dealer's (none): not counted
    sale(a, date(2026, 11, 3), 80_000)
    sale(b, date(2026, 11, 20), 40_000)
    sale(a, date(2025, 11, 3), 60_000)
    sale(a, date(2026, 12, 1), 999_999)  # the next month: not November's
    # A visited on its frequency (C: 30 days) before November's end; B never.
    make_visit(org.rep, a, at=datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), minutes=20)
    result = ops.recompute(NOV, actor=org.manager)
    db.session.commit()
    kept = db.session.execute(select(DealerMonth).where(DealerMonth.dealer_id == dealer.id,
                                                        DealerMonth.month == NOV)).scalar_one()
    assert (kept.sales, kept.stores, kept.on_schedule) == (120_000, 2, 1)
    last_year = db.session.execute(select(DealerMonth).where(DealerMonth.month == date(2025, 11, 1))).scalar_one()
    assert last_year.sales == 60_000
    assert result["proposals"] == 1
    proposal = db.session.execute(select(TierProposal)).scalar_one()
    assert (proposal.from_tier, proposal.to_tier, proposal.status) == ("", "价值渠道", ProposalStatus.OPEN)
    assert proposal.figures["coverage"] == "50.00" and proposal.figures["sales_month"] == "120000"
    assert dealer.tier == ""  # nothing changes until a manager confirms

    # Run again: the same proposal, no second one.
    assert ops.recompute(NOV, actor=org.manager)["proposals"] == 0
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(TierProposal)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(DealerMonth).where(
        DealerMonth.month == NOV)).scalar_one() == 1


def test_compliance_counts_the_latest_review_of_each_period(org):
    dealer = make_dealer(org.east)
    store = make_store(rep=org.rep, dealer_id=dealer.id)
    line = running(org.manager, [store]).stores[0]
    at = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    db.session.add_all([
        Review(activity_store_id=line.id, period_index=0, verdict=Verdict.REJECTED, reviewer=org.supervisor,
               created_at=at, previous_id=0),
        Review(activity_store_id=line.id, period_index=1, verdict=Verdict.REJECTED, reviewer=org.supervisor,
               created_at=at, previous_id=0)])
    db.session.commit()
    first = db.session.execute(select(Review).where(Review.period_index == 0)).scalar_one()
    db.session.add(Review(activity_store_id=line.id, period_index=0, verdict=Verdict.APPROVED,
                          reviewer=org.supervisor, created_at=at + timedelta(days=1), previous_id=first.id))
    db.session.commit()
    ops.recompute(NOV, actor=org.manager)
    kept = db.session.execute(select(DealerMonth).where(DealerMonth.month == NOV)).scalar_one()
    assert (kept.periods, kept.approved) == (2, 1)


def test_no_proposal_when_the_dealer_is_where_it_belongs_or_inactive(org):
    _tiers(org)
    stays = make_dealer(org.east, code="D1", tier="潜力渠道")
    gone = make_dealer(org.east, code="D2")
    gone.active = False
    db.session.commit()
    ops.recompute(NOV, actor=org.manager)
    assert db.session.execute(select(TierProposal)).scalars().all() == []
    assert stays.tier == "潜力渠道"


def test_confirm_changes_the_tier_reject_keeps_it_and_both_are_audited(org):
    _tiers(org)
    up = make_dealer(org.east, code="D1")
    down = make_dealer(org.east, code="D2", tier="价值渠道")
    ops.recompute(NOV, actor=org.manager)
    db.session.commit()
    p_up = db.session.execute(select(TierProposal).where(TierProposal.dealer_id == up.id)).scalar_one()
    p_down = db.session.execute(select(TierProposal).where(TierProposal.dealer_id == down.id)).scalar_one()
    assert (p_up.to_tier, p_down.to_tier) == ("潜力渠道", "潜力渠道")
    ops.decide(p_up, True, org.manager)
    ops.decide(p_down, False, org.manager)
    db.session.commit()
    assert up.tier == "潜力渠道" and down.tier == "价值渠道"
    assert p_up.status == ProposalStatus.CONFIRMED and p_up.decided_by_id == org.manager.id
    assert p_down.status == ProposalStatus.REJECTED
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"dealer.tier_confirm", "dealer.tier_reject", "dealers.recompute"} <= actions
    with pytest.raises(Conflict):
        ops.decide(p_up, False, org.manager)


def test_a_later_month_supersedes_an_open_proposal_and_keeps_decided_ones(org):
    _tiers(org)
    dealer = make_dealer(org.east)
    ops.recompute(NOV, actor=org.manager)
    db.session.commit()
    ops.recompute(date(2026, 12, 1), actor=org.manager)
    db.session.commit()
    rows = db.session.execute(select(TierProposal).order_by(TierProposal.month)).scalars().all()
    assert [r.status for r in rows] == [ProposalStatus.SUPERSEDED, ProposalStatus.OPEN]
    assert all(r.dealer_id == dealer.id for r in rows)


def test_no_tiers_no_proposals(org):
    make_dealer(org.east)
    assert ops.recompute(NOV, actor=org.manager)["proposals"] == 0
    assert db.session.execute(select(func.count()).select_from(Tier)).scalar_one() == 0


def test_a_later_month_where_the_dealer_belongs_closes_the_open_proposal(org):
    _tiers(org)
    dealer = make_dealer(org.east, tier="潜力渠道")
    store = make_store(rep=org.rep, dealer_id=dealer.id)
    sale(store, date(2026, 11, 5), 200_000)
    make_visit(org.rep, store, at=datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), minutes=20)
    ops.recompute(NOV, actor=org.manager)  # ¥2,000 and covered: 价值渠道 proposed
    db.session.commit()
    ops.recompute(date(2026, 12, 1), actor=org.manager)  # nothing sold in December: back where it is
    db.session.commit()
    rows = db.session.execute(select(TierProposal)).scalars().all()
    assert [(r.to_tier, r.status) for r in rows] == [("价值渠道", ProposalStatus.SUPERSEDED)]
    assert dealer.tier == "潜力渠道"


def test_punctuality_is_the_share_of_the_last_three_recorded_months_on_time():
    months = {NOV: MonthFigures(payments=1, on_time=1), add_months(NOV, -1): MonthFigures(payments=1, on_time=0),
              add_months(NOV, -2): MonthFigures(payments=1, on_time=1), add_months(NOV, -3): MonthFigures(payments=1)}
    assert values(months, NOV)[Metric.PUNCTUALITY] == Fraction(200, 3)
    assert values({}, NOV)[Metric.PUNCTUALITY] is None
    assert not meets(Metric.PUNCTUALITY, None, Decimal("50"))


def test_the_latest_payment_record_of_a_month_stands(org):
    dealer = make_dealer(org.east)
    ops.record_payment(dealer, "2026-11", False, org.manager)
    ops.record_payment(dealer, "2026-11", True, org.manager)
    ops.recompute(NOV, actor=org.manager)
    kept = db.session.execute(select(DealerMonth).where(DealerMonth.month == NOV)).scalar_one()
    assert (kept.payments, kept.on_time) == (1, 1)
