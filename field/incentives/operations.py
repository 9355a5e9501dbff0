"""What managers and supervisors do with incentives: set tasks, set the levels, record a reward handed out.

Each checks its input whole before staging anything and raises FieldError (the form shows it beside the
field) or DomainError; nothing commits here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from field import audit, permissions
from field.auth.models import Region, User
from field.core import MAX_ID, DomainError, FieldError, now
from field.extensions import db
from field.incentives import rules
from field.incentives.models import IncentiveLevel, IncentiveTask, PointsEntry, Redemption

MAX_NAME = 120
MAX_LEVELS = 20
MAX_REWARDS = 20
MAX_REWARD = 200
MAX_NOTE = 500


def _int(raw: str, field: str, message: str, low: int, high: int) -> int:
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not low <= int(raw) <= high:
        raise FieldError(field, message)
    return int(raw)


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise FieldError(field, _("Type a date like 2026-03-01.")) from None


@dataclass
class TaskInput:
    name: str
    kind: str
    points: int
    target: int
    region: Region
    start: date
    end: date
    active: bool


def read_task(form: dict, regions: list[Region]) -> TaskInput:
    """A task form's values, checked: a name, a known kind, 1–10,000 points, N days within the period,
    a region of the manager's and a period of at most a year."""
    name = (form.get("name") or "").strip()
    if not name:
        raise FieldError("name", _("Name the task."))
    if len(name) > MAX_NAME:
        raise FieldError("name", _("At most %(n)s characters.", n=MAX_NAME))
    kind = form.get("kind") or ""
    if kind not in rules.KINDS:
        raise FieldError("kind", _("Choose what the task pays for."))
    points = _int(form.get("points"), "points",
                  _("Points are a whole number from 1 to %(max)s.", max=rules.MAX_POINTS), 1, rules.MAX_POINTS)
    raw_region = (form.get("region") or "").strip()
    region = next((r for r in regions if raw_region.isascii() and raw_region.isdigit()
                   and int(raw_region) <= MAX_ID and r.id == int(raw_region)), None)
    if region is None:
        raise FieldError("region", _("Choose one of your regions."))
    start, end = _date(form.get("start"), "start"), _date(form.get("end"), "end")
    if end < start:
        raise FieldError("end", _("The period ends before it starts."))
    if (end - start).days + 1 > rules.MAX_DAYS:
        raise FieldError("end", _("A task runs for a year at most."))
    target = 1
    if kind == rules.ROUTE_DAYS:
        target = _int(form.get("target"), "target", _("Say on how many days, from 1 to the days of the period."),
                      1, (end - start).days + 1)
    return TaskInput(name, kind, points, target, region, start, end, form.get("active", "1") not in ("0", ""))


def create_task(data: TaskInput, actor: User) -> IncentiveTask:
    permissions.require(permissions.may_manage_incentives(actor))
    task = IncentiveTask(name=data.name, kind=data.kind, points=data.points, target=data.target, region=data.region,
                         period_start=data.start, period_end=data.end, active=data.active, created_by=actor)
    db.session.add(task)
    db.session.flush()
    audit.record("incentive_task.create", task, actor=actor, name=task.name, kind=task.kind, points=task.points,
                 target=task.target, region=data.region.code, start=task.period_start, end=task.period_end)
    return task


def edit_task(task: IncentiveTask, data: TaskInput, actor: User) -> IncentiveTask:
    """Change a task; what it granted stays as granted (each ledger line holds its own points). Its kind
    is what its grants were for, so it is fixed once any were made."""
    permissions.require(permissions.may_manage_incentives(actor))
    paid = db.session.execute(select(func.count()).select_from(PointsEntry)
                              .where(PointsEntry.task_id == task.id)).scalar_one()
    if paid and data.kind != task.kind:
        raise FieldError("kind", _("Points were granted for this task: its kind cannot change. Make a new task."))
    before = {"name": task.name, "kind": task.kind, "points": task.points, "target": task.target,
              "region": task.region.code, "start": task.period_start, "end": task.period_end, "active": task.active}
    task.name, task.kind, task.points, task.target = data.name, data.kind, data.points, data.target
    task.region, task.period_start, task.period_end, task.active = data.region, data.start, data.end, data.active
    audit.record("incentive_task.edit", task, actor=actor, before=before, points=task.points, name=task.name,
                 target=task.target, start=task.period_start, end=task.period_end, active=task.active)
    return task


@dataclass
class LevelInput:
    name: str
    threshold: int
    rewards: list[str]


def read_levels(names: list[str], thresholds: list[str], rewards: list[str]) -> list[LevelInput]:
    """The levels form's rows in order (a row with no name and no threshold is dropped): each named, with a
    threshold above the one before it, and rewards one a line."""
    rows = []
    for n, (name, raw, text) in enumerate(zip(names, thresholds, rewards), start=1):
        name, raw = (name or "").strip(), (raw or "").strip()
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if not name and not raw and not lines:
            continue
        if not name or len(name) > 60:
            raise FieldError("levels", _("Row %(n)s: name the level (at most 60 characters).", n=n))
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise FieldError("levels", _("Row %(n)s: the threshold is a whole number of points, 0 or more.", n=n))
        if len(lines) > MAX_REWARDS or any(len(line) > MAX_REWARD for line in lines):
            raise FieldError("levels", _("Row %(n)s: at most %(k)s rewards of %(c)s characters each.", n=n,
                                         k=MAX_REWARDS, c=MAX_REWARD))
        rows.append(LevelInput(name, int(raw), lines))
    if len(rows) > MAX_LEVELS:
        raise FieldError("levels", _("At most %(n)s levels.", n=MAX_LEVELS))
    for before, after in zip(rows, rows[1:]):
        if after.threshold <= before.threshold:
            raise FieldError("levels", _("Thresholds must increase from one level to the next: %(b)s (%(bt)s) is "
                                         "followed by %(a)s (%(at)s).", b=before.name, bt=before.threshold,
                                         a=after.name, at=after.threshold))
    if len({r.name for r in rows}) != len(rows):
        raise FieldError("levels", _("Two levels have the same name."))
    return rows


def save_levels(rows: list[LevelInput], actor: User) -> list[IncentiveLevel]:
    """Replace the company's levels with these (levels are settings; a reward handed out keeps its words)."""
    permissions.require(permissions.may_manage_incentives(actor))
    before = [(lv.name, lv.threshold) for lv in levels()]
    db.session.execute(delete(IncentiveLevel))
    made = [IncentiveLevel(name=r.name, threshold=r.threshold, rewards=r.rewards, updated_at=now()) for r in rows]
    db.session.add_all(made)
    db.session.flush()
    audit.record("incentive_levels.save", None, actor=actor, before=before,
                 after=[(r.name, r.threshold, r.rewards) for r in rows])
    return made


def levels() -> list[IncentiveLevel]:
    """The company's levels, lowest first (settings: the same for everyone, so not scoped)."""
    return list(db.session.execute(select(IncentiveLevel).order_by(IncentiveLevel.threshold)).scalars())


def redeem(rep: User, total: int, choice: str, note: str, actor: User) -> Redemption:
    """Record that a reward of a level the rep has reached was handed to them."""
    permissions.require(permissions.may_redeem_rewards(actor))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", _("At most %(n)s characters.", n=MAX_NOTE))
    level_name, _sep, reward = (choice or "").partition("\n")
    reached = {(lv.name, r) for lv in levels() if total >= lv.threshold for r in lv.rewards}
    if (level_name, reward) not in reached:
        raise FieldError("reward", _("Choose a reward of a level this rep has reached."))
    row = Redemption(rep=rep, level_name=level_name, reward=reward, note=note, actor=actor)
    db.session.add(row)
    db.session.flush()
    audit.record("points.redeem", row, actor=actor, rep=rep.login, level=level_name, reward=reward, note=note)
    return row


def day_range(period: str, today: date) -> tuple[date, date]:
    """The week (Monday to Sunday) or the calendar month holding today."""
    if period == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end
    start = today - timedelta(days=today.weekday())
    return start, start + timedelta(days=6)


def check_period(raw: str | None) -> str:
    if raw in (None, "", "week"):
        return "week"
    if raw == "month":
        return "month"
    raise DomainError(_("Show the week or the month."), 400)
