"""The maps: the team's stores and the day's check-ins (/map), and a rep's day route (/reps/<id>/day/map).

Each page is HTML with an empty map box; static/js/map.js (with the vendored Leaflet) fetches the page's
JSON (same URL arguments, field/visits/map_data.py) and draws it — no inline script, so the CSP stays
'self'. Map tiles come from MAP_TILES (field/geo.py, tile_source); with none, the markers draw over a
plain background. Scope as everywhere: a rep outside the reader's scope is a 404, as is a filter naming
one; the team map is for those who watch reps (anyone else: 403)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import login_required
from sqlalchemy import select

from field import permissions, scope
from field.auth.models import User
from field.core import MAX_ID, local_today, user_zone
from field.extensions import db
from field.geo import Datum, TileSource, tile_source
from field.stores.models import TIERS
from field.visits import bp
from field.visits import history, map_data
from field.visits.history_views import _day_arg
from field.visits.models import Visit
from field.web import me, render

COLOURS = ("tier", "visited")
_SENTINEL = 987654321


def _tiles() -> TileSource | None:
    config = current_app.config
    return tile_source(config.get("MAP_TILES"), config.get("MAP_TILES_DATUM"),
                       config.get("MAP_TILES_ATTRIBUTION"), config.get("MAP_TILES_SUBDOMAINS"))


def _datum() -> Datum:
    tiles = _tiles()
    return tiles.datum if tiles is not None else Datum.WGS84


def _url_pattern(endpoint: str, **values) -> str:
    """A URL with "{id}" where the record's id goes (map.js fills it in for each marker)."""
    key = next(iter(values))
    return url_for(endpoint, **{key: _SENTINEL}).replace(str(_SENTINEL), "{id}")


def _counted(text: str, n: int) -> str:
    """"1 store" → "{n} store": a plural form with the place of its number for map.js."""
    return text.replace(str(n), "{n}", 1)


def _map_box() -> dict:
    """What every map box carries for map.js: the tiles (None: a plain background), link patterns, words."""
    tiles = _tiles()
    return {
        "tiles": tiles.for_page() if tiles is not None else None,
        "store_url": _url_pattern("stores.detail", store_id=0),
        "visit_url": _url_pattern("visits.show", visit_id=0),
        "words": {
            "store": _("Open the store"), "visit": _("Open the visit"), "visited": _("Visited today"),
            "not_visited": _("Not visited today"), "checkin": _("Check-in at %(time)s", time="{time}"),
            "flagged": _("Flagged"), "tier": _("Tier %(tier)s", tier="{tier}"), "by": _("by %(name)s", name="{name}"),
            "stop": _("Stop %(n)s", n="{n}"), "store_here": _("The store"),
            # [one, other]: map.js picks by the count (the forms English and Chinese need).
            "stores": [_counted(ngettext("%(num)s store", "%(num)s stores", n), n) for n in (1, 2)],
            "checkins": [_counted(ngettext("%(num)s check-in", "%(num)s check-ins", n), n) for n in (1, 2)],
            "unplaced": _("%(num)s without a position", num="{n}"),
            "nothing": _("Nothing with a position to show."),
        },
    }


def _rep_filter(reps: list[User]) -> tuple[int | None, str | None]:
    """?rep=: one of the reps the user watches; a number naming anyone else is a 404 (an id never
    widens scope), anything that is not a number a message and every rep."""
    raw = request.args.get("rep", "").strip()
    if not raw:
        return None, None
    try:
        rep_id = int(raw)
    except ValueError:
        return None, _("“%(value)s” is not a rep; showing every rep.", value=raw[:40])
    if not 0 < rep_id <= MAX_ID:
        abort(404)
    if rep_id not in {r.id for r in reps}:
        # A former rep still in scope may be asked for by id; anyone outside scope is not there.
        scope.get_or_404(scope.reps(active_only=False), rep_id)
    return rep_id, None


def _colour() -> str:
    colour = request.args.get("colour", "tier")
    return colour if colour in COLOURS else "tier"


# --- the team's map ----------------------------------------------------------------------------

@bp.route("/map")
@login_required
def team_map():
    permissions.require(permissions.may_watch_team(me()))
    user = me()
    today = local_today(user)
    day, day_message = _day_arg("date", today)
    reps = history.team_reps(user)
    rep_id, rep_message = _rep_filter(reps)
    messages = [m for m in (day_message, rep_message) if m]
    args = {k: v for k, v in (("rep", rep_id), ("date", day.isoformat() if day != today else None)) if v}
    box = _map_box()
    if day != today:
        box["words"].update(visited=_("Visited that day"), not_visited=_("Not visited that day"))
    return render("map/team.html", status=422 if messages else 200, messages=messages, reps=reps,
                  rep_id=rep_id, day=day, today=today, colour=_colour(), colours=COLOURS, tiers=TIERS,
                  prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1), args=args,
                  box=box, data_url=url_for("visits.team_map_points", **args))


@bp.route("/map/points.json")
@login_required
def team_map_points():
    permissions.require(permissions.may_watch_team(me()))
    user = me()
    day, message = _day_arg("date", local_today(user))
    rep_id, rep_message = _rep_filter(history.team_reps(user))
    if message or rep_message:
        return jsonify(error=message or rep_message), 422
    datum = _datum()
    data = map_data.team_map(user, day, datum, rep_id)
    return jsonify(data.as_json(day, datum))


# --- a rep's day route --------------------------------------------------------------------------

def _rep(rep_id: int) -> User:
    return scope.get_or_404(scope.reps(active_only=False), rep_id)


def _linkable(ids) -> set[int]:
    if not ids:
        return set()
    return set(db.session.execute(select(Visit.id).where(scope.rule(Visit), Visit.id.in_(ids))).scalars())


@bp.route("/reps/<int:rep_id>/day/map")
@login_required
def rep_route(rep_id: int):
    rep = _rep(rep_id)
    today = local_today(rep)
    day, message = _day_arg("date", today)
    summary = history.day_summary(rep, day)
    data = map_data.route(summary, _datum(), _linkable([v.id for v in summary.visits]), user_zone(me()))
    return render("map/route.html", status=422 if message else 200, message=message, rep=rep,
                  day=day, today=today, route=data, prev_day=day - timedelta(days=1),
                  next_day=day + timedelta(days=1), box=_map_box(),
                  data_url=url_for("visits.rep_route_points", rep_id=rep.id, date=day.isoformat()))


@bp.route("/reps/<int:rep_id>/day/route.json")
@login_required
def rep_route_points(rep_id: int):
    rep = _rep(rep_id)
    day, message = _day_arg("date", local_today(rep))
    if message:
        return jsonify(error=message), 422
    summary = history.day_summary(rep, day)
    return jsonify(map_data.route(summary, _datum(), _linkable([v.id for v in summary.visits]), user_zone(me())))
