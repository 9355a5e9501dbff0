"""The visit state machine, written as data, and the one function that moves a visit."""
from flask_babel import gettext as _

from field import audit
from field.core import Conflict, move_state
from field.visits.models import Visit, VisitStatus as S

# (from, to) → the audit action that records it.
TRANSITIONS = {
    (S.PLANNED, S.IN_PROGRESS): "visit.check_in",
    (S.IN_PROGRESS, S.COMPLETED): "visit.check_out",
    (S.PLANNED, S.CANCELLED): "visit.cancel",
    (S.IN_PROGRESS, S.CANCELLED): "visit.cancel",
}


def can_move(visit: Visit, to: str) -> None:
    """Raise Conflict unless the table lets a visit in its state move to `to`."""
    if (S(visit.status), S(to)) not in TRANSITIONS:
        raise Conflict(_("A visit that is %(state)s cannot be moved to %(to)s.",
                         state=state_label(visit.status), to=state_label(to)))


def transition(visit: Visit, to: str, actor, **detail) -> None:
    """Move `visit` to `to` if the table allows it and nobody moved it first; audit it.

    The guarded UPDATE names the state we saw (core.move_state), so of two taps at the same
    moment one wins and the other gets a Conflict instead of a second transition."""
    frm = visit.status
    can_move(visit, to)
    try:
        move_state(visit, frm, to, "")
    except Conflict:  # the message is translated only when it is needed (a job may have no request)
        raise Conflict(_("This visit was changed in the meantime. Reload and try again.")) from None
    audit.record(TRANSITIONS[(S(frm), S(to))], visit, actor=actor, **{"from": frm, "to": to}, **detail)


def state_label(state: str) -> str:
    return {S.PLANNED: _("planned"), S.IN_PROGRESS: _("in progress"), S.COMPLETED: _("completed"),
            S.CANCELLED: _("cancelled")}.get(state, state)
