from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from field.auth.timezones import TIMEZONES

LANGUAGE_CHOICES = [("zh_CN", "中文（简体）"), ("en", "English")]


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in LANGUAGE_CHOICES]


class LoginForm(FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=80)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(default=False)  # "keep me signed in"; the label names the days


# Enough to catch a typo (no @, a space, no dot in the domain); the mail server has the last word.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def _email(value):
    return value.strip().lower() if isinstance(value, str) else value


def email_field():
    """Where a user's notifications are mailed (when the server sends mail: SMTP_HOST)."""
    return StringField(_l("E-mail for notifications"), filters=[_email],
                       validators=[Optional(), Length(max=254),
                                   Regexp(EMAIL_PATTERN, message=_l("Write an e-mail address like name@example.com."))],
                       render_kw={"type": "email", "inputmode": "email", "autocomplete": "email",
                                  "autocapitalize": "none", "spellcheck": "false"})


class ProfileForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=language_choices())
    email = email_field()
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(tz) for tz in TIMEZONES])  # named per request


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=language_choices(), validators=[Optional()])
