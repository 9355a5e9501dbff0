"""The dashboards' pages: the manager's (/dashboard), the supervisor's team (/dashboard/team), their
drill-downs (the stores and the reps behind a figure) and the exports of what they show.

Thin views over field/home/dashboards.py. The period, region and supervisor travel in the query
string, so every figure's link works without JavaScript; an id outside the user's scope is a 404."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from field import permissions, providers, scope
from field.auth.models import User
from field.core import company_today, company_zone, format_money, local_today, money_decimal, user_zone
from field.extensions import db
from field.home import bp
from field.home import charts, dashboards as dash
from field.home.dashboards import ANCHOR_DWELL_MINUTES, ANCHOR_VISITS_PER_DAY, Period
from field.stores.forms import channel_label
from field.stores.models import TIERS, Channel, Store
from field.tabular import download, write
from field.visits import history
from field.web import date_arg, id_arg, me, page_arg, render

STATES = ("due", "visited", "unvisited", "off_schedule", "on_schedule")
MEASURES = ("per_day", "minutes")
PER_PAGE = 50
VISIT_EDGES = list(range(0, 11))           # visits a day: 0–1 … 9–10, 10+
DWELL_EDGES = list(range(0, 72, 8))        # minutes a visit: 0–8 … 56–64, 64+


# --- formatting -------------------------------------------------------------------------------------

def _tenths(value: Fraction) -> str:
    value = value if isinstance(value, Fraction) else Fraction(value)
    n, d = abs(value.numerator), value.denominator
    tenths = (20 * n + d) // (2 * d)      # ⌊|value| × 10 + ½⌋ in integers (a page formats thousands)
    sign = "−" if value < 0 and tenths else ""
    return f"{sign}{tenths // 10:,}.{tenths % 10}"


@bp.app_template_filter("dash_value")
def dash_value(value: Fraction | None, unit: str) -> str:
    """A figure as shown: a share '72.5 %', visits '7.3', minutes '24.0 min', money '¥1,200.00'."""
    if value is None:
        return "—"
    if unit == "pct":
        return _("%(pct)s %%", pct=_tenths(value * 100))
    if unit == "min":
        return _("%(m)s min", m=_tenths(value)).replace(" ", "\u00a0")
    if unit == "money":
        return format_money(int(value))
    return _tenths(value)


@bp.app_template_filter("dash_delta")
def dash_delta(value: Fraction | None, unit: str) -> str:
    """A change: shares in percentage points ('+3.2 pt'), the rest in their own unit, signed."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    if unit == "pct":
        return _("%(n)s pt", n=sign + _tenths(value * 100)).replace(" ", "\u00a0")
    if unit == "money":
        return sign + format_money(int(value)) if value >= 0 else format_money(int(value)).replace("-", "−")
    if unit == "min":
        return _("%(m)s min", m=sign + _tenths(value)).replace(" ", "\u00a0")
    return sign + _tenths(value)


@bp.app_template_filter("dash_trend")
def dash_trend(value: Fraction | None, better: str = "up") -> str:
    """A CSS class for a change: 'up'/'down' and whether that is good ('good'/'bad')."""
    if value is None or value == 0:
        return "flat"
    up = value > 0
    good = up if better == "up" else not up
    return f"{'up' if up else 'down'} {'good' if good else 'bad'}"


def _pct_cell(value: Fraction | None):
    if value is None:
        return ""
    return (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.1"))


def _num_cell(value: Fraction | None, places: str = "0.01"):
    if value is None:
        return ""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(places))


# --- what a request asks ----------------------------------------------------------------------------

class Asked:
    """Period (month or week holding `on`), and region (in scope, else 404) from the query string."""

    def __init__(self, user: User):
        self.today = company_today()
        self.period = dash.period_for(request.args.get("period", "month"), date_arg("on"), self.today)
        self.regions = list(db.session.execute(scope.regions(user)).scalars())
        self.region = None
        if request.args.get("region"):
            region_id = id_arg("region")
            self.region = next((r for r in self.regions if r.id == region_id), None)
            if self.region is None:
                abort(404)

    @property
    def args(self) -> dict:
        out = dict(self.period.args)
        if self.region is not None:
            out["region"] = self.region.id
        return out

    def shifted(self, step: int) -> dict:
        """The args of the period before (-1) or after (+1)."""
        p = self.period
        on = p.start - timedelta(days=1) if step < 0 else (
            p.start + timedelta(days=7) if p.kind == "week" else (p.start.replace(day=28) + timedelta(days=4)))
        return {**self.args, "on": on.isoformat()}

    @property
    def is_current(self) -> bool:
        return self.period.end >= self.today

    @property
    def file_name(self) -> str:
        parts = ["dashboard", self.period.kind, self.period.start.isoformat(), self.period.end.isoformat()]
        if self.region is not None:
            parts += ["region", re.sub(r"[^A-Za-z0-9_-]", "", self.region.code or "") or str(self.region.id)]
        return "-".join(parts)


def _require_manager() -> User:
    user = me()
    permissions.require(permissions.may_read_dashboards(user))
    return user


def targets_for(user: User, on: date):
    """The targets helper's summary for the month holding `on` (field/targets registers it), or None."""
    return providers.ask("targets_summary", user, on.replace(day=1), default=None)


# --- the manager's dashboard ------------------------------------------------------------------------

def _charts(asked: Asked, found: dash.Overview) -> dict:
    """The histograms bucket the reps by their figures rounded down (RepLine.per_day_floor, minutes_floor):
    a value falls between whole-number edges a ≤ v < b exactly when a ≤ ⌊v⌋ < b, and integers are
    cheaper to make and compare than 2,000 fractions."""
    args = asked.args
    cov_tier = charts.share_bars([
        (_("Tier %(tier)s", tier=t), c.coverage.value, dash_value(c.coverage.value, "pct"),
         url_for("home.dashboard_stores", tier=t, state="unvisited", **args))
        for t, c in found.coverage.by_tier.items()])
    cov_channel = charts.share_bars([
        (channel_label(ch), c.coverage.value, dash_value(c.coverage.value, "pct"),
         url_for("home.dashboard_stores", channel=ch, state="unvisited", **args))
        for ch, c in found.coverage.by_channel.items()])
    sched_tier = charts.share_bars([
        (_("Tier %(tier)s", tier=t), c.schedule.value, dash_value(c.schedule.value, "pct"),
         url_for("home.dashboard_stores", tier=t, state="off_schedule", **args))
        for t, c in found.coverage.by_tier.items()])
    reps = found.productivity.reps
    per_day = charts.histogram(
        [r.per_day_floor for r in reps], VISIT_EDGES, anchor=ANCHOR_VISITS_PER_DAY,
        anchor_label=_("Benchmark %(n)s", n="7.3"),
        bucket_label=lambda lo, hi: f"{lo}" if hi is not None else f"{lo}+",
        name=lambda label, n: _("%(bucket)s visits a day: %(num)s reps", bucket=label, num=n),
        href=lambda lo, hi: url_for("home.dashboard_reps", measure="per_day", min=lo, **({"max": hi} if hi else {}),
                                    **args))
    dwell = charts.histogram(
        [r.minutes_floor for r in reps], DWELL_EDGES, band=ANCHOR_DWELL_MINUTES,
        anchor_label=_("Benchmark %(low)s–%(high)s min", low=ANCHOR_DWELL_MINUTES[0], high=ANCHOR_DWELL_MINUTES[1]),
        bucket_label=lambda lo, hi: f"{lo}" if hi is not None else f"{lo}+",
        name=lambda label, n: _("%(bucket)s minutes a visit: %(num)s reps", bucket=label, num=n),
        href=lambda lo, hi: url_for("home.dashboard_reps", measure="minutes", min=lo, **({"max": hi} if hi else {}),
                                    **args))
    return {"cov_tier": cov_tier, "cov_channel": cov_channel, "sched_tier": sched_tier, "per_day_chart": per_day,
            "dwell_chart": dwell}


def kpis(found: dash.Overview) -> list[dict]:
    """The tiles: key, label, figure, unit, which way is better, drill-down endpoint and args."""
    cov, prod, spend = found.coverage.total, found.productivity, found.spend
    return [
        {"key": "coverage", "label": _("Coverage"), "figure": cov.coverage, "unit": "pct", "better": "up",
         "href": ("home.dashboard_stores", {"state": "unvisited"}),
         "note": _("%(visited)s of %(due)s due stores visited", visited=cov.visited[0], due=cov.due[0])},
        {"key": "schedule", "label": _("Visit frequency kept"), "figure": cov.schedule, "unit": "pct",
         "better": "up", "href": ("home.dashboard_stores", {"state": "off_schedule"}),
         "note": _("%(on)s of %(all)s stores on schedule", on=cov.on_schedule[0], all=cov.stores)},
        {"key": "per_day", "label": _("Visits per rep per day"), "figure": prod.per_day, "unit": "num",
         "better": "up", "href": ("home.dashboard_reps", {"measure": "per_day"}),
         "note": _("Benchmark %(n)s", n="7.3")},
        {"key": "minutes", "label": _("Time in store per visit"), "figure": prod.minutes, "unit": "min",
         "better": "none", "href": ("home.dashboard_reps", {"measure": "minutes"}),
         "note": _("Benchmark %(low)s–%(high)s min", low=ANCHOR_DWELL_MINUTES[0], high=ANCHOR_DWELL_MINUTES[1])},
        {"key": "evidence", "label": _("Evidence compliance"), "figure": spend.compliance, "unit": "pct",
         "better": "up", "href": ("activities.queue", {}),
         "note": _("Check periods with verified evidence")},
        {"key": "spend", "label": _("Spend"), "figure": spend.cost, "unit": "money", "better": "none",
         "href": ("roi.index", {}), "note": _("Activities running in the period")},
        {"key": "roi", "label": _("ROI"), "figure": spend.roi, "unit": "pct", "better": "up",
         "href": ("roi.index", {}), "note": _("Incremental gross profit against cost")},
    ]


def _kpi_href(asked: Asked, endpoint: str, extra: dict) -> str:
    if endpoint == "roi.index":
        args = {"from": asked.period.start.isoformat(), "to": asked.period.end.isoformat()}
        if asked.region is not None:
            args["region"] = asked.region.id
        return url_for(endpoint, **args)
    if endpoint.startswith("home."):
        return url_for(endpoint, **extra, **asked.args)
    return url_for(endpoint, **extra)


@bp.route("/dashboard")
@login_required
def dashboard():
    user = _require_manager()
    asked = Asked(user)
    found = dash.overview(user, asked.period, asked.today, asked.region)
    tiles = kpis(found)
    for tile in tiles:
        tile["url"] = _kpi_href(asked, *tile["href"])
    return render("home/dashboard.html", asked=asked, found=found, tiles=tiles,
                  targets=targets_for(user, asked.period.start), tiers=TIERS, channel_label=channel_label,
                  **_charts(asked, found))


EXPORT_HEADERS = ("figure", "group", "value", "previous_period", "same_period_last_year", "unit")


def export_rows(found: dash.Overview, names: dict[int, User]) -> list[list]:
    def line(key, group, fig, unit):
        cell = _pct_cell if unit == "pct" else (lambda v: money_decimal(int(v)) if v is not None else "") \
            if unit == "money" else _num_cell
        return [key, group, cell(fig.value), cell(fig.previous), cell(fig.last_year), unit]

    rows = [line(t["key"], "all", t["figure"], t["unit"]) for t in kpis(found)]
    for tier, c in found.coverage.by_tier.items():
        rows.append(line("coverage", f"tier {tier}", c.coverage, "pct"))
    for channel, c in found.coverage.by_channel.items():
        rows.append(line("coverage", f"channel {channel}", c.coverage, "pct"))
    for tier, c in found.coverage.by_tier.items():
        rows.append(line("schedule", f"tier {tier}", c.schedule, "pct"))
    rows.append(line("visits_in_16_37_min", "all", found.productivity.in_band, "pct"))
    for r in sorted(found.productivity.reps, key=lambda r: names[r.rep_id].name if r.rep_id in names else ""):
        who = names[r.rep_id].login if r.rep_id in names else str(r.rep_id)
        rows.append(["rep_visits_per_day", who, _num_cell(r.per_day), "", "", "num"])
        rows.append(["rep_minutes_per_visit", who, _num_cell(r.minutes, "0.1"), "", "", "min"])
    return rows


@bp.route("/dashboard/export.<any(csv, xlsx):fmt>")
@login_required
def dashboard_export(fmt: str):
    user = _require_manager()
    asked = Asked(user)
    found = dash.overview(user, asked.period, asked.today, asked.region)
    names = dash.reps_named(r.rep_id for r in found.productivity.reps)
    body = write(fmt, EXPORT_HEADERS, export_rows(found, names), sheet_title="dashboard")
    return download(body, fmt, asked.file_name)


# --- drill-downs ------------------------------------------------------------------------------------

@bp.route("/dashboard/stores")
@login_required
def dashboard_stores():
    """The stores behind a coverage or schedule figure: due, visited, due and not visited, off schedule."""
    user = _require_manager()
    asked = Asked(user)
    state = request.args.get("state", "due")
    state = state if state in STATES else "due"
    tier = request.args.get("tier", "")
    tier = tier if tier in TIERS else ""
    channel = request.args.get("channel", "")
    channel = channel if channel in {c.value for c in Channel} else ""
    t = dash.store_states(user, [asked.period], company_zone(), asked.region)
    where = {"due": t.c.due0 == 1, "visited": t.c.visited0 == 1, "unvisited": (t.c.due0 == 1) & (t.c.visited0 == 0),
             "off_schedule": t.c.on0 == 0, "on_schedule": t.c.on0 == 1}[state]
    conditions = [where]
    if tier:
        conditions.append(t.c.tier == tier)
    if channel:
        conditions.append(t.c.channel == channel)
    # The page and the count in one statement (the stores' states are worked out once); a page past
    # the last is asked again as the last.
    listed = (select(Store, t.c.last0, func.count().over().label("total")).join(t, t.c.store_id == Store.id)
              .where(*conditions).order_by(Store.name, Store.id).limit(PER_PAGE))
    page = page_arg()
    rows = db.session.execute(listed.offset((page - 1) * PER_PAGE)).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.execute(select(func.count()).select_from(t).where(*conditions)).scalar_one()
        if page > 1 and total:
            page = max(1, -(-total // PER_PAGE))
            rows = db.session.execute(listed.offset((page - 1) * PER_PAGE)).all()
        else:
            page = 1
    rows = [(store, last) for store, last, _total in rows]
    filters = {k: v for k, v in (("state", state), ("tier", tier), ("channel", channel)) if v}
    page_args = {**filters, **asked.args}
    return render("home/dashboard_stores.html", block="results", asked=asked, rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PER_PAGE)), state=state, tier=tier, channel=channel, filters=filters, page_args=page_args,
                  channel_label=channel_label, tiers=TIERS, states=STATES)


def _bound(name: str) -> Fraction | None:
    try:
        value = Fraction(request.args.get(name, "").strip())
    except (ValueError, ZeroDivisionError):
        return None
    return value if 0 <= value <= 100_000 else None


@bp.route("/dashboard/reps")
@login_required
def dashboard_reps():
    """The reps behind the visits-a-day and time-in-store figures, optionally one histogram column."""
    user = _require_manager()
    asked = Asked(user)
    measure = request.args.get("measure", "per_day")
    measure = measure if measure in MEASURES else "per_day"
    low, high = _bound("min"), _bound("max")
    found = dash.productivity(user, [asked.period], company_zone(), asked.region)
    lines = found.reps
    value = (lambda r: r.per_day) if measure == "per_day" else (lambda r: r.minutes)
    if low is not None:
        lines = [r for r in lines if value(r) is not None and value(r) >= low]
    if high is not None:
        lines = [r for r in lines if value(r) is not None and value(r) < high]
    names = dash.reps_named(r.rep_id for r in lines)
    lines = sorted(lines, key=lambda r: (value(r) is None, -(value(r) or 0), names.get(r.rep_id).name
                                         if r.rep_id in names else ""))
    week = asked.period.end - timedelta(days=asked.period.end.weekday())
    return render("home/dashboard_reps.html", block="results", asked=asked, lines=lines, names=names,
                  measure=measure, low=low, high=high, week=week)


# --- the supervisor's dashboard ---------------------------------------------------------------------

def _supervisor(user: User) -> User | None:
    """The supervisor whose team is shown: oneself, or (a manager, an admin) the one asked for, in scope."""
    permissions.require(permissions.may_watch_team(user))
    if permissions.is_supervisor(user):
        return user
    if request.args.get("supervisor"):
        return scope.get_or_404(scope.supervisors(user, active_only=False), id_arg("supervisor") or 0)
    return None


def _team_context(user: User, supervisor: User) -> dict:
    today = local_today(supervisor)
    day = date_arg("date") or today
    day = min(day, today + timedelta(days=30))
    monday = day - timedelta(days=day.weekday())
    live = dash.team_day(user, supervisor, day)
    reps = [line.rep for line in live.lines]
    week = dash.team_week(user, reps, monday, user_zone(supervisor))
    ordered = sorted(live.lines, key=lambda line: (-line.day.completed, line.rep.name))
    chart = charts.share_bars([
        (line.rep.name, dash.share(line.day.completed, _planned(line)), f"{line.day.completed}/{_planned(line)}",
         url_for("visits.rep_day", rep_id=line.rep.id, date=day.isoformat())) for line in ordered])
    return {"supervisor": supervisor, "day": day, "today": today, "live": live, "week": week, "chart": chart,
            "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)}


def _planned(line) -> int:
    d = line.day
    return d.completed + d.in_progress + d.planned + d.missed


@bp.route("/dashboard/team")
@login_required
def team_dashboard():
    user = me()
    supervisor = _supervisor(user)
    if supervisor is None:
        supervisors = list(db.session.execute(scope.supervisors(user).order_by(User.name)).scalars())
        return render("home/team_dashboard.html", supervisor=None, supervisors=supervisors, targets=None)
    context = _team_context(user, supervisor)
    return render("home/team_dashboard.html", block="team", targets=targets_for(user, context["day"]), **context)


TEAM_HEADERS = ("rep", "name", "date", "visits_done", "visits_planned", "in_progress", "missed", "minutes_in_stores",
                "flagged", "pending_evidence", "in_store_now")


@bp.route("/dashboard/team/export.<any(csv, xlsx):fmt>")
@login_required
def team_export(fmt: str):
    user = me()
    supervisor = _supervisor(user)
    if supervisor is None:
        abort(404)
    c = _team_context(user, supervisor)
    rows = [[line.rep.login, line.rep.name, c["day"], line.day.completed, _planned(line), line.day.in_progress,
             line.day.missed, round(line.day.minutes_in_stores), line.day.flagged, c["live"].pending.get(line.rep.id, 0),
             line.current.store.name if line.current is not None else ""] for line in c["live"].lines]
    for rep in c["week"].reps:
        for cell in c["week"].cells[rep.id]:
            rows.append([rep.login, rep.name, cell.day, cell.completed, cell.completed + cell.open, "", "",
                         round(cell.minutes), "", "", ""])
    body = write(fmt, TEAM_HEADERS, rows, sheet_title="team")
    return download(body, fmt, f"team-{supervisor.login}-{c['day'].isoformat()}")


