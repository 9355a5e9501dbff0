from field.admin import bp  # noqa: F401
