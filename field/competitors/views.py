"""The competitor pages: the report (by region, channel, brand and week), the sightings behind it with their
photos, its export, and the admin's list of promotion types.

Filters travel in the query string, so every view is a link; a region outside the reader's scope is 404."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from field import permissions, scope, tabular
from field.competitors import bp, charts, operations as ops
from field.competitors import report as rep
from field.competitors.models import CompetitorPromotionType
from field.core import money_decimal
from field.extensions import db
from field.i18n import locale_code
from field.stores.forms import CHANNEL_LABELS, channel_label
from field.stores.models import Channel
from field.visits.steps import display_label
from field.web import id_arg, me, page_arg, refusal, render, see_other

PER_PAGE = 50
MAX_PAGE = 200  # 10,000 sightings back; narrow the filters to go further
EXPORT_HEADERS = ("brand", "promotion", "sightings", "min_price", "median_price", "max_price", "where")


def _reader() -> None:
    permissions.require(permissions.may_read_competitors(me()))


def _filters() -> rep.Filters:
    """The report's filters from the query string; a region out of scope (or unknown) is 404."""
    user = me()
    filters = rep.Filters()
    try:
        weeks = int(request.args.get("weeks", rep.DEFAULT_WEEKS))
    except ValueError:
        weeks = rep.DEFAULT_WEEKS
    filters.weeks = weeks if weeks in rep.WEEK_CHOICES else rep.DEFAULT_WEEKS
    if request.args.get("region"):
        region_id = id_arg("region")
        if region_id is None:
            abort(404)
        filters.region = scope.get_or_404(scope.regions(user), region_id)
    channel = request.args.get("channel", "")
    filters.channel = channel if channel in {c.value for c in Channel} else ""
    filters.brand = request.args.get("brand", "").strip()[:60]
    promotion = request.args.get("promotion", "")
    if promotion == rep.NO_PROMOTION or (promotion.isdigit() and 0 < int(promotion) < 2**31):
        filters.promotion = promotion
    return filters


def _context(filters: rep.Filters) -> dict:
    user = me()
    return {"filters": filters, "args": filters.args(), "regions": list(db.session.execute(scope.regions(user)).scalars()),
            "channels": [(c.value, str(label)) for c, label in CHANNEL_LABELS.items()],
            "promotions": list(db.session.execute(select(CompetitorPromotionType)
                                                  .order_by(CompetitorPromotionType.id)).scalars()),
            "week_choices": rep.WEEK_CHOICES, "locale": locale_code()}


@bp.get("/")
@login_required
def index():
    _reader()
    filters = _filters()
    found = rep.report(me(), filters, locale_code(), _("No promotion"))
    chart = charts.trend(found.weeks, found.trend)
    return render("competitors/report.html", block="report", found=found, chart=chart,
                  brands=_brands(found.brands, filters), **_context(filters))


@bp.get("/sightings")
@login_required
def sightings():
    _reader()
    filters = _filters()
    number = min(page_arg(), MAX_PAGE)
    items, more = rep.sightings(me(), filters, number, PER_PAGE)
    photos = rep.photos_of(me(), items)
    return render("competitors/sightings.html", block="rows", items=items, number=number, more=more, photos=photos,
                  brands=_brands([], filters), display_label=display_label, channel_label=channel_label,
                  **_context(filters))


def _brands(seen: list[str], filters: rep.Filters) -> list[str]:
    """The brand filter's choices: those in the report, and the one asked for."""
    return sorted({*seen, filters.brand} - {""})


def _yuan(minor: int | None) -> Decimal | None:
    return None if minor is None else money_decimal(minor)


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str):
    """The report's table as shown (same filters), as CSV or Excel."""
    _reader()
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = _filters()
    found = rep.report(me(), filters, locale_code(), _("No promotion"))
    rows = [(r.brand, r.promotion, r.stats.sightings, _yuan(r.stats.low), _yuan(r.stats.median), _yuan(r.stats.high),
             "; ".join(f"{name} {n}" for name, n in r.where)) for r in found.rows]
    body = tabular.write(fmt, EXPORT_HEADERS, rows, sheet_title="competitors")
    return tabular.download(body, fmt, f"competitors-{filters.weeks}w")


# --- the admin's promotion types ------------------------------------------------------------------------

def _types_page(errors=None, values=None, status=200, editing: int | None = None):
    types = list(db.session.execute(select(CompetitorPromotionType).order_by(CompetitorPromotionType.id)).scalars())
    return render("competitors/promotion_types.html", block="content", status=status, types=types,
                  errors=errors or {}, values=values or {}, editing=editing)


@bp.get("/promotion-types")
@login_required
def promotion_types():
    permissions.require(permissions.may_edit_competitor_lists(me()))
    return _types_page()


@bp.post("/promotion-types")
@login_required
def promotion_type_add():
    permissions.require(permissions.may_edit_competitor_lists(me()))
    form = request.form
    with refusal() as refused:
        ops.add_promotion_type(form.get("name", ""), form.get("name_en", ""), me())
    if refused:
        return _types_page(getattr(refused.error, "errors", {"name": refused.message}), form, refused.status)
    return see_other(url_for("competitors.promotion_types"))


@bp.post("/promotion-types/<int:type_id>")
@login_required
def promotion_type_change(type_id: int):
    permissions.require(permissions.may_edit_competitor_lists(me()))
    kind = db.session.get(CompetitorPromotionType, type_id) if 0 < type_id < 2**31 else None
    if kind is None:
        abort(404)
    form = request.form
    with refusal() as refused:
        ops.change_promotion_type(kind, form.get("name", ""), form.get("name_en", ""), form.get("active") == "on", me())
    if refused:
        return _types_page(getattr(refused.error, "errors", {"name": refused.message}), form, refused.status,
                           editing=type_id)
    return see_other(url_for("competitors.promotion_types"))
