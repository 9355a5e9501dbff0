"""Store pages: the scoped list (search, filters, nearest first), a store, and for admins and
managers the store form, (de)activation, import and export.

Views read the request, call field/stores/operations.py or importer.py, and render one
template per page; the list answers only its `results` block to an htmx search."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_login import current_user, login_required

from field import scope
from field.auth.models import Region, Role, User
from field.extensions import db
from field.geo import Datum, Point, valid_lat_lng
from field.stores import bp
from field.stores import importer
from field.stores import operations as ops
from field.stores.forms import CHANNEL_LABELS, DATUM_LABELS, ImportForm, StoreForm, channel_label
from field.stores.models import TIERS, Store
from field.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from field.web import import_page, render, me as _me, page_arg as _page_arg

EDITORS = (Role.ADMIN, Role.MANAGER)

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
    if current_user.role not in EDITORS:
        abort(403)


def _can_edit() -> bool:
    return current_user.role in EDITORS


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
    page = ops.list_stores(q=q, tier=tier, channel=channel, origin=origin, page=_page_arg(),
                           per_page=current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in {"q": q, "tier": tier, "channel": channel,
                              "lat": request.args.get("lat") if origin else "",
                              "lng": request.args.get("lng") if origin else ""}.items() if v}
    return render("stores/index.html", block="results", page=page, q=q, tier=tier, channel=channel,
                  origin=origin, args=args, tiers=TIERS, channels=CHANNEL_LABELS, can_edit=_can_edit())


@bp.route("/stores/<int:store_id>")
@login_required
def detail(store_id: int):
    store = _store(store_id)
    return render("stores/store.html", store=store, can_edit=_can_edit())


def _choices(store: Store | None = None) -> tuple[list[User], list[Region]]:
    """Reps and regions the user may give a store — plus the ones the store already has."""
    reps = list(db.session.execute(scope.users().where(User.role == Role.REP, User.active.is_(True))
                                   .order_by(User.name)).scalars())
    regions = list(db.session.execute(scope.regions()).scalars())
    if store is not None:
        if store.owner_rep is not None and store.owner_rep not in reps:
            reps.append(store.owner_rep)
        if store.region is not None and store.region not in regions:
            regions.append(store.region)
    return reps, regions


def _save(form: StoreForm, store: Store | None):
    """Run the operation; a refused field answers the form again with the message beside it."""
    try:
        if store is None:
            store = ops.create_store(form.values(), _me())
            flash(_("Store %(code)s added.", code=store.code))
        else:
            ops.update_store(store, form.values(), _me())
            flash(_("Store %(code)s saved.", code=store.code))
    except ops.FieldError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return None
    return redirect(url_for("stores.detail", store_id=store.id))


@bp.route("/stores/new", methods=["GET", "POST"])
@login_required
def new():
    _require_editor()
    reps, regions = _choices()
    form = StoreForm(reps=reps, regions=regions)
    if request.method == "GET" and len(regions) == 1:
        form.region.data = str(regions[0].id)
    if form.validate_on_submit():
        done = _save(form, None)
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return render("stores/form.html", block="form", form=form, store=None, status=status)


@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
@login_required
def edit(store_id: int):
    _require_editor()
    store = _store(store_id)
    reps, regions = _choices(store)
    form = StoreForm(reps=reps, regions=regions)
    if request.method == "GET":
        form.fill(store)
    if form.validate_on_submit():
        done = _save(form, store)
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return render("stores/form.html", block="form", form=form, store=store, status=status)


def _set_active(store_id: int, active: bool):
    _require_editor()
    store = _store(store_id)
    if ops.set_active(store, active, _me()):
        flash(_("Store %(code)s reactivated.", code=store.code) if active
              else _("Store %(code)s deactivated.", code=store.code))
    return redirect(url_for("stores.detail", store_id=store.id))


@bp.route("/stores/<int:store_id>/deactivate", methods=["POST"])
@login_required
def deactivate(store_id: int):
    return _set_active(store_id, False)


@bp.route("/stores/<int:store_id>/activate", methods=["POST"])
@login_required
def activate(store_id: int):
    return _set_active(store_id, True)


@bp.route("/stores/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_editor()
    return import_page(
        ImportForm(), lambda data, name: importer.import_stores(data, name, _me()),
        lambda result: (_("Import done: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
                          created=result.created, updated=result.updated, unchanged=result.unchanged),
                        url_for("stores.index")),
        "stores/import.html", headers=importer.HEADERS, channels=CHANNEL_LABELS)


@bp.route("/stores/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    _require_editor()
    body = importer.export(_me(), fmt)
    name = f"stores-{date.today().isoformat()}.{fmt}"
    return body, 200, {"Content-Type": XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
                       "Content-Disposition": f'attachment; filename="{name}"'}
