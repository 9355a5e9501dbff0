"""Stand-alone travel receipt pages: the rep's receipts, a new one (photo, kind, amount, day: sent through the
phone's outbox, multipart), one receipt with its photo and the claim that took it, and its void. A receipt
outside the viewer's scope is a 404; a refusal answers the form again (or JSON to the outbox), nothing stored."""
from __future__ import annotations

from flask import flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import selectinload

from field import errors, permissions, scope
from field.claims.models import ExpenseReceipt
from field.core import DomainError, format_money, local_today
from field.photos import ingest
from field.web import me, refusal, render, see_other
from field.workday import bp, receipts as expense


def _receipt(receipt_id: int) -> ExpenseReceipt:
    return scope.get_or_404(scope.expense_receipts().options(
        selectinload(ExpenseReceipt.photo), selectinload(ExpenseReceipt.rep), selectinload(ExpenseReceipt.claims)),
        receipt_id)


@bp.app_template_global("receipt_kind")
def receipt_kind(kind: str) -> str:
    return expense.kind_label(kind)


@bp.route("/travel-receipts")
@login_required
def receipts():
    rep = me()
    permissions.require(permissions.may_run_visits(rep), _("Receipts are added by reps."))
    items = expense.recent(rep, rep)
    return render("workday/receipts.html", receipts=items, page_title=_("Receipts"))


def _form_page(status: int = 200, error: str = "", field: str | None = None, posted=None):
    rep = me()
    posted = posted or {}
    return render("workday/receipt_new.html", status=status, error=error, field=field, kinds=expense.KINDS,
                  posted=posted, today=local_today(rep), client_id=posted.get("client_id") or "",
                  page_title=_("New receipt"))


@bp.route("/travel-receipts/new", methods=["GET", "POST"])
@login_required
def receipt_new():
    rep = me()
    permissions.require(permissions.may_run_visits(rep), _("Receipts are added by reps."))
    if request.method == "GET":
        return _form_page()
    form = request.form
    posted = {k: form.get(k, "") for k in ("kind", "amount", "spent_on", "note")}
    with refusal() as refused:
        file = request.files.get("file")
        data = file.read(ingest.max_bytes() + 1) if file is not None else b""
        if not data:
            raise DomainError(_("Take a photo of the receipt."))
        upload = ingest.upload_from_form(form, data)
        receipt, created = expense.add_receipt(rep, upload, posted["kind"], posted["amount"], posted["spent_on"],
                                               posted["note"])
    if refused:
        answer = errors.replay_refusal(refused)
        if answer is not None:
            return answer
        return _form_page(refused.status, refused.message, getattr(refused.error, "field", None), posted)
    status = 201 if created else 200
    if errors.wants_json() and not errors.is_replay():  # the outbox follows the redirect, as a page would
        return jsonify(id=receipt.id, created=created, amount=receipt.amount,
                       url=url_for("workday.receipt_show", receipt_id=receipt.id)), status
    flash(_("Receipt saved: %(amount)s. Pick it on your travel claim of the period.",
            amount=format_money(receipt.amount)) if created else _("This receipt was already saved."), "success")
    return see_other(url_for("workday.receipt_show", receipt_id=receipt.id))


def _show(receipt: ExpenseReceipt, status: int = 200, error: str = ""):
    user = me()
    return render("workday/receipt.html", status=status, receipt=receipt, error=error,
                  live_claim=expense.live_claim(receipt), mine=receipt.rep_id == user.id,
                  can_void=permissions.may_void_receipt(user, receipt), page_title=_("Receipt"))


@bp.route("/travel-receipts/<int:receipt_id>")
@login_required
def receipt_show(receipt_id: int):
    return _show(_receipt(receipt_id))


@bp.route("/travel-receipts/<int:receipt_id>/void", methods=["POST"])
@login_required
def receipt_void(receipt_id: int):
    receipt = _receipt(receipt_id)
    with refusal() as refused:
        expense.void_receipt(receipt, me(), request.form.get("reason", ""))
    if refused:
        return _show(_receipt(receipt_id), refused.status, refused.message)
    flash(_("The receipt is voided; it stays on record with your reason."), "success")
    return see_other(url_for("workday.receipt_show", receipt_id=receipt.id))
