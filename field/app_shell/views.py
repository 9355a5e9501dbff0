"""The app shell's pages: /manifest.webmanifest, /sw.js, /favicon.ico, /offline, /outbox and the day's
list of pages to keep for offline use (/today/offline.json)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app, jsonify, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from field import permissions
from field.app_shell import bp
from field.app_shell.assets import static_names
from field.core import now
from field.i18n import html_lang
from field.visits import planning
from field.web import me, render

THEME = "#0b6e4f"  # base.html's theme-color
BACKGROUND = "#f6f7f5"
ICONS = (("icons/icon-192.png", "192x192", "any"), ("icons/icon-512.png", "512x512", "any"),
         ("icons/maskable-192.png", "192x192", "maskable"), ("icons/maskable-512.png", "512x512", "maskable"))
SHELL_PAGES = ("app_shell.offline", "app_shell.outbox")
"""Pages the service worker keeps from its install on: the offline page and the outbox's list."""


def _is_rep() -> bool:
    return current_user.is_authenticated and permissions.may_run_visits(me())


def _start_url() -> str:
    return url_for("visits.today") if _is_rep() else url_for("home.index")


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest, in the user's language; a rep's app opens on Today."""
    data = {
        "id": "/",
        "name": _("field"),
        "short_name": _("field"),
        "description": _("Store visits, photo evidence and promotions for field-sales teams."),
        "lang": html_lang(),
        "dir": "ltr",
        "start_url": _start_url(),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [{"src": url_for("static", filename=src), "sizes": sizes, "type": "image/png", "purpose": purpose}
                  for src, sizes, purpose in ICONS],
    }
    response = current_app.response_class(json.dumps(data, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    # It differs by user (start_url) and language: a shared cache must not keep it.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def _static_urls() -> list[str]:
    return [url_for("static", filename=name) for name in sorted(static_names(current_app))]


def _worker_source() -> str:
    return (Path(current_app.static_folder) / "sw.js").read_text(encoding="utf-8")


@bp.route("/sw.js")
def service_worker():
    """static/sw.js at the site root (so it controls every page), with what it precaches put before it.
    Its version — the name of its caches — changes with any static file or the worker itself."""
    names = static_names(current_app)
    settings = {
        "static": {name: url_for("static", filename=name) for name in sorted(names)},
        "pages": [url_for(endpoint) for endpoint in SHELL_PAGES],
        "offline": url_for("app_shell.offline"),
        "dayList": url_for("app_shell.offline_day"),
    }
    source = _worker_source()
    version = hashlib.sha256((source + json.dumps(settings, sort_keys=True)).encode()).hexdigest()[:12]
    settings["version"] = version
    body = f"self.FIELD_SHELL = {json.dumps(settings, sort_keys=True)};\n{source}"
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    # The browser asks again on every navigation: unchanged, the answer is a 304 of a few bytes.
    response.set_etag(version)
    return response.make_conditional(request)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says."""
    response = send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)
    return response


@bp.route("/offline")
def offline():
    """What the service worker shows for a page the phone does not have, in the user's language."""
    return render("app_shell/offline.html", page_title=_("Offline"), start_url=_start_url(), rep=_is_rep())


@bp.route("/outbox")
@login_required
def outbox():
    """The outbox's list: an empty shell that static/js/outbox.js fills from the phone (IndexedDB)."""
    return render("app_shell/outbox.html", page_title=_("Waiting to be sent"))


def day_urls(day: planning.Day) -> list[str]:
    """The pages of a rep's day, in the order to fetch them: Today, the visit in progress, each stop's
    check-in page (its planned visit, else the store's check-in) and details, the visits done today."""
    urls = [url_for("visits.today")]
    if day.in_progress is not None:
        urls.append(url_for("visits.show", visit_id=day.in_progress.id))
    for stop in day.stops:
        urls.append(url_for("visits.show", visit_id=stop.visit.id) if stop.visit is not None
                    else url_for("visits.store_checkin", store_id=stop.store.id))
        urls.append(url_for("stores.detail", store_id=stop.store.id))
    urls += [url_for("visits.show", visit_id=v.id) for v in day.done_today]
    return list(dict.fromkeys(urls))


@bp.route("/today/offline.json")
@login_required
def offline_day():
    """The URLs the service worker keeps when Today loads online: the rep's day (day_urls), the shell's
    pages and the static files. Only the rep's own day: planning reads the rep's visits and stores."""
    permissions.require(permissions.may_run_visits(me()))
    rep = me()
    day = planning.today_for(rep, planning.local_today(rep))
    pages = day_urls(day) + [url_for(endpoint) for endpoint in SHELL_PAGES]
    response = jsonify(as_of=now().isoformat(), pages=pages, static=_static_urls(), urls=pages + _static_urls())
    response.headers["Cache-Control"] = "private, no-store"
    return response
