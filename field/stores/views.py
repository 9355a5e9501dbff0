"""Store pages: the scoped list (search, filters, nearest first), a store, and for admins and
managers the store form, (de)activation, import and export.

Views read the request, call field/stores/operations.py or importer.py, and render one
template per page; the list answers only its `results` block to an htmx search."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_login import login_required

from field import permissions, providers, scope, tabular
from field.auth.models import Region, User
from field.extensions import db
from field.geo import Datum, Point, valid_lat_lng
from field.stores import bp
from field.stores import importer
from field.stores import operations as ops
from field.stores.forms import CHANNEL_LABELS, DATUM_LABELS, StoreForm, channel_label
from field.stores.models import TIERS, Store
from field.web import import_page, me, page_arg, render, saved_form

bp.add_app_template_global(channel_label, "channel_label")


@bp.app_template_global("distance_label")
def distance_label(metres: float | None) -> str:
    """350 m, 2.4 km, 35 km."""
    if metres is None:
        return ""
    if metres < 1000:
        return _("%(m)s m", m=int(round(metres)))
    km = metres / 1000
    return _("%(km)s km", km=format_decimal(round(km, 1) if km < 10 else round(km), format="#,##0.#"))


@bp.app_template_global("datum_label")
def datum_label(value) -> str:
    try:
        return str(DATUM_LABELS[Datum(value)])
    except ValueError:
        return value or ""


def _require_editor() -> None:
    permissions.require(permissions.may_edit_stores(me()))


def _store(store_id: int) -> Store:
    return scope.get_or_404(scope.stores(), store_id)


def _origin() -> Point | None:
    lat, lng = request.args.get("lat", "").strip(), request.args.get("lng", "").strip()
    if lat and lng and valid_lat_lng(lat, lng):
        return Point(float(lat), float(lng))
    return None


@bp.route("/stores")
@login_required
def index():
    q = request.args.get("q", "").strip()[:100]
    tier = request.args.get("tier", "")
    tier = tier if tier in TIERS else ""
    channel = request.args.get("channel", "")
    channel = channel if channel in {c.value for c in CHANNEL_LABELS} else ""
    origin = _origin()
    page = ops.list_stores(q=q, tier=tier, channel=channel, origin=origin, page=page_arg(),
                           per_page=current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in {"q": q, "tier": tier, "channel": channel,
                              "lat": request.args.get("lat") if origin else "",
                              "lng": request.args.get("lng") if origin else ""}.items() if v}
    return render("stores/index.html", block="results", page=page, q=q, tier=tier, channel=channel,
                  origin=origin, args=args, tiers=TIERS, channels=CHANNEL_LABELS)


@bp.route("/stores/<int:store_id>")
@login_required
def detail(store_id: int):
    store = _store(store_id)
    # field/orders: the last order at the store and its status, for whoever may see the store.
    return render("stores/store.html", store=store,
                  last_order=providers.ask("store_last_order", store, default=None))


def _choices(store: Store | None = None) -> tuple[list[User], list[Region]]:
    """Reps and regions the user may give a store — plus the ones the store already has."""
    reps = list(db.session.execute(scope.reps().order_by(User.name)).scalars())
    regions = list(db.session.execute(scope.regions()).scalars())
    if store is not None:
        if store.owner_rep is not None and store.owner_rep not in reps:
            reps.append(store.owner_rep)
        if store.region is not None and store.region not in regions:
            regions.append(store.region)
    return reps, regions


def _save(form: StoreForm, store: Store | None) -> Store:
    if store is None:
        return ops.create_store(form.values(), me())
    ops.update_store(store, form.values(), me())
    return store


def _form_page(form: StoreForm, store: Store | None):
    """The store form: a valid one is saved (or its refused field marked), anything else answered again."""
    return saved_form(form, lambda: _save(form, store),
                      lambda saved: _("Store %(code)s saved.", code=saved.code) if store
                      else _("Store %(code)s added.", code=saved.code),
                      lambda saved: url_for("stores.detail", store_id=saved.id)) or \
        render("stores/form.html", block="form", form=form, store=store, status=422 if form.is_submitted() else 200)


@bp.route("/stores/new", methods=["GET", "POST"])
@login_required
def new():
    _require_editor()
    reps, regions = _choices()
    form = StoreForm(reps=reps, regions=regions)
    if request.method == "GET" and len(regions) == 1:
        form.region.data = str(regions[0].id)
    return _form_page(form, None)


@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
@login_required
def edit(store_id: int):
    _require_editor()
    store = _store(store_id)
    reps, regions = _choices(store)
    form = StoreForm(reps=reps, regions=regions)
    if request.method == "GET":
        form.fill(store)
    return _form_page(form, store)


@bp.route("/stores/<int:store_id>/<any(activate, deactivate):action>", methods=["POST"])
@login_required
def set_active(store_id: int, action: str):
    _require_editor()
    store = _store(store_id)
    active = action == "activate"
    if ops.set_active(store, active, me()):
        flash(_("Store %(code)s reactivated.", code=store.code) if active
              else _("Store %(code)s deactivated.", code=store.code))
    return redirect(url_for("stores.detail", store_id=store.id))


@bp.route("/stores/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_editor()
    return import_page(tabular.ImportForm(), lambda data, name: importer.import_stores(data, name, me()),
                       lambda result: (tabular.import_done(result), url_for("stores.index")),
                       "stores/import.html", headers=importer.HEADERS, channels=CHANNEL_LABELS)


@bp.route("/stores/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    _require_editor()
    return tabular.download(importer.export(me(), fmt), fmt, "stores")
