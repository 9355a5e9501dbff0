"""Signing in and out, the language before signing in, and each user's own profile and password.

Nothing here commits: the request does, once, when it answers below 400."""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from field import audit, permissions
from field.auth import bp, sessions, timezones
from field.auth.forms import LanguageForm, LoginForm, PasswordForm, ProfileForm
from field.auth.models import User
from field.extensions import db, limiter
from field.i18n import locale_code
from field.web import me, render, safe_path


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _landing(user) -> str:
    """Where a user lands after signing in: a rep on Today (the day's route is their work), anyone else
    on their home."""
    home = permissions.home_of(user)
    if home == "dealer":
        return url_for("orders.index")  # a dealer's staff: their dealer's orders
    return url_for("visits.today") if home == "rep" else url_for("home.index")


def _safe_next(target: str | None, user=None) -> str:
    """`next` when it is a same-site path (never an open redirect), else the user's landing."""
    return safe_path(target) or (_landing(user) if user is not None else url_for("home.index"))


def _account_limit():
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_tried() -> str:
    """The login a sign-in names: attempts on one account are limited wherever they come from (a
    looser limit than per address, so guessing one account from many addresses stops too)."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:80]


# A hash of nothing anyone types, checked when the login is unknown: both answers take the same time,
# so the time does not tell which logins exist.
_UNKNOWN_LOGIN_HASH = generate_password_hash("no such login")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"],
               error_message=lambda: _("Too many sign-in attempts. Wait a minute and try again."))
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_tried,
               error_message=lambda: _("Too many sign-in attempts. Wait a minute and try again."))
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.login == form.login.data.strip().lower())).scalar_one_or_none()
        if user is None:
            check_password_hash(_UNKNOWN_LOGIN_HASH, form.password.data)  # as long as a known login takes
            form.password.errors.append(_("Wrong login or password."))
        elif not user.check_password(form.password.data):
            form.password.errors.append(_("Wrong login or password."))
        elif not user.active:
            form.login.errors.append(_("This account has been deactivated. Ask your administrator."))
        else:
            sessions.begin(user, remember=bool(form.remember.data))
            audit.record("login", user, actor=user)
            return redirect(_safe_next(request.args.get("next"), user))
        return render("auth/login.html", form=form, lang_form=LanguageForm(), remember_days=sessions.remember_days(),
                  status=422)
    status = 422 if form.errors else 200
    return render("auth/login.html", form=form, lang_form=LanguageForm(), remember_days=sessions.remember_days(),
                  status=status)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record("logout", current_user)
        sessions.end_this(me())
    return redirect(url_for("auth.login"))


@bp.route("/profile/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every other session of mine (another phone, a forgotten browser); this one stays."""
    sessions.end_others(me())
    audit.record("sessions.end_others", current_user)
    flash(_("Signed out on every other device."))
    return redirect(url_for("auth.profile"))


@bp.route("/language", methods=["POST"])
def language():
    """Switch language before signing in (kept in the session); signed-in users use the profile."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user, prefix="profile")
    form.timezone.choices = timezones.choices()
    if request.method == "GET":
        form.locale.data = current_user.locale or locale_code()
        form.timezone.data = current_user.timezone or current_app.config["DEFAULT_TIMEZONE"]
    password_form = PasswordForm(prefix="password")
    status = 200
    if form.is_submitted() and "profile-locale" in request.form:
        if form.validate():
            current_user.locale = form.locale.data
            current_user.timezone = form.timezone.data
            current_user.email = form.email.data or None
            session["lang"] = form.locale.data
            audit.record("profile.update", current_user, locale=form.locale.data, timezone=form.timezone.data,
                         email=current_user.email)
            return redirect(url_for("auth.profile"))
        status = 422
    return render("auth/profile.html", form=form, password_form=password_form, status=status)


@bp.route("/profile/password", methods=["POST"])
@login_required
def change_password():
    form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("That is not your current password."))
        else:
            current_user.set_password(form.new.data)
            sessions.end_others(me())  # whoever else holds a session of mine signs in again
            audit.record("password.change", current_user)
            flash(_("Password changed."))
            return redirect(url_for("auth.profile"))
    profile_form = ProfileForm(obj=current_user, prefix="profile")
    return render("auth/profile.html", form=profile_form, password_form=form, status=422)
