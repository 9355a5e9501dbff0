"""What changes users and regions: create, update, (de)activate a user; create, rename, move a region.

Every rule is checked before a record is touched; an operation then stages its change with the
audit line, or raises a DomainError having staged nothing. The request (or command) commits."""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import gettext as _, ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from field import audit, permissions, providers, scope
from field.auth import sessions
from field.auth.models import Region, Role, User, user_regions
from field.core import Conflict, FieldError, like_pattern
from field.extensions import db
from field.web import Page, paginate




@contextmanager
def unique(field: str, message: str):
    """Stage inside a savepoint: a unique key someone took between the check and the write is
    `field`'s message (422), and what the block staged is undone — the rest of the request stays."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError:
        raise FieldError(field, message) from None


# --- users --------------------------------------------------------------------------------------

def list_users(q: str = "", role: str = "", page: int = 1, per_page: int = 50, user=None) -> Page:
    """The users the admin may see matching a name or login, and a role; active first, by name."""
    stmt = (scope.users_with_role(role, user) if role else scope.users(user)).options(
        selectinload(User.supervisor), selectinload(User.regions))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(User.name.ilike(pattern, escape="\\"), User.login.ilike(pattern, escape="\\")))
    return paginate(stmt.order_by(User.active.desc(), User.name, User.id), page, per_page)


def active_supervisors() -> list[User]:
    return list(db.session.execute(scope.supervisors().order_by(User.name)).scalars())


def active_reps_of(supervisor: User) -> list[User]:
    """The active reps who report to `supervisor` (none for anyone who is not a supervisor)."""
    if not permissions.is_supervisor(supervisor):
        return []
    return list(db.session.execute(
        scope.reps(supervisor).where(User.supervisor_id == supervisor.id).order_by(User.name)).scalars())


def _reassign_first(supervisor: User, reps: list[User]) -> str:
    names = ", ".join(r.name for r in reps[:5]) + ("…" if len(reps) > 5 else "")
    return ngettext("%(name)s still leads %(num)d active rep (%(reps)s). Re-assign them to another "
                    "supervisor first.",
                    "%(name)s still leads %(num)d active reps (%(reps)s). Re-assign them to another "
                    "supervisor first.", len(reps), name=supervisor.name, reps=names)


def _check_user(values: dict, user: User | None, actor: User, role_changes: bool = False) -> None:
    """Every rule on a user's values; raises FieldError before anything is staged."""
    login = values["login"]
    taken = db.session.execute(select(User.id).where(func.lower(User.login) == login.lower())
                               .execution_options(autoflush=False)).scalars().all()
    if any(user is None or ident != user.id for ident in taken):
        raise FieldError("login", _("The login %(login)s is taken.", login=login))
    try:
        role = Role(values["role"])
    except ValueError:
        raise FieldError("role", _("Pick a role.")) from None
    supervisor = values.get("supervisor")
    if permissions.reports_to_supervisor(role):
        if supervisor is None:
            raise FieldError("supervisor", _("A rep needs a supervisor."))
        if not permissions.is_supervisor(supervisor) or not supervisor.active:
            raise FieldError("supervisor", _("Pick an active supervisor."))
        if user is not None and supervisor.id == user.id:
            raise FieldError("supervisor", _("Nobody supervises themselves."))
    if permissions.binds_to_dealer(role) and values.get("dealer_id") is None:
        raise FieldError("dealer", _("A dealer's staff member needs a dealer."))
    if user is not None and role_changes:
        if user.id == actor.id:
            raise FieldError("role", _("You cannot change your own role."))
        reps = active_reps_of(user)
        if reps:
            raise FieldError("role", _reassign_first(user, reps))


def _supervisor(values: dict) -> User | None:
    """The supervisor the values give, kept only for a role that reports to one."""
    return values["supervisor"] if permissions.reports_to_supervisor(values["role"]) else None


def _dealer_id(values: dict) -> int | None:
    """The dealer the values give, kept only for a dealer's staff member."""
    return values.get("dealer_id") if permissions.binds_to_dealer(values["role"]) else None


def _user_changes(user: User, values: dict) -> dict:
    """{field: [old, new]} for display in the audit log (names, not ids; never a password)."""
    changes = {}
    for key in ("login", "name", "role", "phone", "email", "locale"):
        if key in values and getattr(user, key) != values[key]:
            changes[key] = [getattr(user, key), values[key]]
    supervisor = _supervisor(values)
    if user.supervisor_id != (supervisor.id if supervisor else None):
        changes["supervisor"] = [user.supervisor.login if user.supervisor else None,
                                 supervisor.login if supervisor else None]
    old_regions = ", ".join(sorted(r.code for r in user.regions))
    new_regions = ", ".join(sorted(r.code for r in values["regions"]))
    if old_regions != new_regions:
        changes["regions"] = [old_regions, new_regions]
    if user.dealer_id != _dealer_id(values):
        changes["dealer"] = [user.dealer_id, _dealer_id(values)]
    if values.get("password"):
        changes["password"] = "changed"
    return changes


def create_user(values: dict, actor: User) -> User:
    """A new user. A rep needs an active supervisor; the login is unique (case-insensitive)."""
    _check_user(values, None, actor)
    with unique("login", _("That login was taken a moment ago. Pick another.")):
        user = User(login=values["login"], name=values["name"], role=Role(values["role"]).value,
                    phone=values.get("phone"), email=values.get("email"), locale=values.get("locale"), active=True,
                    supervisor=_supervisor(values), dealer_id=_dealer_id(values))
        user.set_password(values["password"])
        user.regions = list(values["regions"])
        db.session.add(user)
        audit.record("user.create", user, actor=actor, login=user.login, role=user.role,
                     supervisor=user.supervisor.login if user.supervisor else None,
                     regions=", ".join(sorted(r.code for r in user.regions)))
    return user


def update_user(user: User, values: dict, actor: User) -> dict:
    """Change a user; an empty password keeps the old one. Returns what changed (nothing → no audit)."""
    changes = _user_changes(user, values)
    _check_user(values, user, actor, role_changes="role" in changes)
    if not changes:
        return changes
    with unique("login", _("That login was taken a moment ago. Pick another.")):
        for key in ("login", "name", "phone", "email", "locale"):
            if key in values:  # an e-mail only where the caller knows it (the form does)
                setattr(user, key, values[key])
        user.role = Role(values["role"]).value
        user.supervisor = _supervisor(values)
        user.dealer_id = _dealer_id(values)
        user.regions = list(values["regions"])
        if values.get("password"):
            user.set_password(values["password"])
            _end_sessions(user, actor)
        audit.record("user.update", user, actor=actor, **changes)
    return changes


def set_active(user: User, active: bool, actor: User) -> bool:
    """(De)activate a user. Refused for oneself, and for a supervisor who still leads active reps.

    Returns False when the user already was in that state."""
    if user.active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise Conflict(_("You cannot deactivate yourself."))
        reps = active_reps_of(user)
        if reps:
            raise Conflict(_reassign_first(user, reps))
    elif permissions.is_rep(user) and (user.supervisor is None or not user.supervisor.active):
        raise Conflict(_("%(name)s has no active supervisor. Edit them and pick one first.", name=user.name))
    if not active:
        sessions.end_all(user)
    return audit.set_active(user, active, "user", actor, login=user.login)


def _end_sessions(user: User, actor: User) -> None:
    """A password set by an administrator ends the user's sessions (the admin's own, but this one)."""
    if user.id == actor.id:
        sessions.end_others(user)
    else:
        sessions.end_all(user)


# --- regions --------------------------------------------------------------------------------------

@dataclass
class RegionRow:
    region: Region
    stores: int   # in the region and every region below it
    users: int


def region_tree(user=None) -> list[RegionRow]:
    """Every region in path order with the stores and people in it and below it.

    The stores are counted by the stores domain (it sits above this one): `stores_by_region`."""
    regions = list(db.session.execute(scope.regions(user)).scalars())
    direct_stores = providers.ask("stores_by_region", user, default={})
    members = defaultdict(set)
    for region_id, user_id in db.session.execute(select(user_regions.c.region_id, user_regions.c.user_id)):
        members[region_id].add(user_id)
    rows = []
    for region in regions:
        below = [r for r in regions if r.path.startswith(region.path)]
        people = set().union(*(members[r.id] for r in below)) if below else set()
        rows.append(RegionRow(region, sum(direct_stores.get(r.id, 0) for r in below), len(people)))
    return rows


def descendants(region: Region) -> list[Region]:
    """The regions below `region` (not itself), by path."""
    return list(db.session.execute(
        select(Region).where(Region.path.startswith(region.path), Region.id != region.id)
        .order_by(Region.path)).scalars())


def _check_region(values: dict, region: Region | None) -> None:
    code = values["code"]
    taken = db.session.execute(select(Region.id).where(func.lower(Region.code) == code.lower())
                               .execution_options(autoflush=False)).scalars().all()
    if any(region is None or ident != region.id for ident in taken):
        raise FieldError("code", _("The code %(code)s is taken.", code=code))
    parent = values.get("parent")
    if region is not None and parent is not None and (
            parent.id == region.id or parent.path.startswith(region.path)):
        raise FieldError("parent", _("A region cannot move under itself or one of its own areas."))


def create_region(values: dict, actor: User) -> Region:
    """A new region under `parent` (or at the top)."""
    _check_region(values, None)
    with unique("code", _("That code was taken a moment ago. Pick another.")):
        region = Region(code=values["code"], name=values["name"])
        db.session.add(region)
        db.session.flush()  # the path is made of ids
        region.set_parent(values.get("parent"))
        audit.record("region.create", region, actor=actor, code=region.code, name=region.name,
                     parent=region.parent.code if region.parent else None)
    return region


def update_region(region: Region, values: dict, actor: User) -> dict:
    """Rename or move a region. A move rewrites the path of the region and of everything below it,
    so scope follows at once; a region never moves under its own descendant."""
    _check_region(values, region)
    parent = values.get("parent")
    changes = {}
    for key in ("code", "name"):
        if getattr(region, key) != values[key]:
            changes[key] = [getattr(region, key), values[key]]
    moved = region.parent_id != (parent.id if parent else None)
    if moved:
        changes["parent"] = [region.parent.code if region.parent else None, parent.code if parent else None]
    if not changes:
        return changes
    below = descendants(region) if moved else []
    with unique("code", _("That code was taken a moment ago. Pick another.")):
        region.code, region.name = values["code"], values["name"]
        if moved:
            old_path = region.path
            region.set_parent(parent)
            for child in below:
                child.path = region.path + child.path[len(old_path):]
            changes["moved_areas"] = len(below)
        audit.record("region.update", region, actor=actor, **changes)
    return changes
