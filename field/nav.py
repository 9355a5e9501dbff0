"""The bottom navigation each role sees: four or five thumb-sized tabs."""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from field.auth.models import Role

# (endpoint, label, icon) per role; the first is the role's home.
TABS = {
    Role.REP: [("home.index", _l("Today"), "today"), ("stores.index", _l("Stores"), "store"),
               ("auth.profile", _l("Me"), "me")],
    Role.SUPERVISOR: [("home.index", _l("Team"), "team"), ("stores.index", _l("Stores"), "store"),
                      ("auth.profile", _l("Me"), "me")],
    Role.MANAGER: [("home.index", _l("Overview"), "overview"), ("stores.index", _l("Stores"), "store"),
                   ("products.index", _l("Products"), "product"), ("auth.profile", _l("Me"), "me")],
    Role.ADMIN: [("home.index", _l("Admin"), "admin"), ("auth.users", _l("Users"), "team"),
                 ("stores.index", _l("Stores"), "store"), ("products.index", _l("Products"), "product"),
                 ("auth.profile", _l("Me"), "me")],
}


def tabs():
    if not current_user.is_authenticated:
        return []
    current_bp = (request.endpoint or "").split(".")[0]
    out = []
    for endpoint, label, icon in TABS.get(Role(current_user.role), []):
        active = request.endpoint == endpoint or (
            endpoint != "home.index" and endpoint.split(".")[0] == current_bp
            and not (current_bp == "auth" and request.endpoint != endpoint))
        out.append({"endpoint": endpoint, "label": label, "icon": icon, "active": active})
    return out


ROLE_LABELS = {Role.REP: _l("Rep"), Role.SUPERVISOR: _l("Supervisor"),
               Role.MANAGER: _l("Manager"), Role.ADMIN: _l("Admin")}


def role_label(role) -> str:
    return str(ROLE_LABELS.get(Role(role), role))


def register(app):
    app.jinja_env.globals["role_label"] = role_label

    @app.context_processor
    def inject_nav():
        # Macros as a global module: a block rendered alone for htmx sees them too.
        forms = app.jinja_env.get_template("macros/forms.html").module
        return {"nav_tabs": tabs(), "Role": Role, "forms": forms}
