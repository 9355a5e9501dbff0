"""Admin forms: a user (role, supervisor, regions) and a region of the tree.

Choices (supervisors, regions, parents) are given by the view; the forms only check
shape. The rules that need the database (unique login, an active supervisor, no
region under its own descendant) live in field/auth/operations.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from field.auth.forms import email_field, language_choices
from field.auth.models import Region, Role, User

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._@-]*$"
MIN_PASSWORD = 8


def _lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def region_label(region: Region) -> str:
    """A region indented by its depth, so a flat <select> still reads as the tree."""
    return "\u00a0\u00a0" * max(0, region.depth) + f"{region.name} ({region.code})"


class UserForm(FlaskForm):
    login = StringField(_l("Login"), filters=[_lower_strip],
                        validators=[DataRequired(), Length(max=80),
                                    Regexp(LOGIN_PATTERN, message=_l(
                                        "Use letters, digits and . _ @ - only, starting with a letter or digit."))],
                        render_kw={"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"})
    supervisor = SelectField(_l("Supervisor"), choices=[])
    regions = SelectMultipleField(_l("Regions"), choices=[])
    dealer = SelectField(_l("Dealer"), choices=[], validate_choice=False)  # unknown: none (operations refuse)
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = email_field()
    locale = SelectField(_l("Language"), choices=language_choices(),
                         default="zh_CN")

    def __init__(self, *args, supervisors: list[User] = (), regions: list[Region] = (), new: bool = True,
                 dealers: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        from field.nav import role_label
        # A dealer's staff member is bound to one dealer (the picker's choices come from field/orders).
        self._dealers = {str(i): i for i, _ in dealers}
        self.dealer.choices = [SelectChoice("", _l("— none —"))] + [SelectChoice(str(i), label) for i, label in dealers]
        self.role.choices = [SelectChoice(r.value, role_label(r)) for r in Role]
        self._supervisors = {str(u.id): u for u in supervisors}
        self._regions = {str(r.id): r for r in regions}
        self.supervisor.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(str(u.id), f"{u.name} ({u.login})") for u in supervisors]
        self.regions.choices = [SelectChoice(str(r.id), region_label(r)) for r in regions]
        # A new user needs a password; on edit an empty one leaves it unchanged.
        length = Length(min=MIN_PASSWORD, max=200,
                        message=_l("At least %(min)d characters.", min=MIN_PASSWORD))
        self.password.validators = [DataRequired(), length] if new else [Optional(), length]
        if not new:
            self.password.description = _l("Leave empty to keep the current password.")

    def fill(self, user: User) -> None:
        self.login.data = user.login
        self.name.data = user.name
        self.role.data = user.role
        self.supervisor.data = str(user.supervisor_id) if user.supervisor_id else ""
        self.regions.data = [str(r.id) for r in user.regions]
        self.dealer.data = str(user.dealer_id) if user.dealer_id else ""
        self.phone.data = user.phone or ""
        self.email.data = user.email or ""
        self.locale.data = user.locale or "zh_CN"

    def values(self) -> dict:
        """The form as operation arguments: users and regions as objects, not ids."""
        return {
            "login": self.login.data,
            "name": self.name.data,
            "role": self.role.data,
            "password": self.password.data or None,
            "supervisor": self._supervisors.get(self.supervisor.data or ""),
            "regions": [self._regions[i] for i in self.regions.data or [] if i in self._regions],
            "dealer_id": self._dealers.get(self.dealer.data or ""),
            "phone": self.phone.data or None,
            "email": self.email.data or None,
            "locale": self.locale.data,
        }


class RegionForm(FlaskForm):
    code = StringField(_l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=120)])
    parent = SelectField(_l("Parent region"), choices=[])

    def __init__(self, *args, parents: list[Region] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._parents = {str(r.id): r for r in parents}
        self.parent.choices = [SelectChoice("", _l("— top level —"))] + [
            SelectChoice(str(r.id), region_label(r)) for r in parents]

    def fill(self, region: Region) -> None:
        self.code.data = region.code
        self.name.data = region.name
        self.parent.data = str(region.parent_id) if region.parent_id else ""

    def values(self) -> dict:
        return {"code": self.code.data, "name": self.name.data,
                "parent": self._parents.get(self.parent.data or "")}
