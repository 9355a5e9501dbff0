"""Evidence pages: the verification queue (a page of items, one item, a verdict, bulk approval)
for supervisors and managers, and the rep's POST that binds a visit step's photos to an activity.

A verdict answers htmx with the item's card — the `item` block of the item's page (reviewed, or
refused with what stands now, at its 4xx status) — and a plain form with a redirect back to the
queue; a refused plain form gets the item's page with the reason."""
from __future__ import annotations

from datetime import timedelta, timezone

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _, ngettext, to_user_timezone
from flask_login import login_required
from sqlalchemy.orm import selectinload

from field import scope
from field.activities import bp, evidence, for_visits, queue, reviews
from field.activities import operations as ops
from field.activities.models import Activity, ActivityStore, CheckPeriod
from field.core import DomainError, company_today
from field.permissions import may_review, require
from field.photos.models import Photo
from field.photos.views import utc_offset_text
from field.visits.history_views import day_skeleton
from field.visits.models import Visit, VisitStep
from field.web import me as _me, refusal, render, wants_fragment

SHOWS = ("review", "overdue")
DISTANCES_AGREE_M = 100  # the phone's and the file's distance to the store differ by less: say one

bp.add_app_template_global(reviews.reason_label, "review_reason_label")
bp.add_app_template_global(reviews.verdict_label, "review_verdict_label")


@bp.app_template_global("period_label")
def period_label(kind, period) -> str:
    """'Period 2: Nov 20 – Nov 26', or one check for the whole activity (kept for the request:
    a page of the queue shows the same few periods many times)."""
    memo = g.setdefault("period_labels", {})
    key = (kind.check_period, period.index, period.start, period.end)
    if key not in memo:
        memo[key] = (_("One check for the whole activity") if kind.check_period == CheckPeriod.ONCE else
                     _("Period %(n)s: %(start)s – %(end)s", n=period.index + 1,
                       start=day_skeleton(period.start, "MMMd"), end=day_skeleton(period.end, "MMMd")))
    return memo[key]


@bp.app_template_global("capture_summary")
def capture_summary(photo: Photo) -> str:
    """When and how far from the store a photo was taken, in a few words: '09:41 · 35 m away · accuracy
    ±12 m'; the position in the photo file's own GPS too when it tells another story ('· photo's own GPS:
    1503 m away')."""
    texts = queue_texts()
    parts = []
    taken = photo.exif_taken_at or photo.phone_captured_at
    if taken is not None:
        seen = to_user_timezone(taken)
        own = photo.exif_utc_offset_min if photo.exif_taken_at is not None else None
        if own is not None and seen.utcoffset() != timedelta(minutes=own):  # taken elsewhere: its own clock too
            there = taken.astimezone(timezone(timedelta(minutes=own)))
            parts.append(f"{there:%H:%M} ({utc_offset_text(own)}) · {seen:%H:%M}")
        else:
            parts.append(f"{seen:%H:%M}")
    phone, exif = photo.phone_distance_m, photo.exif_distance_m
    if phone is not None:
        parts.append(texts["away"] % {"m": round(phone)})  # each %(m)s is this photo's distance
        if photo.phone_accuracy_m is not None:
            parts.append(texts["accuracy"] % {"m": round(photo.phone_accuracy_m)})
    if exif is not None and (phone is None or abs(exif - phone) > DISTANCES_AGREE_M):
        parts.append(texts["file_away"] % {"m": round(exif)})
    return " · ".join(parts) if parts else texts["no_capture"]


@bp.app_template_global("queue_texts")
def queue_texts() -> dict:
    """The words every card of the queue repeats, translated once per request."""
    if "queue_texts" not in g:
        g.queue_texts = {
            "approve": _("Approve"), "reject": _("Reject"), "reason": _("Reason"), "pick": _("Pick a reason"),
            "note": _("Note for the rep"), "bulk": _("Include in bulk approval"), "photos": _("Photos"),
            "look": _("What to look at"), "checklist": _("Checklist"), "new": _("New"), "voided": _("Voided"),
            "open_photo": _("Open photo"), "no_photo": _("No photo"), "no_flags": _("No flags"),
            "last_approved": _("Last approved"), "open_reference": _("Open the last approved photo"),
            "no_reference": _("No approved photo of this store yet to compare with."),
            "not_answered": _("not answered"), "not_confirmed": _("not confirmed"),
            "overdue": _("Period over, no evidence"), "new_since": _("New evidence since."),
            "hint": _("The rep sees the reason and your note, and may add evidence while the period lasts."),
            "not_due": _("Not due yet: no evidence, and the period has not ended."),
            "away": _("%(m)s m away"), "file_away": _("photo's own GPS: %(m)s m away"),
            "accuracy": _("accuracy ±%(m)s m"), "no_capture": _("no capture data"),
            "reasons": [(code, str(label)) for code, label in reviews.REASON_LABELS.items()],
            "suggest": reviews.suggested_reason,
        }
    return g.queue_texts


def _int(name: str, default: int | None = None) -> int:
    """A whole number from the form; a missing or malformed one is a bad request."""
    raw = request.values.get(name, "")
    if raw == "" and default is not None:
        return default
    if not _whole(raw):
        abort(400)
    return int(raw)


def _whole(raw: str) -> bool:
    """A whole number of at most ten ASCII digits ('²' is a digit to str.isdigit, not to int)."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 10


def _show() -> str:
    show = request.values.get("show", "review")
    return show if show in SHOWS else "review"


def _page_number() -> int:
    raw = request.values.get("page", "1")
    return max(1, int(raw)) if _whole(raw) and len(raw) < 7 else 1


def _queue_url():
    """Back to the queue page the verdict was given on."""
    args = {"show": _show(), "page": _page_number()}
    return url_for("activities.queue", **{k: v for k, v in args.items() if v not in ("review", 1)})


# --- the queue ---------------------------------------------------------------------------------

@bp.route("/activities/queue", endpoint="queue")
@login_required
def queue_page():
    require(may_review(_me()))
    today = company_today()
    ops.advance_by_dates(scope.activities(), today)  # the request commits what the dates moved
    page = queue.page_of(_me(), today, _show(), _page_number())
    return render("activities/queue.html", block="results", page=page, show=_show(), today=today)


def _item(line_id: int, period_index: int) -> queue.Item:
    """One item of the queue in the user's scope (404 for no such store line or period)."""
    return queue.one(scope.get_or_404(queue.reviewable(), line_id), period_index, company_today())


def _item_page(item: queue.Item, status: int = 200, also=(), **context):
    """The item's page, or for htmx its card alone (the page's `item` block) and the `also` blocks."""
    return render("activities/queue_item.html", block="item", status=status, item=item, also=also,
                  history=queue.history(item), show=_show(), page_number=_page_number(), **context)


@bp.route("/activities/queue/<int:line_id>/<int:period_index>")
@login_required
def queue_item(line_id: int, period_index: int):
    require(may_review(_me()))
    return _item_page(_item(line_id, period_index))


@bp.route("/activities/queue/<int:line_id>/<int:period_index>/review", methods=["POST"])
@login_required
def review(line_id: int, period_index: int):
    """A verdict: htmx gets the item's card (reviewed, or refused with what stands now), a plain form
    the queue again (or the item's page with the reason when refused)."""
    require(may_review(_me()))
    item = _item(line_id, period_index)
    verdict = request.form.get("verdict", "")
    with refusal() as refused:
        done = reviews.record(item, verdict, _me(), reason=request.form.get("reason", ""),
                              note=request.form.get("note", ""), seen_review=_int("seen_review"),
                              seen_evidence=_int("seen_evidence"))
    if refused:
        return _item_page(_item(line_id, period_index), refused.status, error=refused.message,
                          open_reject=verdict == "rejected" and refused.status == 422)
    if not wants_fragment():  # an htmx answer is the card itself, which says it
        flash(_("%(store)s, period %(n)s: %(verdict)s.", store=item.line.store.name, n=item.period.index + 1,
                verdict=reviews.verdict_label(done.verdict)), "success")
        return redirect(_queue_url(), 303)
    census = queue.census(_me())  # the queue's counts, sent along to replace the page's
    counts = {"waiting": len(census.waiting()), "overdue": len(census.overdue(company_today()))}
    return _item_page(_item(line_id, period_index), reviewed=done, also=[("counts", counts)])


@bp.route("/activities/queue/approve", methods=["POST"])
@login_required
def bulk_approve():
    require(may_review(_me()))
    today = company_today()
    with refusal() as refused:
        outcome = reviews.bulk_approve(reviews.parse_tokens(request.form.getlist("item")), _me(), today)
    if refused:
        page = queue.page_of(_me(), today, _show(), _page_number())
        return render("activities/queue.html", status=refused.status, page=page, show=_show(), today=today,
                      bulk_error=refused.message)
    if outcome.approved:
        flash(ngettext("%(num)s item approved.", "%(num)s items approved.", len(outcome.approved)), "success")
    for item, why in outcome.skipped:
        flash(_("%(store)s, period %(n)s not approved: %(why)s", store=item.line.store.name,
                n=item.period.index + 1, why=why), "warning")
    return redirect(_queue_url(), 303)


# --- evidence from a visit ---------------------------------------------------------------------

def _visit_step() -> tuple[Visit | None, VisitStep | None]:
    if not request.form.get("visit_id"):
        return None, None
    visit = scope.get_or_404(scope.visits(), _int("visit_id"))
    step_id = _int("step_id")
    step = next((s for s in visit.visit_type.steps if s.id == step_id), None)
    if step is None:
        abort(404)
    return visit, step


def _evidence_answer(visit, step, line, status: int, message: str, bound: int = 0):
    if request.accept_mimetypes.best == "application/json":
        body = {"error": message} if status >= 400 else {"bound": bound, "message": message,
                                                         "activity_store_id": line.id}
        return jsonify(body), status
    if wants_fragment() and visit is not None:
        return render("activities/_visit_evidence.html", block="visit_evidence", status=status, visit=visit,
                      step=step, ev_items=for_visits.visit_evidence(visit, step),
                      evidence_error=message if status >= 400 else "", evidence_saved=message if status < 400 else "")
    if status >= 400:
        return render("activities/evidence_refused.html", status=status, message=message, visit=visit)
    flash(message, "success")
    if visit is not None:
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor=f"visit-evidence-{step.id}"), 303)
    return redirect(url_for("activities.mine"), 303)


@bp.route("/activities/evidence", methods=["POST"])
@login_required
def add_evidence():
    """Bind photos (those named, and a visit step's photos not used yet) with the checklist answers."""
    line = scope.get_or_404(scope.activity_stores().options(
        selectinload(ActivityStore.activity).selectinload(Activity.type), selectinload(ActivityStore.store)),
        _int("activity_store_id"))
    visit, step = _visit_step()
    photos: dict[int, Photo] = {}
    for raw in request.form.getlist("photo_id"):
        if not _whole(raw):
            abort(400)
        photo = scope.get_or_404(scope.photos(), int(raw))
        photos[photo.id] = photo
    if visit is not None:
        photos.update({p.id: p for p in evidence.unbound_step_photos(visit, step, _me())})
    with refusal() as refused:
        answers = evidence.answers(line.activity.type.checklist, request.form.getlist("check"))
        period = evidence.current_period(line, company_today())
        if period is None:
            raise DomainError(_("The activity does not run today, so it takes no evidence."))
        rows, new = evidence.bind_photos(list(photos.values()), line, period.index, answers, _me())
    if refused:
        return _evidence_answer(visit, step, line, refused.status, refused.message)
    photo_count = sum(1 for row in rows if row.photo_id is not None)
    message = (ngettext("%(num)s photo saved as evidence for %(title)s.", "%(num)s photos saved as evidence for "
                        "%(title)s.", photo_count, title=line.activity.title) if photo_count
               else _("Checklist saved for %(title)s.", title=line.activity.title))
    return _evidence_answer(visit, step, line, 200 if not new else 201, message, bound=new)
