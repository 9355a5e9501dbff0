"""Dealer pages: the scoped list (search), and for managers and admins the dealer form, import and
export. A dealer's own page is its scorecard (field/channel)."""
from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from field import permissions, scope, tabular
from field.auth.models import Region
from field.dealers import bp, importer
from field.dealers import operations as ops
from field.dealers.forms import DealerForm
from field.dealers.models import Dealer
from field.extensions import db
from field.web import import_page, me, page_arg, paginate, render, saved_form


def _dealer(dealer_id: int) -> Dealer:
    return scope.get_or_404(scope.query(Dealer), dealer_id)


def _regions(dealer: Dealer | None = None) -> list[Region]:
    regions = list(db.session.execute(scope.regions()).scalars())
    if dealer is not None and dealer.region is not None and dealer.region not in regions:
        regions.append(dealer.region)
    return regions


@bp.route("/dealers")
@login_required
def index():
    permissions.require(permissions.may_read_dealers(me()))
    q = request.args.get("q", "").strip()[:100]
    page = paginate(ops.search(q), page_arg(), current_app.config["PAGE_SIZE"])
    return render("dealers/index.html", block="results", page=page, q=q, args={"q": q} if q else {})


def _form_page(form: DealerForm, dealer: Dealer | None):
    def save():
        if dealer is None:
            return ops.create_dealer(form.values(), me())
        ops.update_dealer(dealer, form.values(), me())
        return dealer
    return saved_form(form, save,
                      lambda saved: _("Dealer %(code)s saved.", code=saved.code) if dealer
                      else _("Dealer %(code)s added.", code=saved.code),
                      lambda saved: url_for("channel.scorecard", dealer_id=saved.id)) or \
        render("dealers/form.html", block="form", form=form, dealer=dealer,
               status=422 if form.is_submitted() else 200)


@bp.route("/dealers/new", methods=["GET", "POST"])
@login_required
def new():
    permissions.require(permissions.may_edit_dealers(me()))
    regions = _regions()
    form = DealerForm(regions=regions)
    if request.method == "GET" and len(regions) == 1:
        form.region.data = str(regions[0].id)
    return _form_page(form, None)


@bp.route("/dealers/<int:dealer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(dealer_id: int):
    dealer = _dealer(dealer_id)
    permissions.require(permissions.may_edit_dealers(me()))
    form = DealerForm(regions=_regions(dealer))
    if request.method == "GET":
        form.fill(dealer)
    return _form_page(form, dealer)


@bp.route("/dealers/import", methods=["GET", "POST"])
@login_required
def import_():
    permissions.require(permissions.may_edit_dealers(me()))
    return import_page(tabular.ImportForm(), lambda data, name: importer.import_dealers(data, name, me()),
                       lambda result: (tabular.import_done(result), url_for("dealers.index")),
                       "dealers/import.html")


@bp.route("/dealers/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    permissions.require(permissions.may_edit_dealers(me()))
    return tabular.download(importer.export(me(), fmt), fmt, "dealers")
