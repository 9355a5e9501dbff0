"""Each role's landing page: what a rep, a supervisor, a manager or an admin needs first.

The summaries are plain functions of a user, every query starting from field.scope, so
a page can only ever count what its reader may see."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import current_app, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from field import permissions, providers, scope
from field.workday import queries as workday_queries
from field.workday.forms import DayForm
from field.auth.models import Region, Role, User
from field.core import local_today, now
from field.extensions import db
from field.home import bp
from field.products.models import Product
from field.stores.models import TIERS, Store
from field.web import count, me, render


@bp.app_template_global("optional_url")
def optional_url(endpoint: str, **values) -> str | None:
    """url_for, or None when that page is not (yet) part of the app — the link is then left out."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def stores_by_tier(user=None) -> dict[str, int]:
    """Active stores in the user's scope, counted per tier (every tier present, zeros included)."""
    counts = dict.fromkeys(TIERS, 0)
    rows = db.session.execute(scope.stores(user).where(Store.active.is_(True))
                              .with_only_columns(Store.tier, func.count()).group_by(Store.tier))
    for tier, n in rows:
        counts[tier] = counts.get(tier, 0) + n
    return counts


# --- rep --------------------------------------------------------------------------------------

def rep_summary(user: User) -> dict:
    tiers = stores_by_tier(user)
    return {"tiers": tiers, "total": sum(tiers.values())}


# --- supervisor -------------------------------------------------------------------------------

@dataclass
class TeamLine:
    rep: User
    stores: int


def supervisor_summary(user: User) -> dict:
    """The supervisor's reps (active first), each with the active stores they own that the supervisor may see."""
    reps = db.session.execute(scope.reps(user, active_only=False).where(User.supervisor_id == user.id)
                              .order_by(User.active.desc(), User.name)).scalars().all()
    owned = dict(db.session.execute(
        scope.stores(user).where(Store.active.is_(True), Store.owner_rep_id.is_not(None))
        .with_only_columns(Store.owner_rep_id, func.count()).group_by(Store.owner_rep_id)).all())
    tiers = stores_by_tier(user)
    return {"team": [TeamLine(r, owned.get(r.id, 0)) for r in reps], "tiers": tiers,
            "total": sum(tiers.values())}


# --- manager ----------------------------------------------------------------------------------

@dataclass
class RegionLine:
    region: Region
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))

    @property
    def total(self) -> int:
        return sum(self.tiers.values())


def manager_summary(user: User) -> dict:
    """The manager's regions (and the areas below them), each with its active stores per tier
    counted over its whole subtree; the people working there by role."""
    regions = db.session.execute(scope.regions(user)).scalars().all()
    direct: dict[int, Counter] = defaultdict(Counter)
    for region_id, tier, n in db.session.execute(
            scope.stores(user).where(Store.active.is_(True), Store.region_id.is_not(None))
            .with_only_columns(Store.region_id, Store.tier, func.count()).group_by(Store.region_id, Store.tier)):
        direct[region_id][tier] += n
    lines = []
    for region in regions:
        line = RegionLine(region)
        for other in regions:
            if other.path.startswith(region.path):
                for tier, n in direct[other.id].items():
                    line.tiers[tier] = line.tiers.get(tier, 0) + n
        lines.append(line)
    tiers = stores_by_tier(user)
    return {"regions": lines, "tiers": tiers, "total": sum(tiers.values()),
            "supervisors": count(scope.supervisors(user).where(User.id != user.id)),
            "reps": count(scope.reps(user).where(User.id != user.id))}


# --- admin ------------------------------------------------------------------------------------

PEOPLE_LABELS = {Role.REP: lambda: _("Reps"), Role.SUPERVISOR: lambda: _("Supervisors"),
                 Role.MANAGER: lambda: _("Managers"), Role.ADMIN: lambda: _("Admins")}


def admin_summary(user: User) -> dict:
    """Active people per role (every role listed, zeros included), regions, stores and products."""
    by_role = dict(db.session.execute(scope.users(user).where(User.active.is_(True))
                                      .with_only_columns(User.role, func.count()).group_by(User.role)).all())
    return {
        "people": [(role.value, label(), by_role.get(role.value, 0)) for role, label in PEOPLE_LABELS.items()],
        "inactive_users": count(scope.users(user).where(User.active.is_(False))),
        "regions": count(scope.regions(user)),
        "stores": count(scope.stores(user).where(Store.active.is_(True))),
        # The catalogue is company-wide: there is no scope to apply to products.
        "products": count(select(Product).where(Product.active.is_(True))),
    }


# Each kind of home (permissions.home_of) and what it summarises.
SUMMARIES = {"rep": rep_summary, "team": supervisor_summary, "regions": manager_summary, "admin": admin_summary}


@bp.route("/")
@login_required
def index():
    user = me()
    home = permissions.home_of(user)
    if home == "dealer":
        return redirect(url_for("orders.index"))  # a dealer's staff have no overview: their orders are home
    # The targets helper's card (field/targets registers "targets_summary"); nothing until it does.
    targets = providers.ask("targets_summary", user, local_today(user).replace(day=1), default=None) \
        if home == "rep" else None
    # Open alerts (field/alerts registers the count), for the homes that handle them.
    open_alerts = providers.ask("open_alerts_count", user, default=0) if home in ("team", "regions") else 0
    # The incentives helper's points card (field/incentives registers "incentives_card").
    points = providers.ask("incentives_card", user, local_today(user), default=None) if home == "rep" else None
    # The working day: a rep's home offers to start it first thing (field/workday is below home).
    workday_card = workday_queries.home_card(user, local_today(user)) if home == "rep" else None
    return render("home/index.html", home=home, summary=SUMMARIES[home](user), tier_names=TIERS, now=now(),
                  targets=targets, open_alerts=open_alerts, points=points, workday_card=workday_card,
                  workday_form=DayForm() if workday_card else None)
