"""field: PDCA store visits, photo evidence, promotion claims and ROI for field-sales teams."""
import sqlite3
from pathlib import Path

from flask import Flask
from flask_babel import format_date, format_datetime, lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine

from field import config
from field.i18n import html_lang, locale_code, select_locale, select_timezone  # noqa: F401 (locale_code: old import path)
from field.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers and one writer work at once; SQLite leaves foreign keys off unless asked.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint(conn, _name):
    # Python's sqlite3 opens a transaction only before the first INSERT/UPDATE/DELETE, so a
    # SAVEPOINT that came first would open the transaction itself and its RELEASE commit it: the
    # request's one transaction would be cut short. Open it first. IMMEDIATE takes the write lock
    # now (waiting busy_timeout for it): a savepoint is there to write.
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


def moment_pattern() -> str:
    """A date and time in the same words as the `date` filter's dates ("2026年12月3日 02:27",
    "Dec 3, 2026, 2:27 AM"): the medium date with the short time, so a page never shows one
    day in two formats side by side."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.datetime_formats["medium"].format(locale.time_formats["short"].pattern,
                                                    locale.date_formats["medium"].pattern)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(config.from_environment(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres"):
        # PostgreSQL's JIT compiler pays off on long analytic queries, not on a page's: it added
        # 30 ms of compiling to each 40 ms sum of the ROI page (bench/roi.py).
        engine = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    from field.photos import storage
    storage.install(app)  # photo storage settings checked now: a bad one stops the start, not the first upload

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "field" / "translations"))
    limiter.init_app(app)

    from field import models  # noqa: F401  (every table known to Alembic and the app)
    from field.auth.models import User

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id))

    from field.admin import bp as admin_bp
    from field.auth import bp as auth_bp
    from field.home import bp as home_bp
    from field.products import bp as products_bp
    from field.stores import bp as stores_bp
    from field.visits import bp as visits_bp
    from field.photos import bp as photos_bp
    from field.activities import bp as activities_bp
    from field.sales import bp as sales_bp
    from field.targets import bp as targets_bp
    from field.claims import bp as claims_bp
    from field.roi import bp as roi_bp
    from field.app_shell import bp as app_shell_bp
    from field.alerts import bp as alerts_bp
    from field.incentives import bp as incentives_bp
    from field.competitors import bp as competitors_bp
    from field.orders import bp as orders_bp
    from field.workday import bp as workday_bp
    from field.dealers import bp as dealers_bp
    from field.channel import bp as channel_bp
    from field import notifications
    notifications.install(app)  # delivery settings checked now: a bad webhook URL stops the start
    for bp in (notifications.bp, auth_bp, home_bp, stores_bp, products_bp, admin_bp, visits_bp, photos_bp,
               activities_bp, sales_bp, targets_bp, claims_bp, roi_bp, app_shell_bp, alerts_bp, incentives_bp,
               competitors_bp, orders_bp, workday_bp, dealers_bp, channel_bp):
        app.register_blueprint(bp)

    from field import errors, nav, permissions, transaction
    from field.app_shell import assets
    assets.register(app)  # static files (WhiteNoise: versioned, immutable, precompressed), Flask-Compress
    from field import security
    security.register(app)  # headers on every answer (wraps WhiteNoise too: keep it after assets)
    if app.config.get("TRUSTED_PROXIES"):
        # Outermost: the client address, scheme and host as the operator's own proxies forwarded them,
        # for the audit log and the sign-in limits; without the setting, forwarded headers are ignored.
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    transaction.register(app)
    errors.register(app)
    nav.register(app)
    app.context_processor(lambda: {"may": permissions.for_current_user()})

    from field.core import format_money
    from flask_babel import get_locale
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["html_lang"] = html_lang
    from field.web import new_client_id
    app.jinja_env.globals["new_client_id"] = new_client_id
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["datetime"] = lambda v, fmt=None: format_datetime(v, fmt or moment_pattern()) if v else ""
    app.jinja_env.filters["date"] = lambda v, fmt="medium": format_date(v, fmt) if v else ""

    from field.cli import register as register_cli
    register_cli(app)

    @app.shell_context_processor
    def shell_context():
        from field.auth.models import Region
        from field.products.models import Product
        from field.stores.models import Store
        return {"db": db, "User": User, "Region": Region, "Store": Store, "Product": Product}

    return app
