"""Admin pages for users and regions: each view reads the form, calls one operation in
field/auth/operations.py, and renders; a refused field shows its message beside that field."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from field import permissions, providers, scope
from field.auth import bp
from field.auth import operations as ops
from field.auth.admin_forms import RegionForm, UserForm
from field.auth.models import Region, Role, User
from field.extensions import db
from field.web import me, page_arg, refusal, render, saved_form


def _require_admin() -> None:
    permissions.require(permissions.may_administer(me()))


def _user(user_id: int) -> User:
    return scope.get_or_404(scope.users(), user_id)


def _region(region_id: int) -> Region:
    return scope.get_or_404(scope.regions(), region_id)


def _all_regions() -> list[Region]:
    return list(db.session.execute(scope.regions()).scalars())


# --- users ----------------------------------------------------------------------------------------

@bp.route("/users")
@login_required
def users():
    _require_admin()
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    role = role if role in {r.value for r in Role} else ""
    page = ops.list_users(q=q, role=role, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in {"q": q, "role": role}.items() if v}
    return render("auth/users.html", block="results", page=page, q=q, role=role, roles=list(Role), args=args)


def _user_form(user: User | None) -> UserForm:
    supervisors = [s for s in ops.active_supervisors() if user is None or s.id != user.id]
    # Dealers to bind a dealer's staff member to: field/orders answers (auth sits below dealers).
    dealers = providers.ask("dealer_choices", default=[])
    return UserForm(supervisors=supervisors, regions=_all_regions(), new=user is None, dealers=dealers)


def _user_page(form: UserForm, user: User | None, status: int = 200, error: str | None = None):
    return render("auth/user_form.html", block="form", form=form, user=user, status=status, refusal=error,
                  team=ops.active_reps_of(user) if user is not None else [])


def _status(form) -> int:
    return 422 if form.is_submitted() else 200


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    _require_admin()
    form = _user_form(None)
    if request.method == "GET":
        form.role.data = Role.REP.value
    return saved_form(form, lambda: ops.create_user(form.values(), me()),
                      lambda user: _("%(name)s can now sign in as %(login)s.", name=user.name, login=user.login),
                      "auth.users") or _user_page(form, None, status=_status(form))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):
    _require_admin()
    user = _user(user_id)
    form = _user_form(user)
    if request.method == "GET":
        form.fill(user)
    return saved_form(form, lambda: ops.update_user(user, form.values(), me()),
                      lambda changes: _("%(name)s saved.", name=user.name) if changes else _("Nothing changed."),
                      "auth.users") or _user_page(form, user, status=_status(form))


@bp.route("/users/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@login_required
def user_set_active(user_id: int, action: str):
    _require_admin()
    user = _user(user_id)
    active = action == "activate"
    with refusal() as refused:
        if ops.set_active(user, active, me()):
            flash(_("%(name)s can sign in again.", name=user.name) if active
                  else _("%(name)s is deactivated and can no longer sign in.", name=user.name))
    if refused:
        form = _user_form(user)
        form.fill(user)
        return _user_page(form, user, status=refused.status, error=refused.message)
    return redirect(url_for("auth.user_edit", user_id=user.id))


# --- regions --------------------------------------------------------------------------------------

@bp.route("/regions", methods=["GET", "POST"])
@login_required
def regions():
    _require_admin()
    form = RegionForm(parents=_all_regions(), prefix="new")
    return saved_form(form, lambda: ops.create_region(form.values(), me()),
                      lambda region: _("Region %(name)s added.", name=region.name), "auth.regions") or \
        render("auth/regions.html", block="create", form=form, rows=ops.region_tree(), status=_status(form))


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
    return saved_form(form, lambda: ops.update_region(region, form.values(), me()),
                      lambda changes: _("Region %(name)s saved.", name=region.name) if changes else _("Nothing changed."),
                      "auth.regions") or \
        render("auth/region_form.html", block="form", form=form, region=region, below=ops.descendants(region),
               status=_status(form))
