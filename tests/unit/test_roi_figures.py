"""The kept ROI figures: the overview's sums equal measuring afresh, and every change to an input
makes exactly the figures that read it stale (the triggers of migration 0007), nothing else.

Uses the hand-computed world of test_roi.py: store T (East, tier B, convenience) runs A and B,
C1–C3 are its control stores, C4 had an activity, X6 is in another channel."""
from datetime import timedelta

from sqlalchemy import select

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.core import now
from field.extensions import db
from field.roi import figures, queries
from field.roi.models import RoiFigure
from field.sales.models import Sale
from tests.factories import make_activity, make_store
from tests.unit.test_roi import AS_OF, A_END, A_START, EVERYTHING, pay, sell, world  # noqa: F401 — the fixture


def kept(world, activity=None) -> RoiFigure:
    db.session.expire_all()
    line = (activity or world["a"]).stores[0]
    return db.session.execute(select(RoiFigure).where(RoiFigure.line_id == line.id)).scalar_one()


def refresh(world, as_of=AS_OF) -> int:
    return figures.refresh(EVERYTHING, world["org"].admin, as_of)


def total(filters, user):
    return figures.rollups(filters, user, AS_OF).total


def test_the_kept_sums_equal_measuring_afresh(world):
    admin = world["org"].admin
    assert refresh(world) == 3                           # A and B at T, the activity at C4
    fresh = queries.total(queries.lines(EVERYTHING, admin, AS_OF))
    kept_total = total(EVERYTHING, admin)
    for name in ("lines", "measured", "actual", "baseline", "incremental", "incremental_gp", "cost",
                 "measured_cost", "budget", "written_off"):
        assert getattr(kept_total, name) == getattr(fresh, name), name
    assert kept_total.roi == fresh.roi and kept_total.compliance == fresh.compliance
    assert kept_total.cost_basis == "committed"
    by_activity = figures.rollups(EVERYTHING, admin, AS_OF).activities
    assert sorted((r.label, r.incremental_gp) for r in by_activity) == sorted(
        (x.activity.title, x.incremental_gp or 0) for x in queries.lines(EVERYTHING, admin, AS_OF))
    a = kept(world)
    assert (a.actual, a.baseline, a.incremental_gp, a.controls) == (180_000, 97_174, 24_848, 3)  # test_roi's figures


def test_current_figures_are_not_measured_again(world):
    refresh(world)
    assert refresh(world) == 0


def test_a_sale_at_the_store_or_a_control_store_makes_the_group_stale_and_no_other(world):
    refresh(world)
    db.session.add(Sale(store_id=world["controls"][0].id, sold_on=A_START, amount=30_000, quantity=1,
                        source="import", source_key="late"))  # a control sold ¥300 more during A
    db.session.commit()
    assert refresh(world) == 3                           # T's lines and C4's share T's group
    assert kept(world).baseline == 97_174 + 30_000 // 3  # the controls' trend rose ¥10.00 a day × 10 days
    elsewhere = make_store(rep=world["org"].rep, code="Y", tier="A", channel="supermarket")
    sell(elsewhere, A_START, 30_000)
    db.session.commit()
    assert refresh(world) == 0


def test_the_overview_measures_what_changed_before_adding_up(world):
    admin = world["org"].admin
    first = total(EVERYTHING, admin)                     # nothing kept yet: all three measured
    assert first.lines == 3 and kept(world).baseline == 97_174
    db.session.add(Sale(store_id=world["controls"][0].id, sold_on=A_START, amount=30_000, quantity=1,
                        source="import", source_key="late"))
    db.session.commit()
    total(EVERYTHING, admin)                             # no refresh() first: the sums find the stale lines
    assert kept(world).baseline == 97_174 + 10_000
    assert refresh(world) == 0


def test_a_review_and_a_payment_show_in_the_kept_figures(world):
    org, line = world["org"], world["a"].stores[0]
    refresh(world)
    db.session.add(Review(activity_store=line, period_index=0, verdict=Verdict.APPROVED, reason="", note="",
                          reviewer=org.supervisor))
    db.session.commit()
    assert refresh(world) > 0
    assert (kept(world).verified, kept(world).required) == (1, 2)
    pay(world, 30_000, 20_000)
    assert refresh(world) > 0
    a = total(queries.Filters(A_START, A_END, activity_id=world["a"].id), org.admin)
    assert (a.cost, a.cost_basis, a.written_off) == (20_000, "written_off", 20_000)


def test_an_activity_at_a_control_store_takes_it_out_of_the_controls(world):
    refresh(world)
    control = world["controls"][0]
    other = make_activity(world["org"].rep, [control], status=S.DRAFT, start=A_START, end=A_END, title="new")
    assert refresh(world) == 3                           # adding the store to a draft touched the group
    assert kept(world).controls == 3                     # a draft does not count yet
    other.status = S.APPROVED
    db.session.commit()
    assert refresh(world) == 4                           # the new activity's line too
    assert kept(world).controls == 2                     # now too few controls: the plain pre-period rate
    assert kept(world).baseline == 212_000 * 10 // 23 + 1   # 92,173.9… → ¥921.74


def test_moving_a_store_to_another_tier_makes_both_groups_stale(world):
    store = make_store(rep=world["org"].rep, code="Z", tier="A", channel="convenience")
    make_activity(world["org"].rep, [store], status=S.ENDED, start=A_START, end=A_END, title="at Z")
    assert refresh(world) == 4
    store.tier = "B"
    db.session.commit()
    assert refresh(world) == 4                           # Z's own line (old group) and T's group it joined


def test_a_running_line_is_measured_again_each_day_an_ended_one_is_not(world):
    running = make_activity(world["org"].rep, [world["controls"][1]], status=S.RUNNING,
                            start=AS_OF - timedelta(days=3), end=AS_OF + timedelta(days=10), title="running")
    assert refresh(world) == 4
    assert kept(world, running).stop == AS_OF - timedelta(days=1)
    assert refresh(world, AS_OF + timedelta(days=1)) == 1
    assert kept(world, running).stop == AS_OF
    assert kept(world).stop == A_END


def test_a_sale_committed_while_figures_are_measured_is_not_lost(world, monkeypatch):
    """Another connection commits a sale after refresh() measured but before it stored the figures:
    they carry the generation read before measuring, so the next refresh measures them again
    (reading the generation any later would keep figures without the sale as current)."""
    control = world["controls"][0]
    store = figures._store

    def store_after_a_sale_lands(rows):
        with db.engine.begin() as other:
            other.execute(Sale.__table__.insert().values(
                store_id=control.id, sold_on=A_START, amount=30_000, quantity=1, category="", source="import",
                source_key="meanwhile", created_at=now()))
        store(rows)

    monkeypatch.setattr(figures, "_store", store_after_a_sale_lands)
    assert refresh(world) == 3
    monkeypatch.setattr(figures, "_store", store)
    assert refresh(world) == 3                           # the sale's group is stale
    assert kept(world).baseline == 97_174 + 10_000       # as in the control-sale test above
