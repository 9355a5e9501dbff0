"""The manager's ROI pages: the overview (KPIs, ROI by type and region, activities), one activity
(its stores, actual against baseline by day), one store of an activity (the computation, its
sales, its evidence and claims), and the export of what a page shows.

Filters travel in the query string (period, region, type, sort), so every view is a link that
works without JavaScript; the tables answer their own block to an htmx request."""
from __future__ import annotations

import re

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from flask import abort, request, url_for
from babel.numbers import format_compact_decimal
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.activities import progress
from field.activities.models import Activity, ActivityStore, ActivityType, Review
from field.auth.models import Region, User
from field.claims.models import Claim, LedgerLine
from field.core import company_today, format_money, money_decimal
from field.extensions import db
from field.photos.models import Photo
from field.products.models import Product
from field.roi import bp, charts, figures, queries
from field.roi.models import SalesDaily
from field.roi.queries import Filters, Line, Rollup
from field.sales.models import Sale
from field.tabular import CSV_MIMETYPE, XLSX_MIMETYPE, write_csv, write_xlsx
from field.web import date_arg, id_arg, render

MAX_DAYS = 731
SORTS = ("title", "type", "stores", "spend", "incremental", "gp", "roi", "compliance")
BASIS_LABELS = {queries.WRITTEN_OFF: "written off", queries.COMMITTED: "committed", queries.MIXED: "mixed"}


# --- formatting ---------------------------------------------------------------------------------

@bp.app_template_filter("roi_pct")
def roi_pct(value: Fraction | None) -> str:
    """Fraction(-155, 200) → '−77.5 %'; None → '—'."""
    if value is None:
        return "—"
    tenths = int((abs(value) * 1000 + Fraction(1, 2)) // 1)
    sign = "−" if value < 0 and tenths else ""
    return _("%(pct)s %%", pct=f"{sign}{tenths // 10:,}.{tenths % 10}")


@bp.app_template_filter("money_short")
def money_short(minor: int | None) -> str:
    """Big amounts compact for a KPI tile: ¥12.3M, ¥1234.6万; small ones in full."""
    if minor is None:
        return "—"
    if abs(minor) < 10_000_000:
        return format_money(minor)
    sign = "-" if minor < 0 else ""
    return f"{sign}¥{format_compact_decimal(Decimal(abs(minor)) / 100, fraction_digits=1, locale=get_locale())}"


@bp.app_template_filter("round_fen")
def round_fen(value: Fraction | None) -> int | None:
    return None if value is None else queries.fen(value)


def basis_label(basis: str) -> str:
    return {queries.WRITTEN_OFF: _("written off"), queries.COMMITTED: _("committed"),
            queries.MIXED: _("written off and committed")}.get(basis, basis)


bp.add_app_template_global(basis_label, "cost_basis_label")


def low_compliance(item) -> bool:
    """Verified share under the floor of the activity's type (a store line, or an activity's roll-up)."""
    activity = item.activity
    ratio = item.compliance.ratio
    return activity is not None and ratio is not None and not item.compliance.meets(activity.type.compliance_floor_pct)


bp.add_app_template_global(low_compliance, "low_compliance")


@bp.before_request
def readers_only():
    """Every ROI page is for those who may read ROI (the signed-in; login_required sends the rest to sign in)."""
    if current_user.is_authenticated:
        permissions.require(permissions.may_read_roi(current_user))


# --- filters ------------------------------------------------------------------------------------

ROWS = 50


class RequestFilters:
    """What a request asks to see — period, region, type, sort, every row or the first ROWS — with
    the choices the filter form offers and the query string that keeps them."""

    def __init__(self):
        self.as_of = company_today()
        self.last_day = self.as_of - timedelta(days=1)  # measured through yesterday
        default_start, default_end = queries.default_period(self.as_of)
        start, end = date_arg("from") or default_start, date_arg("to") or default_end
        if end < start:
            start, end = end, start
        if (end - start).days > MAX_DAYS:
            start = end - timedelta(days=MAX_DAYS)
        self.regions = list(db.session.execute(scope.regions()).scalars())
        self.types = list(db.session.execute(select(ActivityType).order_by(ActivityType.name)).scalars())
        region_id, type_id = id_arg("region"), id_arg("type")
        self.region = next((r for r in self.regions if r.id == region_id), None)
        self.type = next((t for t in self.types if t.id == type_id), None)
        self.filters = Filters(start, end, region=self.region, type_id=self.type.id if self.type else None)
        sort = request.args.get("sort", "roi")
        self.sort = sort if sort in SORTS else "roi"  # each table falls back to ROI for a key it lacks
        self.dir = "asc" if request.args.get("dir") == "asc" else "desc"
        # A country has a thousand activities in a quarter: the tables show the first ROWS in the
        # order asked (the figures above count them all; the export has every row).
        self.show_all = request.args.get("all") == "1"
        self.rows = None if self.show_all else ROWS

    @property
    def args(self) -> dict:
        out = {"from": self.filters.start.isoformat(), "to": self.filters.end.isoformat()}
        if self.region:
            out["region"] = self.region.id
        if self.type:
            out["type"] = self.type.id
        return out

    def sort_args(self, key: str) -> dict:
        flip = "asc" if self.sort == key and self.dir == "desc" else "desc"
        return {**self.args, "sort": key, "dir": flip, **({"all": 1} if self.show_all else {})}

    @property
    def sorted_args(self) -> dict:
        return {**self.args, "sort": self.sort, "dir": self.dir}


def _measured(value):
    return lambda item: value(item) if item.measured else None


# What each table sorts by; a row without the value (no baseline yet, say) goes last.
ACTIVITY_SORTS = {
    "title": lambda r: r.label, "type": lambda r: r.activity.type.name, "stores": lambda r: r.lines,
    "spend": lambda r: r.cost, "incremental": _measured(lambda r: r.incremental),
    "gp": _measured(lambda r: r.incremental_gp), "roi": lambda r: r.roi, "compliance": lambda r: r.compliance.ratio,
}
STORE_SORTS = {
    "title": lambda x: x.store.name, "type": lambda x: x.store.code, "stores": lambda x: x.days,
    "spend": lambda x: x.cost, "incremental": lambda x: x.incremental, "gp": lambda x: x.incremental_gp,
    "roi": lambda x: x.roi, "compliance": lambda x: x.compliance.ratio,
}


def sorted_items(items: list, sorts: dict, sort: str, direction: str) -> list:
    key = sorts.get(sort, sorts["roi"])
    present = [i for i in items if key(i) is not None]
    missing = [i for i in items if key(i) is None]
    return sorted(present, key=key, reverse=direction == "desc") + missing


# --- the overview -------------------------------------------------------------------------------

def _locale() -> str:
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def _chart(rollups: list[Rollup], link) -> charts.BarChart:
    ordered = sorted(rollups, key=lambda r: (r.roi is None, -(r.roi or 0)))
    return charts.bars([(r.label, r.roi, roi_pct(r.roi), link(r)) for r in ordered])


def overview(asked: RequestFilters, every_activity: bool = False) -> dict:
    """The overview's figures: kept per activity store, measured again where stale, added up in SQL
    (figures.py). The activity rows shown (all of them with `every_activity`) carry their Activity."""
    found = figures.rollups(asked.filters, current_user, asked.as_of)
    activities, by_type, by_region, by_rep = found.activities, found.by_type, found.by_region, found.by_rep
    types = {t.id: t for t in asked.types}
    for r in by_type:
        r.label = types[r.key].label(_locale()) if r.key in types else ""
    _name(by_region, Region, _("No region"))
    _name(by_rep, User, _("No rep"))
    if every_activity or asked.rows is None or asked.sort == "type":
        _attach_activities(activities)
    activities = sorted_items(activities, ACTIVITY_SORTS, asked.sort, asked.dir)
    _attach_activities(activities[:asked.rows])  # a thousand Activity objects cost 100 ms: only those shown
    return {
        "total": found.total, "activities": activities,
        "by_type": by_type, "by_region": by_region,
        "by_rep": sorted_items(by_rep, ACTIVITY_SORTS, "roi", "desc"),
        "type_chart": _chart(by_type, lambda r: url_for("roi.index", **{**asked.args, "type": r.key})),
        "region_chart": _chart(by_region, lambda r: url_for("roi.index", **{**asked.args, "region": r.key})
                               if r.key else ""),
    }


def _name(rollups: list[Rollup], model, missing: str) -> None:
    """Label roll-ups keyed by a region or user id with its name."""
    names = dict(db.session.execute(select(model.id, model.name)
                                    .where(model.id.in_([r.key for r in rollups if r.key]))).all())
    for r in rollups:
        r.label = names.get(r.key, missing) if r.key else missing


def _attach_activities(rollups: list[Rollup]) -> None:
    missing = [r.key for r in rollups if r.activity is None]
    if not missing:
        return
    found = {a.id: a for a in db.session.execute(
        select(Activity).where(Activity.id.in_(missing))
        .options(selectinload(Activity.type))).scalars()}
    for r in rollups:
        r.activity = r.activity or found[r.key]


@bp.route("/roi")
@login_required
def index():
    asked = RequestFilters()
    return render("roi/index.html", block="results", asked=asked, **overview(asked))


# --- one activity ------------------------------------------------------------------------------

def _activity(activity_id: int) -> Activity:
    return scope.get_or_404(scope.activities(), activity_id)


def activity_figures(asked: RequestFilters, activity: Activity) -> dict:
    filters = Filters(activity.period_start, activity.period_end, region=asked.region, activity_id=activity.id)
    lines = queries.lines(filters, current_user, asked.as_of)
    days = queries.daily(activity, lines, current_user)
    return {"activity": activity, "lines": sorted_items(lines, STORE_SORTS, asked.sort, asked.dir),
            "total": queries.total(lines),
            "chart": charts.line(days, activity.period_start), "days": days}


@bp.route("/roi/activities/<int:activity_id>")
@login_required
def activity(activity_id: int):
    asked = RequestFilters()
    found = _activity(activity_id)
    return render("roi/activity.html", block="results", asked=asked, **activity_figures(asked, found))


# --- one store of an activity --------------------------------------------------------------------

def evidence(line: ActivityStore, first: date, last: date) -> list[Photo]:
    """Photos at the store from the first to the last day of the activity, that the user may see."""
    since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc) - timedelta(days=1)
    until = datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=2)
    return list(db.session.execute(
        scope.photos().where(Photo.store_id == line.store_id, Photo.created_at >= since, Photo.created_at < until)
        .order_by(Photo.created_at).limit(60)).scalars())


def store_sales(line: Line) -> dict:
    """The store's sales per day over the window, and per product over the measured days."""
    d = SalesDaily.__table__
    per_day = dict(db.session.execute(
        select(d.c.day, d.c.amount).where(d.c.store_id == line.store.id, d.c.day >= line.pre_start,
                                           d.c.day <= line.stop)).all())
    products = db.session.execute(
        scope.sales().where(Sale.store_id == line.store.id, Sale.sold_on >= line.start, Sale.sold_on <= line.stop)
        .join(Product, Product.id == Sale.product_id, isouter=True)
        .with_only_columns(func.coalesce(Product.sku, Sale.category), func.max(Product.name),
                           func.sum(Sale.quantity), func.sum(Sale.amount))
        .group_by(func.coalesce(Product.sku, Sale.category)).order_by(func.sum(Sale.amount).desc()).limit(20)).all()
    return {"per_day": per_day, "products": products}


@bp.route("/roi/lines/<int:line_id>")
@login_required
def line(line_id: int):
    asked = RequestFilters()
    found = scope.get_or_404(scope.activity_stores(), line_id)
    activity = found.activity
    measured = queries.lines(Filters(activity.period_start, activity.period_end, line_id=found.id),
                             current_user, asked.as_of)
    if not measured:
        abort(404)
    item = measured[0]
    days = queries.daily(activity, measured, current_user)
    reviews = {r.period_index: r for r in db.session.execute(
        select(Review).where(Review.activity_store_id == found.id).order_by(Review.id)
        .options(selectinload(Review.reviewer))).scalars()}
    claims = list(db.session.execute(scope.claims().where(Claim.activity_store_id == found.id)
                                     .order_by(Claim.id)).scalars())
    ledger_lines = list(db.session.execute(scope.ledger_lines().where(LedgerLine.activity_store_id == found.id)
                                           .order_by(LedgerLine.id)).scalars())
    return render("roi/line.html", asked=asked, item=item, activity=activity,
                  chart=charts.line(days, activity.period_start), days=days, periods=progress.store_periods(found), reviews=reviews,
                  photos=evidence(found, item.pre_start, activity.period_end), claims=claims,
                  ledger_lines=ledger_lines, **store_sales(item))


# --- export what is shown ----------------------------------------------------------------------------

ACTIVITY_HEADERS = ("activity", "title", "type", "stores", "actual", "baseline", "incremental_sales",
                    "incremental_gross_profit", "cost", "cost_basis", "roi_pct", "compliance_pct", "budget",
                    "written_off")
STORE_HEADERS = ("activity", "store_code", "store_name", "rep", "region", "days", "actual", "baseline",
                 "incremental_sales", "incremental_gross_profit", "cost", "cost_basis", "roi_pct",
                 "compliance_pct", "controls", "budget", "written_off")


def _pct(value: Fraction | None) -> Decimal | str:
    """A share as a percentage with two decimals, for a spreadsheet."""
    if value is None:
        return ""
    return (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.01"))


def _yuan(minor: int | None):
    return "" if minor is None else money_decimal(minor)


def activity_rows(items: list[Rollup]) -> list[list]:
    return [[r.activity.code, r.activity.title, r.activity.type.label(_locale()), r.lines, _yuan(r.actual),
             _yuan(r.baseline if r.measured else None), _yuan(r.incremental if r.measured else None),
             _yuan(r.incremental_gp if r.measured else None), _yuan(r.cost), BASIS_LABELS[r.cost_basis],
             _pct(r.roi), _pct(r.compliance.ratio), _yuan(r.budget), _yuan(r.written_off)] for r in items]


def store_rows(items: list[Line]) -> list[list]:
    return [[x.activity.code, x.store.code, x.store.name, x.store.owner_rep.name if x.store.owner_rep else "",
             x.store.region.code if x.store.region else "", x.days, _yuan(x.actual), _yuan(x.baseline),
             _yuan(x.incremental), _yuan(x.incremental_gp), _yuan(x.cost), BASIS_LABELS[x.cost_basis], _pct(x.roi),
             _pct(x.compliance.ratio), x.controls, _yuan(x.budget), _yuan(x.written_off)] for x in items]


def _download(headers, rows, name: str, fmt: str):
    body = write_xlsx(headers, rows, sheet_title="roi") if fmt == "xlsx" else write_csv(headers, rows)
    return body, 200, {"Content-Type": XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
                       "Content-Disposition": f'attachment; filename="{name}.{fmt}"'}


@bp.route("/roi/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    asked = RequestFilters()
    shown = overview(asked, every_activity=True)
    return _download(ACTIVITY_HEADERS, activity_rows(shown["activities"]), export_name(asked), fmt)


def export_name(asked: RequestFilters) -> str:
    """The file's name says what it holds: the period, and the region and type when filtered
    ("roi-2026-03-01-2026-03-31-region-SH-type-3"), so two exports of different views differ."""
    parts = ["roi", asked.filters.start.isoformat(), asked.filters.end.isoformat()]
    if asked.region:
        code = re.sub(r"[^A-Za-z0-9_-]", "", asked.region.code or "")
        parts += ["region", code or str(asked.region.id)]
    if asked.type:
        parts += ["type", str(asked.type.id)]
    return "-".join(parts)


@bp.route("/roi/activities/<int:activity_id>/export.<any(csv, xlsx):fmt>")
@login_required
def activity_export(activity_id: int, fmt: str):
    asked = RequestFilters()
    found = _activity(activity_id)
    figures = activity_figures(asked, found)
    return _download(STORE_HEADERS, store_rows(figures["lines"]), f"roi-{found.code}", fmt)
