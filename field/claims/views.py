"""Claim pages: the claims list (and the stores one may claim for), filing a claim, a claim with
its computation and the approver's decision, reversing a payment, and the ledger with its export.

Views read the request, call field/claims/operations.py, and render one template per page; a
refused field answers the form again beside its input, a refused move the page with its reason."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.activities.models import Activity, ActivityStore
from field.auth.models import Region
from field.claims import bp, export as ledger_export, ledger
from field.claims import operations as ops
from field.claims.forms import ClaimForm, DecisionForm, ReversalForm
from field.claims.models import Claim, ClaimStatus as C, LedgerLine
from field.core import company_today, format_money, money_decimal
from field.extensions import db
from field.core import FieldError
from field.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from field.web import Refused, date_arg, id_arg, paginate, refusal, render, see_other, me as _me, page_arg as _page_arg

SHOW = {"open": (C.SUBMITTED,), "approved": (C.APPROVED,), "rejected": (C.REJECTED,), "reversed": (C.REVERSED,)}
CLAIMABLE_SHOWN = 50

bp.add_app_template_global(ops.status_label, "claim_status_label")


def _claim(claim_id: int) -> Claim:
    return scope.get_or_404(scope.claims(), claim_id)


def _line(line_id: int) -> ActivityStore:
    return scope.get_or_404(scope.activity_stores(), line_id)


# --- the list ---------------------------------------------------------------------------------

def _claimable() -> list[ActivityStore]:
    """Stores of approved activities the user may claim for and that have no live claim."""
    if not permissions.may_claim(_me()):
        return []
    live = select(Claim.activity_store_id).where(Claim.status.in_((C.SUBMITTED, C.APPROVED)))
    return list(db.session.execute(
        scope.activity_stores().join(ActivityStore.activity)
        .where(Activity.status.in_(ops.CLAIMABLE), ActivityStore.id.not_in(live))
        .options(selectinload(ActivityStore.activity), selectinload(ActivityStore.store))
        .order_by(Activity.period_end.desc(), ActivityStore.id).limit(CLAIMABLE_SHOWN)).scalars())


@bp.route("/claims")
@login_required
def index():
    show = request.args.get("show", "open")
    show = show if show in SHOW or show == "all" else "open"
    stmt = scope.claims().options(selectinload(Claim.activity_store).selectinload(ActivityStore.activity),
                                  selectinload(Claim.activity_store).selectinload(ActivityStore.store),
                                  selectinload(Claim.claimant))
    if show in SHOW:
        stmt = stmt.where(Claim.status.in_(SHOW[show]))
    page = paginate(stmt.order_by(Claim.id.desc()), _page_arg(), 50)
    return render("claims/index.html", block="results", page=page, show=show, shows=list(SHOW) + ["all"],
                  claimable=_claimable() if show == "open" else [])


# --- filing -----------------------------------------------------------------------------------

def _claim_form_page(line: ActivityStore, form: ClaimForm, status: int = 200, error: str = ""):
    receipts = ops.receipt_choices(line, _me())
    form.receipts.choices = [(str(p.id), str(p.id)) for p in receipts]
    return render("claims/new.html", block="form", status=status, line=line, form=form, receipts=receipts,
                  budget=ledger.store_budget(line), existing=ops.live_claim(line), error=error,
                  claimable=ops.may_claim_on(_me(), line))


def _beside_field(refused: Refused, form) -> str:
    """A refused field's message goes beside its input; any other refusal is the page's message."""
    if isinstance(refused.error, FieldError):
        getattr(form, refused.error.field).errors = [refused.message]
        return ""
    return refused.message


@bp.route("/activity-stores/<int:line_id>/claim", methods=["GET", "POST"])
@login_required
def new(line_id: int):
    line = _line(line_id)
    form = ClaimForm()
    if not form.is_submitted():
        return _claim_form_page(line, form)
    if not form.validate_on_submit():
        return _claim_form_page(line, form, 422)
    with refusal() as refused:
        claim = ops.file_claim(line, _me(), form.amount.data, form.note.data or "", form.receipts.data or [])
    if refused:
        return _claim_form_page(line, form, refused.status, _beside_field(refused, form))
    flash(_("Claim %(code)s filed. A manager decides on it.", code=claim.code))
    return see_other(url_for("claims.show", claim_id=claim.id))


# --- a claim and its decision ---------------------------------------------------------------------

def _claim_page(claim: Claim, status: int = 200, form: DecisionForm | None = None, error: str = "",
                reversal_form: ReversalForm | None = None):
    decides = claim.status in (C.SUBMITTED, C.APPROVED) and permissions.may_decide_claim(_me(), claim)
    figures = ops.payout(claim) if claim.status == C.SUBMITTED else None
    if form is None:
        form = DecisionForm(formdata=None)
        if figures is not None:
            form.amount.data = str(money_decimal(figures.payable))
    lines = list(db.session.execute(select(LedgerLine).where(LedgerLine.claim_id == claim.id)
                                    .options(selectinload(LedgerLine.actor)).order_by(LedgerLine.id)).scalars())
    reversed_ids = ledger.reversed_line_ids([x.id for x in lines])
    return render("claims/claim.html", status=status, claim=claim, figures=figures, form=form, error=error,
                  can_decide=decides and claim.status == C.SUBMITTED, lines=lines, reversed_ids=reversed_ids,
                  can_reverse=decides and claim.status == C.APPROVED,
                  reversal_form=reversal_form or ReversalForm(formdata=None),
                  budget=ledger.store_budget(claim.activity_store))


@bp.route("/claims/<int:claim_id>")
@login_required
def show(claim_id: int):
    return _claim_page(_claim(claim_id))


def _decide(claim_id: int, approve: bool):
    claim = _claim(claim_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, form)
    with refusal() as refused:
        if approve:
            payment = ops.approve(claim, _me(), form.amount.data, form.reason.data or "")
        else:
            ops.reject(claim, _me(), form.reason.data or "")
    if refused:
        return _claim_page(claim, refused.status, form, _beside_field(refused, form))
    if approve:
        flash(_("Approved and written off: %(amount)s.", amount=format_money(payment.amount)))
    else:
        flash(_("Rejected. The claimant sees your reason."))
    return redirect(url_for("claims.show", claim_id=claim_id), 303)


@bp.route("/claims/<int:claim_id>/approve", methods=["POST"])
@login_required
def approve(claim_id: int):
    return _decide(claim_id, True)


@bp.route("/claims/<int:claim_id>/reject", methods=["POST"])
@login_required
def reject(claim_id: int):
    return _decide(claim_id, False)


@bp.route("/ledger/<int:line_id>/reverse", methods=["POST"])
@login_required
def reverse(line_id: int):
    line = scope.get_or_404(scope.ledger_lines(), line_id)
    claim = _claim(line.claim_id)
    form = ReversalForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, reversal_form=form)
    with refusal() as refused:
        ops.reverse(line, _me(), form.reason.data or "")
    if refused:
        return _claim_page(claim, refused.status, error=_beside_field(refused, form), reversal_form=form)
    flash(_("Payment reversed. The store may file a new claim."))
    return redirect(url_for("claims.show", claim_id=claim.id), 303)


# --- the ledger -------------------------------------------------------------------------------

def _ledger_filters() -> tuple[ledger_export.LedgerFilters, list[Region], dict, Activity | None]:
    """Period, region and activity from the query string; a region or activity out of scope is ignored."""
    regions = list(db.session.execute(scope.regions()).scalars())
    region_id = id_arg("region")
    region = next((r for r in regions if r.id == region_id), None)
    activity_id = id_arg("activity")
    activity = db.session.execute(scope.activities().where(Activity.id == activity_id)).scalar_one_or_none() \
        if activity_id else None
    activity_id = activity.id if activity is not None else None
    filters = ledger_export.LedgerFilters(date_arg("from"), date_arg("to"), region, activity_id)
    args = {k: v for k, v in {"from": filters.start.isoformat() if filters.start else "",
                              "to": filters.end.isoformat() if filters.end else "",
                              "region": region.id if region else "", "activity": activity_id or ""}.items() if v}
    return filters, regions, args, activity


@bp.route("/ledger")
@login_required
def ledger_index():
    permissions.require(permissions.may_read_ledger(_me()))
    filters, regions, args, activity = _ledger_filters()
    page = paginate(ledger_export.ledger_query(filters), _page_arg(), 100)
    total = ledger_export.ledger_total(filters)
    return render("claims/ledger.html", block="results", page=page, filters=filters, regions=regions, args=args,
                  total=total, activity=activity, args_no_activity={k: v for k, v in args.items() if k != "activity"})


@bp.route("/ledger/export.<any(csv, xlsx):fmt>")
@login_required
def ledger_download(fmt: str):
    permissions.require(permissions.may_read_ledger(_me()))
    filters = _ledger_filters()[0]
    body = ledger_export.export(filters, _me(), fmt)
    name = f"ledger-{company_today().isoformat()}.{fmt}"
    return body, 200, {"Content-Type": XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
                       "Content-Disposition": f'attachment; filename="{name}"'}
