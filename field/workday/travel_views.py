"""Travel-expense claim pages: a rep's claims and a new one (the period's computed mileage shown as the form is
filled), a claim with claimed, computed and the difference side by side, and the decision (approve pays it
through the ledger; reject; reverse the payment). A claim outside the viewer's scope is a 404."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import case
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.claims.models import ClaimStatus as C, TravelClaim, TravelReceipt
from field.core import DomainError, FieldError, format_money, local_today
from field.extensions import db
from field.visits.history import monday_of
from field.web import date_arg, me, refusal, render, see_other
from field.workday import bp, receipts as expense, travel
from field.workday.forms import TravelClaimForm, TravelDecisionForm


@bp.app_template_global("travel_status_label")
def travel_status_label(status: str) -> str:
    return travel.status_label(status)


def _claim(claim_id: int) -> TravelClaim:
    return scope.get_or_404(scope.travel_claims().options(
        selectinload(TravelClaim.receipts).selectinload(TravelReceipt.photo), selectinload(TravelClaim.rep),
        selectinload(TravelClaim.expense_receipts)), claim_id)


@bp.route("/travel-claims")
@login_required
def travel_index():
    user = me()
    stmt = scope.travel_claims(user).options(selectinload(TravelClaim.rep)).order_by(
        case((TravelClaim.status == C.SUBMITTED, 0), else_=1), TravelClaim.id.desc()).limit(100)
    claims = list(db.session.execute(stmt).scalars())
    return render("workday/travel_index.html", claims=claims, may_file=permissions.may_run_visits(user))


def _vehicle_choices():
    return [(k, f"{travel.VEHICLES[k]} · {_('%(rate)s / km', rate=format_money(v))}") for k, v in travel.rates().items()]


def _new_page(form: TravelClaimForm, status: int = 200, error: str = "", field_errors=None, posted=None):
    rep = me()
    first, last = form.start.data, form.end.data
    computed = receipts = stand_alone = None
    if first and last and first <= last and (last - first).days < travel.MAX_PERIOD_DAYS:
        computed = travel.computed_metres(rep, rep, first, last)
        receipts = travel.receipt_choices(rep, first, last)
        stand_alone = expense.claimable(rep, first, last)
    chosen = set(request.form.getlist("expense_receipt")) if request.method == "POST" else None
    return render("workday/travel_new.html", status=status, form=form, error=error, computed=computed,
                  receipts=receipts or [], kinds=travel.RECEIPT_KINDS, field_errors=field_errors or {},
                  posted=posted or {}, stand_alone=stand_alone or [], chosen=chosen)


@bp.route("/travel-claims/new", methods=["GET", "POST"])
@login_required
def travel_new():
    rep = me()
    permissions.require(permissions.may_run_visits(rep), _("Travel claims are filed by reps."))
    form = TravelClaimForm()
    form.vehicle.choices = _vehicle_choices()
    if request.method == "GET":
        today = local_today(rep)
        form.start.data = date_arg("start") or monday_of(today)
        form.end.data = date_arg("end") or today
        return _new_page(form)
    chosen = request.form.getlist("receipt")
    posted = {pid: (request.form.get(f"kind-{pid}", ""), request.form.get(f"amount-{pid}", "")) for pid in chosen}
    if not form.validate_on_submit():
        return _new_page(form, 422, " ".join(str(e) for errs in form.errors.values() for e in errs), posted=posted)
    with refusal() as refused:
        claim = travel.file_travel_claim(rep, form.start.data, form.end.data, form.vehicle.data, form.km.data,
                                         [(pid, kind, amount) for pid, (kind, amount) in posted.items()],
                                         form.note.data or "", request.form.getlist("expense_receipt"))
    if refused:
        field = getattr(refused.error, "field", None)
        return _new_page(form, refused.status, "" if field else refused.message,
                         {field: refused.message} if field else {}, posted=posted)
    flash(_("Travel claim %(code)s filed: %(amount)s. Your supervisor decides on it.", code=claim.code,
            amount=format_money(claim.amount)))
    return see_other(url_for("workday.travel_show", travel_claim_id=claim.id))


def _show(claim: TravelClaim, status: int = 200, form: TravelDecisionForm | None = None, error: str = ""):
    user = me()
    decides = permissions.may_decide_travel_claims(user) and user.id != claim.rep_id
    lines = travel.lines_of(claim)
    reversed_ids = {line.reverses_id for line in lines if line.reverses_id}
    return render("workday/travel_claim.html", status=status, claim=claim, lines=lines, reversed_ids=reversed_ids,
                  can_decide=decides and claim.status == C.SUBMITTED,
                  can_reverse=decides and claim.status == C.APPROVED,
                  form=form or TravelDecisionForm(formdata=None), error=error, kinds=travel.RECEIPT_KINDS,
                  vehicles=travel.VEHICLES)


@bp.route("/travel-claims/<int:travel_claim_id>")
@login_required
def travel_show(travel_claim_id: int):
    return _show(_claim(travel_claim_id))


def _decide(travel_claim_id: int, act, done: str):
    claim = _claim(travel_claim_id)
    form = TravelDecisionForm()
    if not form.validate_on_submit():
        return _show(claim, 422, form, " ".join(str(e) for errs in form.errors.values() for e in errs))
    with refusal() as refused:
        act(claim, me(), form.reason.data or "")
    if refused:
        return _show(claim, refused.status, form, refused.message)
    flash(done)
    return see_other(url_for("workday.travel_show", travel_claim_id=claim.id))


@bp.route("/travel-claims/<int:travel_claim_id>/approve", methods=["POST"])
@login_required
def travel_approve(travel_claim_id: int):
    return _decide(travel_claim_id, travel.approve, _("Approved and paid through the ledger."))


@bp.route("/travel-claims/<int:travel_claim_id>/reject", methods=["POST"])
@login_required
def travel_reject(travel_claim_id: int):
    return _decide(travel_claim_id, travel.reject, _("Rejected. The rep sees your reason."))


@bp.route("/travel-claims/<int:travel_claim_id>/reverse", methods=["POST"])
@login_required
def travel_reverse(travel_claim_id: int):
    return _decide(travel_claim_id, travel.reverse, _("Payment reversed by a ledger line."))
