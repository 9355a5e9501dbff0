"""The bottom navigation each kind of home (permissions.home_of) sees: four or five thumb-sized tabs."""
from typing import NamedTuple

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from field import permissions
from field.auth.models import Role


class Tab(NamedTuple):
    endpoint: str
    label: str
    icon: str
    # The pages that light the tab up: endpoints, or "blueprint." for a whole blueprint.
    lights: tuple[str, ...] = ()

    def active(self, endpoint: str) -> bool:
        return endpoint == self.endpoint or any(
            endpoint.startswith(m) if m.endswith(".") else endpoint == m for m in self.lights)


PLAN = Tab("visits.plan", _l("Plan"), "plan", ("visits.plan_week",))
STORES = Tab("stores.index", _l("Stores"), "store", ("stores.", "visits.store_history"))
PRODUCTS = Tab("products.index", _l("Products"), "product", ("products.",))
ME = Tab("auth.profile", _l("Me"), "me")

# The first tab is the home itself.
TABS = {
    "rep": [Tab("home.index", _l("Home"), "overview"),
            Tab("visits.today", _l("Today"), "today",
                ("visits.show", "visits.checkin", "visits.store_checkin", "visits.covisit")),
            STORES, Tab("activities.mine", _l("Activities"), "activity", ("activities.",)), ME],
    "team": [Tab("home.index", _l("Team"), "team", ("visits.team", "visits.rep_day", "visits.rep_week", "visits.flagged",
                                                   "visits.team_map", "visits.rep_route", "alerts.", "home.", "targets.",
                                                   "competitors.")),
             PLAN, STORES, Tab("activities.index", _l("Activities"), "activity", ("activities.",)), ME],
    "regions": [Tab("home.index", _l("Overview"), "overview", ("visits.plan", "visits.plan_week", "visits.flagged",
                                                               "visits.team_map", "visits.rep_route", "alerts.", "home.",
                                                               "targets.", "competitors.")),
                Tab("activities.index", _l("Activities"), "activity", ("activities.", "claims.")),
                Tab("roi.index", _l("ROI"), "roi", ("roi.",)), STORES, ME],
    "admin": [Tab("home.index", _l("Admin"), "admin", ("visits.types", "visits.type", "admin.", "auth.regions",
                                                       "auth.region_edit", "activities.types",
                                                       "competitors.promotion_types")),
              Tab("auth.users", _l("Users"), "team", ("auth.user_new", "auth.user_edit")),
              STORES, PRODUCTS, ME],
    # A dealer's staff (field/orders): their dealer's orders and stores.
    "dealer": [Tab("orders.index", _l("Orders"), "activity", ("orders.",)), STORES, ME],
}


# Homes whose people work at a desk as much as on a phone: from 1024 px wide their tabs become a side
# navigation and pages widen (static/css/app.css, "Desktop"). A rep keeps the phone layout.
DESK_HOMES = ("team", "regions", "admin")


def desk() -> bool:
    return current_user.is_authenticated and permissions.home_of(current_user) in DESK_HOMES


def tabs():
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    return [{"endpoint": t.endpoint, "label": t.label, "icon": t.icon, "active": t.active(endpoint)}
            for t in TABS.get(permissions.home_of(current_user), [])]


ROLE_LABELS = {Role.REP: _l("Rep"), Role.SUPERVISOR: _l("Supervisor"),
               Role.MANAGER: _l("Manager"), Role.ADMIN: _l("Admin"), Role.DEALER: _l("Dealer staff")}


def role_label(role) -> str:
    return str(ROLE_LABELS.get(Role(role), role))


def register(app):
    app.jinja_env.globals["role_label"] = role_label

    @app.context_processor
    def inject_nav():
        # Macros as a global module: a block rendered alone for htmx sees them too.
        forms = app.jinja_env.get_template("macros/forms.html").module
        return {"nav_tabs": tabs(), "desk_layout": desk(), "forms": forms}
