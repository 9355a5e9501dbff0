"""Security headers on every answer, in one place.

Pages, htmx fragments, error pages, JSON, exports, the service worker (/sw.js) and the static files
WhiteNoise serves all pass through one WSGI wrapper around the whole app, so none can miss them
(an after_request hook would not see WhiteNoise's answers nor a crash in another hook).

- Content-Security-Policy: scripts only from this site (no inline script, no eval: the templates
  use no hx-on, no `js:` values and no trigger filters, which htmx would compile with Function).
  Style allows 'unsafe-inline' because templates carry a few computed style attributes (tree
  indents, chart marks) and htmx sets styles; style cannot run code.
- Map tiles (MAP_TILES, field/geo.py's tile_source) may come from the configured tile servers: their
  origins join img-src, and no other directive.
- X-Frame-Options DENY (with frame-ancestors 'none' for browsers that read CSP), nosniff,
  Referrer-Policy same-origin.
- Strict-Transport-Security only in production (FIELD_ENV=production or config HSTS=True): on a
  plain-http development server it would pin the browser to https for a year.

A view may set its own value of any of these headers; the wrapper fills in only what is missing.

In production the app is served by gunicorn (README, Production): `flask run`, Werkzeug's development
server, refuses to start there rather than announce itself (its Server header names Werkzeug and
Python with their versions, and its reloader and debugger are not for the internet).
"""
from __future__ import annotations

import os

import click
from flask import Flask

from field import geo
from field.config import SettingsError

IMG_SRC = "'self' data: blob:"


def csp(tile_origins=()) -> str:
    """The policy; `tile_origins` (the configured map tile servers, MAP_TILES) are added to img-src
    alone: tiles are images, nothing else may come from those hosts."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "worker-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        " ".join(["img-src", IMG_SRC, *tile_origins]),
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


CSP = csp()
HSTS = "max-age=31536000; includeSubDomains"


def headers(production: bool, tile_origins=()) -> list[tuple[str, str]]:
    """The headers every answer carries."""
    out = [
        ("Content-Security-Policy", csp(tile_origins)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]
    if production:
        out.append(("Strict-Transport-Security", HSTS))
    return out


class SecurityHeaders:
    """WSGI middleware adding `headers` to each answer that does not already carry them."""

    def __init__(self, app, extra: list[tuple[str, str]]):
        self.app = app
        self.extra = extra

    def __call__(self, environ, start_response):
        def start(status, response_headers, exc_info=None):
            present = {name.lower() for name, _ in response_headers}
            response_headers = list(response_headers) + [
                (name, value) for name, value in self.extra if name.lower() not in present]
            return start_response(status, response_headers, exc_info)
        return self.app(environ, start)


def _production(app: Flask) -> bool:
    production = app.config.get("HSTS")
    if production is None:
        production = os.environ.get("FIELD_ENV", "development") == "production"
    return bool(production)


def refuse_development_server(app: Flask) -> None:
    """In production, `flask run` stops before it serves (the app is loaded inside that command)."""
    command = click.get_current_context(silent=True)
    if _production(app) and command is not None and command.info_name == "run":
        raise SystemExit("field: FIELD_ENV=production is served by gunicorn "
                         "(README, Production: .venv/bin/gunicorn -w 4 -b 0.0.0.0:8000 wsgi:app); "
                         "`flask run` is the development server.")


def register(app: Flask) -> None:
    """Wrap the app (call after every other wsgi_app wrapper, e.g. WhiteNoise, so it covers them)."""
    refuse_development_server(app)
    production = _production(app)
    app.wsgi_app = SecurityHeaders(app.wsgi_app, headers(production, tile_origins(app)))


def tile_origins(app: Flask) -> tuple[str, ...]:
    """The map tile servers MAP_TILES names (none by default); a setting that cannot work stops the start."""
    try:
        source = geo.tile_source(app.config.get("MAP_TILES"), app.config.get("MAP_TILES_DATUM"),
                                 app.config.get("MAP_TILES_ATTRIBUTION"), app.config.get("MAP_TILES_SUBDOMAINS"))
    except ValueError as exc:
        raise SettingsError(f"field: {exc}") from None
    return source.origins if source is not None else ()
