"""The installable app around the pages: web app manifest, service worker, favicon, the offline and
outbox pages, the day's list of pages to keep on the phone, and how static files are served
(assets.py). Sits above visits: the day offline is read from visits' planning."""
from flask import Blueprint

bp = Blueprint("app_shell", __name__)

from field.app_shell import views  # noqa: E402,F401
