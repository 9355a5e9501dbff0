"""Admin pages for users and regions."""
from field.auth import bp  # noqa: F401


@bp.route("/users")
def users():
    return ""
