"""The visit state machine, written as data, and the one function that moves a visit."""
from flask_babel import gettext as _
from sqlalchemy import update

from field import audit
from field.core import Conflict
from field.extensions import db
from field.visits.models import Visit, VisitStatus as S

# (from, to) → the audit action that records it.
TRANSITIONS = {
    (S.PLANNED, S.IN_PROGRESS): "visit.check_in",
    (S.IN_PROGRESS, S.COMPLETED): "visit.check_out",
    (S.PLANNED, S.CANCELLED): "visit.cancel",
    (S.IN_PROGRESS, S.CANCELLED): "visit.cancel",
}


def transition(visit: Visit, to: str, actor, **detail) -> None:
    """Move `visit` to `to` if the table allows it and nobody moved it first; audit it.

    The UPDATE names the state we saw, so of two taps at the same moment one wins
    and the other gets a Conflict instead of a second transition."""
    frm = visit.status
    action = TRANSITIONS.get((S(frm), S(to)))
    if action is None:
        raise Conflict(_("A visit that is %(state)s cannot be moved to %(to)s.",
                         state=state_label(frm), to=state_label(to)))
    changed = db.session.execute(
        update(Visit).where(Visit.id == visit.id, Visit.status == frm).values(status=to)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict(_("This visit was changed in the meantime. Reload and try again."))
    visit.status = to
    audit.record(action, visit, actor=actor, **{"from": frm, "to": to}, **detail)


def state_label(state: str) -> str:
    return {S.PLANNED: _("planned"), S.IN_PROGRESS: _("in progress"), S.COMPLETED: _("completed"),
            S.CANCELLED: _("cancelled")}.get(state, state)
