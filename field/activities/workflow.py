"""The activity state machine, written as data, and the one function that moves an activity.

draft → submitted → approved | rejected; approved → running → ended follow the dates.
Above ACTIVITY_SECOND_APPROVAL_ABOVE (yuan, default 50,000.00) an approval takes two people:
submitted → second_approval → approved. The applicant may withdraw a submission and reopen
a rejected application as a draft. Every move is audited and written to the activity's history."""
from __future__ import annotations

from datetime import date
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from field import audit, notifications, permissions
from field.activities.models import Activity, ActivityStatus as S, ActivityTransition
from field.activities.rules import needs_second_approval
from field.auth.models import User
from field.core import Conflict, DomainError, move_state, now, parse_money
from field.extensions import db

DEFAULT_SECOND_APPROVAL_ABOVE = "50000.00"  # yuan; ACTIVITY_SECOND_APPROVAL_ABOVE overrides it


class Who(StrEnum):
    APPLICANT = "applicant"
    APPROVER = "approver"
    SECOND_APPROVER = "second_approver"
    DATES = "dates"  # the calendar, not a person


# (from, to) → (audit action, who may make the move).
TRANSITIONS = {
    (S.DRAFT, S.SUBMITTED): ("activity.submit", Who.APPLICANT),
    (S.SUBMITTED, S.DRAFT): ("activity.withdraw", Who.APPLICANT),
    (S.SECOND_APPROVAL, S.DRAFT): ("activity.withdraw", Who.APPLICANT),
    (S.SUBMITTED, S.APPROVED): ("activity.approve", Who.APPROVER),
    (S.SUBMITTED, S.SECOND_APPROVAL): ("activity.approve_first", Who.APPROVER),
    (S.SECOND_APPROVAL, S.APPROVED): ("activity.approve_second", Who.SECOND_APPROVER),
    (S.SUBMITTED, S.REJECTED): ("activity.reject", Who.APPROVER),
    (S.SECOND_APPROVAL, S.REJECTED): ("activity.reject", Who.SECOND_APPROVER),
    (S.REJECTED, S.DRAFT): ("activity.reopen", Who.APPLICANT),
    (S.APPROVED, S.RUNNING): ("activity.start", Who.DATES),
    (S.RUNNING, S.ENDED): ("activity.end", Who.DATES),
}

STATE_LABELS = {
    S.DRAFT: _l("draft"), S.SUBMITTED: _l("awaiting approval"), S.SECOND_APPROVAL: _l("awaiting second approval"),
    S.APPROVED: _l("approved"), S.REJECTED: _l("rejected"), S.RUNNING: _l("running"), S.ENDED: _l("ended"),
}


def state_label(state: str) -> str:
    try:
        return str(STATE_LABELS[S(state)])
    except ValueError:
        return state


def second_approval_above() -> int:
    """The total budget (minor units) above which two approvers are needed."""
    return parse_money(current_app.config.get("ACTIVITY_SECOND_APPROVAL_ABOVE", DEFAULT_SECOND_APPROVAL_ABOVE))


def next_approval_status(activity: Activity) -> S:
    """Where an approval by the next approver takes the activity."""
    if activity.status == S.SUBMITTED and needs_second_approval(activity.budget_total, second_approval_above()):
        return S.SECOND_APPROVAL
    return S.APPROVED


def first_approver_id(activity: Activity) -> int | None:
    """Who gave the first of two approvals (the latest move into second_approval)."""
    return db.session.execute(
        select(ActivityTransition.actor_id).where(ActivityTransition.activity_id == activity.id,
                                                  ActivityTransition.to_status == S.SECOND_APPROVAL)
        .order_by(ActivityTransition.id.desc()).limit(1)).scalar_one_or_none()


def _check_actor(who: Who, activity: Activity, actor: User | None, to: S) -> None:
    if who == Who.DATES:
        if actor is not None:
            raise Conflict(_("An activity starts and ends by its dates; nobody moves it by hand."))
        return
    permissions.require(actor is not None)
    if who == Who.APPLICANT:
        permissions.require(actor.id == activity.applicant_id, _("Only the applicant may do that."))
        return
    if actor.id == activity.applicant_id:
        raise DomainError(_("You cannot approve or reject your own activity."))
    permissions.require(permissions.may_approve(actor, activity),
                        _("Only a manager of every store's region, or an administrator, may decide on "
                          "this activity."))
    if who == Who.SECOND_APPROVER and to == S.APPROVED and actor.id == first_approver_id(activity):
        raise DomainError(_("You gave the first approval; the second must come from another manager "
                            "or an administrator."))


def _refused(frm: str, to: S) -> Conflict:
    if to in (S.APPROVED, S.SECOND_APPROVAL, S.REJECTED) and frm == S.DRAFT:
        return Conflict(_("This activity is a draft: it has to be submitted before anyone can approve or reject it."))
    return Conflict(_("An activity that is %(state)s cannot become %(to)s.",
                      state=state_label(frm), to=state_label(to)))


def transition(activity: Activity, to: str, actor: User | None, comment: str = "") -> ActivityTransition:
    """Move `activity` to `to` if the table allows it, the actor may, and nobody moved it first.

    The UPDATE names the status we saw, so of two approvers at the same moment one wins and
    the other gets a Conflict; nothing is written for a refused move."""
    frm, to = S(activity.status), S(to)
    entry = TRANSITIONS.get((frm, to))
    if entry is None:
        raise _refused(frm, to)
    action, who = entry
    _check_actor(who, activity, actor, to)
    comment = (comment or "").strip()
    if to == S.REJECTED and not comment:
        raise DomainError(_("Say why the activity is rejected."))
    values = {}
    if to == S.SUBMITTED:
        values["submitted_at"] = now()
    if to in (S.APPROVED, S.REJECTED):
        values["decided_at"] = now()
    move_state(activity, frm, to, _("This activity was changed in the meantime. Reload and try again."), **values)
    moved = ActivityTransition(activity_id=activity.id, from_status=frm, to_status=to,
                               actor_id=actor.id if actor is not None else None, comment=comment, at=now())
    db.session.add(moved)
    detail = {"from": frm.value, "to": to.value}
    if comment:
        detail["comment"] = comment
    if who == Who.DATES:
        detail["by"] = "dates"
    audit.record(action, activity, actor=audit.SYSTEM if who == Who.DATES else actor, **detail)
    if to == S.APPROVED and activity.applicant is not None and activity.applicant_id != getattr(actor, "id", None):
        notifications.send([activity.applicant], "activity.approved",
                           _l("Activity approved: %(title)s", title=activity.title),
                           body=comment, url=notifications.path_for("activities.show", activity_id=activity.id))
    return moved


def due_moves(activity: Activity, today: date) -> list[S]:
    """The calendar's moves on `today`: approved → running from the first day, running → ended after the last."""
    moves, status = [], S(activity.status)
    if status == S.APPROVED and activity.period_start <= today:
        moves.append(S.RUNNING)
        status = S.RUNNING
    if status == S.RUNNING and activity.period_end < today:
        moves.append(S.ENDED)
    return moves


def advance(activity: Activity, today: date) -> bool:
    """Make the calendar's moves for one activity; a move someone else made first is skipped."""
    moved = False
    for to in due_moves(activity, today):
        try:
            transition(activity, to, None)
        except Conflict:
            db.session.refresh(activity)
            return moved
        moved = True
    return moved
