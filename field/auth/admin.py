"""Admin pages for users and regions, and the operations behind them.

The operations (create_user, update_user, set_active, create_region, update_region)
check every rule before they touch a record, then write, audit and commit together —
or raise a DomainError having written nothing. Views read the form, call one, render."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from field import audit, scope
from field.auth import bp
from field.auth.admin_forms import RegionForm, UserForm
from field.auth.models import Region, Role, User, user_regions
from field.core import Conflict, DomainError
from field.extensions import db
from field.web import render, me as _me, page_arg as _page_arg


class FieldError(DomainError):
    """A rule refused one field's value; the view shows the message beside that field."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message, status)
        self.field = field


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, page: int, per_page: int) -> Page:
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    items = db.session.execute(stmt.offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return Page(list(items), page, per_page, total)


# --- users: operations ----------------------------------------------------------------------

def list_users(q: str = "", role: str = "", page: int = 1, per_page: int = 50, user=None) -> Page:
    """The users the admin may see matching a name or login, and a role; active first, by name."""
    stmt = scope.users(user).options(selectinload(User.supervisor), selectinload(User.regions))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(User.name.ilike(pattern, escape="\\"), User.login.ilike(pattern, escape="\\")))
    if role:
        stmt = stmt.where(User.role == role)
    return paginate(stmt.order_by(User.active.desc(), User.name, User.id), page, per_page)


def active_supervisors() -> list[User]:
    return list(db.session.execute(
        scope.users().where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.name)).scalars())


def active_reps_of(supervisor: User) -> list[User]:
    return list(db.session.execute(
        select(User).where(User.supervisor_id == supervisor.id, User.role == Role.REP,
                           User.active.is_(True)).order_by(User.name)).scalars())


def _reassign_first(supervisor: User, reps: list[User]) -> str:
    names = ", ".join(r.name for r in reps[:5]) + ("…" if len(reps) > 5 else "")
    return ngettext("%(name)s still leads %(num)d active rep (%(reps)s). Re-assign them to another "
                    "supervisor first.",
                    "%(name)s still leads %(num)d active reps (%(reps)s). Re-assign them to another "
                    "supervisor first.", len(reps), name=supervisor.name, reps=names)


def _login_raced() -> str:
    return _("That login was taken a moment ago. Pick another.")


def _code_raced() -> str:
    return _("That code was taken a moment ago. Pick another.")


def _check_user(values: dict, user: User | None, actor: User) -> None:
    """Every rule on a user's values; raises FieldError before anything is written."""
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
    if role == Role.REP:
        if supervisor is None:
            raise FieldError("supervisor", _("A rep needs a supervisor."))
        if supervisor.role != Role.SUPERVISOR or not supervisor.active:
            raise FieldError("supervisor", _("Pick an active supervisor."))
        if user is not None and supervisor.id == user.id:
            raise FieldError("supervisor", _("Nobody supervises themselves."))
    if user is not None and user.role != role:
        if user.id == actor.id:
            raise FieldError("role", _("You cannot change your own role."))
        if user.role == Role.SUPERVISOR:
            reps = active_reps_of(user)
            if reps:
                raise FieldError("role", _reassign_first(user, reps))


def _user_changes(user: User, values: dict) -> dict:
    """{field: [old, new]} for display in the audit log (names, not ids; never a password)."""
    changes = {}
    for key in ("login", "name", "role", "phone", "locale"):
        if getattr(user, key) != values[key]:
            changes[key] = [getattr(user, key), values[key]]
    supervisor = values["supervisor"] if values["role"] == Role.REP else None
    if user.supervisor_id != (supervisor.id if supervisor else None):
        changes["supervisor"] = [user.supervisor.login if user.supervisor else None,
                                 supervisor.login if supervisor else None]
    old_regions = ", ".join(sorted(r.code for r in user.regions))
    new_regions = ", ".join(sorted(r.code for r in values["regions"]))
    if old_regions != new_regions:
        changes["regions"] = [old_regions, new_regions]
    if values.get("password"):
        changes["password"] = "changed"
    return changes


@contextmanager
def _unique(field: str, message):
    """A unique column lost a race between the check and the write: the field's message, nothing written."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise FieldError(field, message()) from None


def create_user(values: dict, actor: User) -> User:
    """A new user. A rep needs an active supervisor; the login is unique (case-insensitive)."""
    _check_user(values, None, actor)
    role = Role(values["role"])
    user = User(login=values["login"], name=values["name"], role=role.value, phone=values.get("phone"),
                locale=values.get("locale"), active=True,
                supervisor=values["supervisor"] if role == Role.REP else None)
    user.set_password(values["password"])
    user.regions = list(values["regions"])
    with _unique("login", _login_raced):
        db.session.add(user)
        audit.record("user.create", user, actor=actor, login=user.login, role=user.role,
                     supervisor=user.supervisor.login if user.supervisor else None,
                     regions=", ".join(sorted(r.code for r in user.regions)))
        db.session.commit()
    return user


def update_user(user: User, values: dict, actor: User) -> dict:
    """Change a user; an empty password keeps the old one. Returns what changed (nothing → no audit)."""
    _check_user(values, user, actor)
    changes = _user_changes(user, values)
    if not changes:
        return changes
    role = Role(values["role"])
    for key in ("login", "name", "phone", "locale"):
        setattr(user, key, values[key])
    user.role = role.value
    user.supervisor = values["supervisor"] if role == Role.REP else None
    user.regions = list(values["regions"])
    if values.get("password"):
        user.set_password(values["password"])
    audit.record("user.update", user, actor=actor, **changes)
    with _unique("login", _login_raced):
        db.session.commit()
    return changes


def set_active(user: User, active: bool, actor: User) -> bool:
    """(De)activate a user. Refused for oneself, and for a supervisor who still leads active reps.

    Returns False when the user already was in that state."""
    if user.active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise Conflict(_("You cannot deactivate yourself."))
        if user.role == Role.SUPERVISOR:
            reps = active_reps_of(user)
            if reps:
                raise Conflict(_reassign_first(user, reps))
    elif user.role == Role.REP and (user.supervisor is None or not user.supervisor.active):
        raise Conflict(_("%(name)s has no active supervisor. Edit them and pick one first.", name=user.name))
    user.active = active
    audit.record("user.activate" if active else "user.deactivate", user, actor=actor, login=user.login)
    db.session.commit()
    return True


# --- regions: operations --------------------------------------------------------------------

@dataclass
class RegionRow:
    region: Region
    stores: int   # in the region and every region below it
    users: int


def region_tree(user=None) -> list[RegionRow]:
    """Every region in path order with the stores and people in it and below it."""
    regions = list(db.session.execute(scope.regions(user)).scalars())
    direct_stores = Counter()
    from field.stores.models import Store  # stores sit above auth; imported late on purpose
    for region_id, n in db.session.execute(
            select(Store.region_id, func.count()).where(scope.rule(Store, user), Store.region_id.is_not(None))
            .group_by(Store.region_id)):
        direct_stores[region_id] = n
    members = defaultdict(set)
    for region_id, user_id in db.session.execute(select(user_regions.c.region_id, user_regions.c.user_id)):
        members[region_id].add(user_id)
    rows = []
    for region in regions:
        below = [r for r in regions if r.path.startswith(region.path)]
        people = set().union(*(members[r.id] for r in below)) if below else set()
        rows.append(RegionRow(region, sum(direct_stores[r.id] for r in below), len(people)))
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
    region = Region(code=values["code"], name=values["name"])
    with _unique("code", _code_raced):
        db.session.add(region)
        db.session.flush()  # the path is made of ids
        region.set_parent(values.get("parent"))
        audit.record("region.create", region, actor=actor, code=region.code, name=region.name,
                     parent=region.parent.code if region.parent else None)
        db.session.commit()
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
    region.code, region.name = values["code"], values["name"]
    if moved:
        below = descendants(region)
        old_path = region.path
        region.set_parent(parent)
        for child in below:
            child.path = region.path + child.path[len(old_path):]
        changes["moved_areas"] = len(below)
    audit.record("region.update", region, actor=actor, **changes)
    with _unique("code", _code_raced):
        db.session.commit()
    return changes


# --- views ------------------------------------------------------------------------------------


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(403)



def _user(user_id: int) -> User:
    return scope.get_or_404(scope.users(), user_id)


def _region(region_id: int) -> Region:
    return scope.get_or_404(scope.regions(), region_id)


def _all_regions() -> list[Region]:
    return list(db.session.execute(scope.regions()).scalars())


@bp.route("/users")
@login_required
def users():
    _require_admin()
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    role = role if role in {r.value for r in Role} else ""
    page = list_users(q=q, role=role, page=_page_arg(), per_page=current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in {"q": q, "role": role}.items() if v}
    return render("auth/users.html", block="results", page=page, q=q, role=role, roles=list(Role), args=args)


def _user_form(user: User | None) -> UserForm:
    supervisors = [s for s in active_supervisors() if user is None or s.id != user.id]
    return UserForm(supervisors=supervisors, regions=_all_regions(), new=user is None)


def _user_page(form: UserForm, user: User | None, status: int = 200, refusal: str | None = None):
    return render("auth/user_form.html", block="form", form=form, user=user, status=status, refusal=refusal,
                  team=active_reps_of(user) if user is not None and user.role == Role.SUPERVISOR else [])


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    _require_admin()
    form = _user_form(None)
    if request.method == "GET":
        form.role.data = Role.REP.value
    if form.validate_on_submit():
        try:
            user = create_user(form.values(), _me())
        except FieldError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("%(name)s can now sign in as %(login)s.", name=user.name, login=user.login))
            return redirect(url_for("auth.users"))
    return _user_page(form, None, status=422 if form.is_submitted() else 200)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):
    _require_admin()
    user = _user(user_id)
    form = _user_form(user)
    if request.method == "GET":
        form.fill(user)
    if form.validate_on_submit():
        try:
            changes = update_user(user, form.values(), _me())
        except FieldError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("%(name)s saved.", name=user.name) if changes else _("Nothing changed."))
            return redirect(url_for("auth.users"))
    return _user_page(form, user, status=422 if form.is_submitted() else 200)


def _set_active(user_id: int, active: bool):
    _require_admin()
    user = _user(user_id)
    try:
        if set_active(user, active, _me()):
            flash(_("%(name)s can sign in again.", name=user.name) if active
                  else _("%(name)s is deactivated and can no longer sign in.", name=user.name))
    except DomainError as exc:
        db.session.rollback()
        form = _user_form(user)
        form.fill(user)
        return _user_page(form, user, status=exc.status, refusal=exc.message)
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@login_required
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@login_required
def user_activate(user_id: int):
    return _set_active(user_id, True)


def _regions_page(form: RegionForm, status: int = 200):
    return render("auth/regions.html", block="create", form=form, rows=region_tree(), status=status)


@bp.route("/regions", methods=["GET", "POST"])
@login_required
def regions():
    _require_admin()
    form = RegionForm(parents=_all_regions(), prefix="new")
    if form.validate_on_submit():
        try:
            region = create_region(form.values(), _me())
        except FieldError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("Region %(name)s added.", name=region.name))
            return redirect(url_for("auth.regions"))
    return _regions_page(form, status=422 if form.is_submitted() else 200)


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
@login_required
def region_edit(region_id: int):
    _require_admin()
    region = _region(region_id)
    # Neither the region itself nor anything below it can become its parent.
    parents = [r for r in _all_regions() if not r.path.startswith(region.path)]
    form = RegionForm(parents=parents)
    if request.method == "GET":
        form.fill(region)
    if form.validate_on_submit():
        try:
            changes = update_region(region, form.values(), _me())
        except FieldError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("Region %(name)s saved.", name=region.name) if changes else _("Nothing changed."))
            return redirect(url_for("auth.regions"))
    status = 422 if form.is_submitted() else 200
    return render("auth/region_form.html", block="form", form=form, region=region,
                  below=descendants(region), status=status)
