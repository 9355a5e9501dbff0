"""Command-line tasks: flask --app wsgi <command>."""


def register(app):
    pass
