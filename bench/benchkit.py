"""What the benches share: timing a call, and a scratch PostgreSQL database made afresh."""
import statistics
import time

from sqlalchemy import create_engine, text


def median_ms(fn, runs: int, warmup: int) -> tuple[float, float, float]:
    """Median and worst wall time of `fn` in ms, and the median CPU time of this process (which
    other programs on a busy machine do not inflate; a database server's own time is not in it)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1000, max(wall) * 1000, statistics.median(cpu) * 1000


def fresh_postgres(url: str) -> bool:
    """Drop the database `url` names (when an earlier run left it) and create it again; False, with
    a line saying so, when no server answers (the SQLite figures still stand)."""
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return True
    except Exception as exc:  # noqa: BLE001 — any failure means: no PostgreSQL here
        print(f"PostgreSQL at {admin_url} not reachable ({exc.__class__.__name__}); skipped")
        return False


# --- a demo company served on loopback, for the browser benches ---------------------------------

def demo_app(tmp: str, **config):
    """The app on a fresh SQLite file in `tmp` with the demo company seeded (as `./run` has it)."""
    from pathlib import Path

    from flask_migrate import upgrade

    from field import create_app, demo
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
                      "UPLOAD_DIR": str(Path(tmp) / "uploads"), "SECRET_KEY": "bench-secret",
                      "LOGIN_RATE_LIMIT": "100000 per minute", **config})
    with app.app_context():
        upgrade()
        demo.seed()
    return app


def serve(wsgi_app):
    """Serve `wsgi_app` on a free loopback port in a thread: (base url, server to .shutdown())."""
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def session_cookie(app, login: str) -> str:
    """The `session` cookie of `login` signed in (what the browser holds after the sign-in form)."""
    from sqlalchemy import select

    from field.auth.models import User
    from field.extensions import db
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.login == login)).scalar_one()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
