"""Load: the app under gunicorn (2 workers) with many reps doing whole visits at once, as their phones would.

Budget: 0 failed requests and 0 "database is locked" reaching a rep (answers and the server's log),
with 50 reps on PostgreSQL and 20 on the SQLite default; p50/p95 per endpoint printed alongside.

    .venv/bin/python bench/load.py                      # PostgreSQL (50 reps), then SQLite (20 reps)
    .venv/bin/python bench/load.py --db sqlite --reps 30 --visits 3

Each run makes its database afresh (PostgreSQL at BENCH_PG_URL, default
postgresql://postgres@127.0.0.1/field_bench_load, dropped at the end; SQLite a temporary file), runs
`flask db upgrade` and `flask seed-demo` as ./run does, adds reps beyond the demo's 20 and plans each
rep's routine visits for today with the app's own operations (auth, stores and planning), then starts
`gunicorn -w 2 wsgi:app` on it. Every rep is a thread with its own cookie jar and address (sent as
X-Forwarded-For, the app started with TRUSTED_PROXIES=1 as behind nginx, so each phone has its own
sign-in bucket) and signs in, then for each planned visit: GET /today, GET the visit, check in inside
the fence, save the store checklist and the visit summary (htmx), upload a ~500 KB JPEG with its client
id, ask the visit's progress (as visits.js does), check out — with the headers static/js/outbox.js and
photos.js send (X-CSRFToken from the page's meta, X-Field-Replay, HX-Request, Accept: application/json).
No think time: every rep taps again as soon as the answer comes, a much harder load than real reps.

Afterwards the database is checked: every planned visit completed, one photo per client id, every
photo's files stored. Exit status 1 when any request failed, a check failed, or the server logged an
error."""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchkit import fresh_postgres  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_bench_load")
VENV = ROOT / ".venv" / "bin"
PASSWORD = "field-demo"  # the demo's (field/demo/company.py)
ADDRESS = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"
# What the server's log must never say (a 500's traceback, a lock error reaching a request).
LOG_PROBLEMS = ("Traceback", "database is locked", "OperationalError", "Exception on ")


# --- the database and the server -------------------------------------------------------------------

def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def drop_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    admin = create_engine(sqlalchemy_url(url.rsplit("/", 1)[0] + "/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Site:
    """A demo company in a fresh database, with the reps and visits the run needs, and its server."""
    kind: str  # "postgresql" | "sqlite"
    url: str
    tmp: Path
    env: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    port: int = 0
    log_path: Path | None = None
    app: object = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upload_dir(self) -> Path:
        return self.tmp / "uploads"

    def flask(self, *args: str) -> str:
        done = subprocess.run([str(VENV / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, workers: int = 2) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log_path = self.tmp / "gunicorn.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(VENV / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "120",
             "--graceful-timeout", "5", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 60 s")

    def workers(self) -> list[int]:
        """The worker processes' ids (children of the gunicorn master)."""
        pid = self.proc.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def log_problems(self) -> dict[str, int]:
        text = self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""
        return {p: text.count(p) for p in LOG_PROBLEMS}

    def log_exceptions(self) -> Counter:
        """The server log's errors with a traceback, counted by who logged them (Flask's "Exception on …"
        or gunicorn's "Error handling request"), what was raised last and the app's last line in it."""
        text = self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""
        out = Counter()
        for entry in re.split(r"\n(?=\[\d{4}-)", text):
            if "Traceback" not in entry:
                continue
            lines = entry.splitlines()
            head = re.sub(r"^\[[^]]*\]\s*(\[\d+\]\s*)?", "", lines[0])
            head = re.sub(r"/\d+", "/<id>", head)[:60]
            raised = [ln for ln in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Shutdown)\b", ln)]
            ours = [ln.strip() for ln in lines if ln.strip().startswith("File ") and "/field/" in ln]
            where = ours[-1].split("/field/")[-1].replace('", line ', ":").split(",")[0] if ours else "-"
            out[f"{head} | {(raised[-1] if raised else lines[-1])[:90]} | last app line {where}"] += 1
        return out

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self.app is not None:
            from field.extensions import db
            with self.app.app_context():
                db.engine.dispose()
        if self.kind == "postgresql":
            drop_postgres(self.url)
        if os.environ.get("BENCH_KEEP_LOG"):  # to read the server's log after the run
            print(f"  server log kept: {self.log_path}")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)


def make_site(kind: str) -> Site | None:
    """A fresh database seeded with the demo (flask db upgrade, flask seed-demo); None when the
    PostgreSQL server is not there."""
    tmp = Path(tempfile.mkdtemp(prefix=f"field-load-{kind}-"))
    if kind == "postgresql":
        if not fresh_postgres(PG_URL):
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        url = PG_URL
    else:
        url = f"sqlite:///{tmp / 'field.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": str(tmp / "uploads"), "SECRET_KEY": "bench-load",
           "STATIC_BUILD_DIR": str(tmp / "static"), "TRUSTED_PROXIES": "1", "FLASK_DEBUG": "0"}
    env.pop("FIELD_ENV", None)
    site = Site(kind, url, tmp, env)
    site.flask("db", "upgrade")
    site.flask("seed-demo")
    from field import create_app
    site.app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "UPLOAD_DIR": env["UPLOAD_DIR"],
                           "SECRET_KEY": "bench-load", "STATIC_BUILD_DIR": env["STATIC_BUILD_DIR"]})
    return site


@dataclass
class Plan:
    login: str
    visits: list[tuple[int, float, float]]  # (visit id, store lat, store lng), in the order the rep goes


def plan_reps(site: Site, reps: int, visits: int) -> list[Plan]:
    """`reps` reps, each with `visits` routine visits planned for today at stores of their own: the
    demo's reps first, then new ones made like an admin would (a rep under the same supervisor, in the
    same regions, with stores of their own a little way off the demo rep's)."""
    from sqlalchemy import select

    from field import transaction
    from field.auth import operations as user_ops
    from field.auth.models import Role, User
    from field.extensions import db
    from field.stores import operations as store_ops
    from field.stores.models import Store
    from field.visits.models import Visit, VisitStatus, VisitType
    from field.visits.planning import local_today, plan_visits

    with site.app.test_request_context():  # the operations speak (gettext), as in a request
        admin = db.session.execute(select(User).where(User.login == "admin")).scalar_one()
        demo_reps = db.session.execute(select(User).where(User.role == str(Role.REP)).order_by(User.id)).scalars().all()
        chosen = list(demo_reps[:reps])
        for n in range(len(demo_reps), reps):
            like = demo_reps[n % len(demo_reps)]
            rep = user_ops.create_user({"login": f"load{n + 1:03d}", "name": f"Load rep {n + 1}", "role": "rep",
                                        "supervisor": like.supervisor, "regions": list(like.regions),
                                        "password": PASSWORD, "phone": None, "locale": "zh_CN"}, admin)
            db.session.flush()
            theirs = db.session.execute(select(Store).where(Store.owner_rep_id == like.id)
                                        .order_by(Store.code).limit(visits)).scalars().all()
            for i, s in enumerate(theirs):
                store_ops.create_store({"code": f"LOAD-{n + 1:03d}-{i + 1}", "name": f"{s.name} {n + 1}-{i + 1}",
                                        "address": s.address, "lat": s.lat + 0.002 * (n // len(demo_reps)),
                                        "lng": s.lng, "datum": "wgs84", "tier": s.tier, "channel": s.channel,
                                        "owner_rep": rep, "region": s.region, "visit_every_days": 14}, admin)
            chosen.append(rep)
        routine = db.session.execute(select(VisitType).where(VisitType.code == "routine")).scalar_one()
        plans = []
        for rep in chosen:
            today = local_today(rep)
            taken = set(db.session.execute(select(Visit.store_id).where(
                Visit.rep_id == rep.id, Visit.planned_for == today)).scalars())
            stores = [s for s in db.session.execute(select(Store).where(Store.owner_rep_id == rep.id)
                                                    .order_by(Store.code)).scalars() if s.id not in taken][:visits]
            if len(stores) < visits:
                raise SystemExit(f"{rep.login} has only {len(stores)} stores free today")
            outcome = plan_visits(admin, rep, stores, routine, today)
            db.session.flush()
            by_store = {v.store_id: v for v in outcome.planned}
            plans.append(Plan(rep.login, [(by_store[s.id].id, s.lat, s.lng) for s in stores]))
        transaction.commit()
        assert all(v.status == VisitStatus.PLANNED for v in db.session.execute(select(Visit).where(
            Visit.id.in_([vid for p in plans for vid, _a, _b in p.visits]))).scalars())
    return plans


# --- a phone ------------------------------------------------------------------------------------------

class Page(HTMLParser):
    """The forms of a page (action, attributes, their inputs), its CSRF token and photo upload urls."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.csrf = ""
        self.upload_urls: list[str] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta" and a.get("name") == "csrf-token":
            self.csrf = a.get("content", "")
        if tag == "a":
            self.links.append(a.get("href", ""))
        if a.get("data-upload-url"):
            self.upload_urls.append(a["data-upload-url"])
        if tag == "form":
            self._form = {"attrs": a, "inputs": []}
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select") and self._form is not None and a.get("name"):
            self._form["inputs"].append((a["name"], a.get("type", tag), a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def form(self, pred) -> dict | None:
        return next((f for f in self.forms if pred(f)), None)


def hidden(form: dict) -> dict:
    """The form's hidden fields as the outbox sends them (the CSRF field left out: it goes in a header)."""
    return {n: v for n, t, v in form["inputs"] if t == "hidden" and n != "csrf_token"}


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_PHOTO_LOCK = threading.Lock()
_PHOTOS: dict[int, bytes] = {}


def photo(seed: int, lat: float, lng: float) -> bytes:
    """A ~500 KB phone JPEG (1600×1200, a shelf drawn by the demo's picture maker, sensor noise, EXIF
    time and GPS at the store); each seed its own picture."""
    from PIL import Image, ImageChops

    from field.demo import pictures
    from field.geo import Point
    with _PHOTO_LOCK:
        if seed not in _PHOTOS:
            size = (1600, 1200)
            img = pictures.shelf_picture(seed, "促销", size)
            rnd = random.Random(seed)
            noise = Image.frombytes("L", size, rnd.randbytes(size[0] * size[1])).point(lambda v: v // 10)
            img = ImageChops.add(img, Image.merge("RGB", [noise] * 3))
            _PHOTOS[seed] = pictures.jpeg(img, datetime.now(timezone.utc), Point(lat, lng))
        return _PHOTOS[seed]


@dataclass
class Call:
    endpoint: str
    status: int
    ms: float
    ok: bool
    note: str = ""


HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


class Failed(Exception):
    pass


class Phone:
    """One rep's phone: a cookie jar, its own address, the page's CSRF token; every request timed.

    `retry`: answers 5xx and dropped connections are sent again, the same request with the same
    client ids, as the outbox does (5 s back-off there; `retry_pause` here), up to `retries` times."""

    def __init__(self, base: str, login: str, n: int, log: list[Call], retry: bool = False,
                 retries: int = 20, retry_pause: float = 0.3):
        self.base, self.login, self.log = base, login, log
        self.http = requests.Session()
        self.http.headers.update({"User-Agent": ADDRESS, "X-Forwarded-For": f"10.{n // 250}.{n % 250}.{7 + n % 3}"})
        self.csrf = ""
        self.retry, self.retries, self.retry_pause = retry, retries, retry_pause

    def call(self, endpoint: str, method: str, path: str, expect: tuple[int, ...], **kw) -> requests.Response:
        for attempt in range(self.retries + 1 if self.retry else 1):
            t0 = time.perf_counter()
            try:
                r = self.http.request(method, self.base + path, allow_redirects=False, timeout=180, **kw)
                status, note = r.status_code, ""
            except requests.RequestException as exc:
                r, status, note = None, 0, exc.__class__.__name__
            ms = (time.perf_counter() - t0) * 1000
            ok = status in expect
            if r is not None and not ok:
                note = _said(r)
            self.log.append(Call(endpoint, status, ms, ok, note))
            if ok:
                return r
            if not (self.retry and (status == 0 or status >= 500)):
                break
            time.sleep(self.retry_pause * (1 + random.random()))
        raise Failed(f"{self.login}: {method} {path} answered {status} {note}")

    def page(self, endpoint: str, path: str) -> Page:
        r = self.call(endpoint, "GET", path, (200,))
        page = Page(r.text)
        self.csrf = page.csrf or self.csrf
        return page

    def sign_in(self) -> None:
        page = self.page("GET /login", "/login")
        form = page.form(lambda f: f["attrs"].get("action", "").startswith("/login"))
        token = next(v for n, _t, v in form["inputs"] if n == "csrf_token")
        r = self.call("POST /login", "POST", "/login", (302, 303),
                      data={"csrf_token": token, "login": self.login, "password": PASSWORD})
        if "/login" in r.headers.get("Location", ""):
            raise Failed(f"{self.login}: sign-in refused")

    def headers(self, **extra) -> dict:
        return {"X-CSRFToken": self.csrf, **extra}

    def visit(self, visit_id: int, lat: float, lng: float, seed: int) -> list[str]:
        """One whole visit. Returns the client ids of its photos."""
        page, here = self.check_in(visit_id, lat, lng)
        self.steps(page)
        client_id = str(uuid.uuid4())
        self.upload(page.upload_urls[0], client_id, photo(seed, lat, lng), here)
        self.call("GET /visits/<id>/progress", "GET", f"/visits/{visit_id}/progress", (200,),
                  headers=self.headers(**HTMX))
        self.check_out(visit_id, page, here)
        return [client_id]

    def check_in(self, visit_id: int, lat: float, lng: float) -> tuple[Page, dict]:
        """Today, the visit's page, the check-in inside the fence: (the page, the phone's position)."""
        today = self.page("GET /today", "/today")
        if f"/visits/{visit_id}" not in today.links:
            raise Failed(f"{self.login}: visit {visit_id} not on Today")
        path = f"/visits/{visit_id}"
        page = self.page("GET /visits/<id>", path)
        here = {"lat": f"{lat + 0.0001:.6f}", "lng": f"{lng:.6f}", "accuracy": "12"}
        checkin = hidden(page.form(lambda f: f["attrs"].get("id") == "checkin"))
        checkin.update(here, position_at=iso(), client_id=checkin["client_key"], phone_at=iso())
        self.call("POST /visits/<id>/checkin", "POST", path + "/checkin", (302, 303),
                  data=checkin, headers=self.headers(**{"X-Field-Replay": "1"}))
        return page, here

    def steps(self, page: Page) -> None:
        """The store checklist (all pass) and the visit summary, as htmx sends them. The forms came
        with the page (hidden until check-in): the phone sends them without a reload."""
        steps = [f for f in page.forms if "step-form" in f["attrs"].get("class", "")]
        checklist = next(f for f in steps if any(n.startswith("item-") for n, _t, _v in f["inputs"]))
        summary = next(f for f in steps if any(n == "text" for n, _t, _v in f["inputs"]))
        data = {**hidden(checklist), "phone_at": iso(),
                **{n: "pass" for n, _t, _v in checklist["inputs"] if n.startswith("item-")}}
        self.call("POST /visits/<id>/steps/<id>", "POST", checklist["attrs"]["action"], (200,), data=data,
                  headers=self.headers(**HTMX))
        data = {**hidden(summary), "phone_at": iso(), "text": f"Shelves full; {self.login} spoke to the owner."}
        self.call("POST /visits/<id>/steps/<id>", "POST", summary["attrs"]["action"], (200,), data=data,
                  headers=self.headers(**HTMX))

    def check_out(self, visit_id: int, page: Page, here: dict) -> None:
        checkout = hidden(page.form(lambda f: f["attrs"].get("id") == "checkout"))
        checkout.update(here, position_at=iso(), phone_at=iso())
        if not checkout.get("client_id"):
            checkout["client_id"] = str(uuid.uuid4())  # the outbox names every write
        self.call("POST /visits/<id>/checkout", "POST", f"/visits/{visit_id}/checkout", (302, 303), data=checkout,
                  headers=self.headers(**{"X-Field-Replay": "1"}))

    def upload(self, url: str, client_id: str, data: bytes, here: dict, endpoint="POST /visits/<id>/steps/<id>/photos",
               expect=(200, 201)) -> requests.Response:
        fields = {"client_id": client_id, "source": "camera", "captured_at": iso(), "phone_at": iso(), **here}
        return self.call(endpoint, "POST", url, expect, data=fields,
                         files={"file": ("photo.jpg", data, "image/jpeg")},
                         headers=self.headers(**{"Accept": "application/json", "X-Field-Replay": "1"}))


BARE = "bare server page: "


def _said(r: requests.Response) -> str:
    """What an answer said, short: its JSON error, else its message (the app's error page or fragment,
    an alert), else — not the app's answer (gunicorn's own 500, a proxy's) — its start, marked BARE."""
    try:
        return str(r.json().get("error", ""))[:160]
    except ValueError:
        m = (re.search(r'data-status="\d+"[^>]*>\s*<p class="error[^>]*>(.*?)<', r.text, re.S)
             or re.search(r'role="alert"[^>]*>(.*?)<', r.text, re.S))
        if m:
            return m.group(1).strip().replace("\n", " ")[:160]
        return BARE + re.sub(r"\s+", " ", r.text[:120])


# --- running reps and reading the figures ---------------------------------------------------------------

def run_reps(base: str, plans: list[Plan], retry: bool = False, on_start=None) -> tuple[list[Call], list[str], dict]:
    """Every rep in a thread, all at once: sign in, then the planned visits in order. Returns the calls,
    the failures (one line each) and {visit id: photo client ids}."""
    log: list[Call] = []
    failures: list[str] = []
    photos: dict[int, list[str]] = {}
    barrier = threading.Barrier(len(plans) + (1 if on_start else 0))

    def rep(n: int, plan: Plan):
        phone = Phone(base, plan.login, n, log, retry=retry)
        try:
            barrier.wait()
            phone.sign_in()
            for k, (visit_id, lat, lng) in enumerate(plan.visits):
                photos[visit_id] = phone.visit(visit_id, lat, lng, seed=1000 * n + k)
        except Failed as exc:
            failures.append(str(exc))
        except Exception as exc:  # noqa: BLE001 — a bench bug must show, not hang the run
            failures.append(f"{plan.login}: {exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=rep, args=(n, p), daemon=True) for n, p in enumerate(plans)]
    for t in threads:
        t.start()
    if on_start:
        barrier.wait()
        on_start()
    for t in threads:
        t.join()
    return log, failures, photos


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def print_figures(log: list[Call], elapsed: float) -> None:
    by = defaultdict(list)
    for c in log:
        by[c.endpoint].append(c)
    width = max(len(e) for e in by)
    for endpoint, calls in by.items():
        ms = [c.ms for c in calls if c.ok] or [0.0]
        print(f"  {endpoint:<{width}}  n {len(calls):>4}  median {statistics.median(ms):7.0f} ms  "
              f"p95 {pct(ms, 95):7.0f} ms  errors {sum(not c.ok for c in calls)}")
    print(f"  {len(log)} requests in {elapsed:.1f} s: {len(log) / elapsed:.1f} requests/s")


def check_database(site: Site, plans: list[Plan], photos: dict[int, list[str]]) -> list[str]:
    """What the database holds after the run, against what the reps did: every planned visit completed
    with its two steps, exactly one photo per client id, every photo's three files stored."""
    from sqlalchemy import func, select

    from field.extensions import db
    from field.photos.models import Photo
    from field.visits.models import StepResult, Visit, VisitStatus
    problems = []
    ids = [vid for p in plans for vid, _a, _b in p.visits]
    with site.app.app_context():
        statuses = dict(db.session.execute(select(Visit.id, Visit.status).where(Visit.id.in_(ids))).all())
        stuck = [vid for vid in ids if statuses.get(vid) != VisitStatus.COMPLETED]
        if stuck:
            problems.append(f"{len(stuck)} visits not completed: {stuck[:10]}")
        steps = db.session.scalar(select(func.count()).select_from(StepResult).where(StepResult.visit_id.in_(ids)))
        if steps != 2 * len(ids):
            problems.append(f"{steps} step results for {len(ids)} visits (2 each expected)")
        wanted = [c for cs in photos.values() for c in cs]
        rows = db.session.execute(select(Photo.client_id, func.count()).where(Photo.client_id.in_(wanted))
                                  .group_by(Photo.client_id)).all() if wanted else []
        counts = dict(rows)
        missing = [c for c in wanted if counts.get(c, 0) != 1]
        if missing:
            problems.append(f"{len(missing)} photo client ids without exactly one row")
        root = site.upload_dir
        absent = [k for row in db.session.execute(select(Photo.original_key, Photo.display_key, Photo.thumb_key))
                  for k in row if not (root / k).is_file()]
        if absent:
            problems.append(f"{len(absent)} photo files missing: {absent[:3]}")
        db.session.rollback()
    return problems


def run(kind: str, reps: int, visits: int, workers: int = 2) -> bool:
    print(f"{kind}: {reps} reps × {visits} visits, gunicorn {workers} workers")
    t0 = time.perf_counter()
    site = make_site(kind)
    if site is None:
        return True
    try:
        plans = plan_reps(site, reps, visits)
        site.start(workers)
        print(f"  set up in {time.perf_counter() - t0:.0f} s "
              f"(demo seeded, {reps} reps, {reps * visits} visits planned)")
        t = time.perf_counter()
        log, failures, photos = run_reps(site.base, plans)
        elapsed = time.perf_counter() - t
        site.stop()
        print_figures(log, elapsed)
        errors = sum(not c.ok for c in log)
        locked = sum("locked" in c.note for c in log)
        problems = check_database(site, plans, photos)
        logged = site.log_problems()
        print(f"  errors {errors} (budget 0); \"database is locked\" in answers {locked}, "
              f"in the server log {logged['database is locked']}; server log tracebacks {logged['Traceback']}")
        for line in failures[:10]:
            print(f"  FAILED {line}")
        for c in [c for c in log if not c.ok][:10]:
            print(f"  ERROR {c.endpoint} {c.status} {c.note}")
        for p in problems:
            print(f"  DATABASE {p}")
        print(f"  database checks: {'ok' if not problems else 'FAILED'} ({reps * visits} visits completed, "
              f"{sum(len(v) for v in photos.values())} photos, one row each, files stored)")
        if logged["Traceback"]:
            text = site.log_path.read_text(errors="replace")
            print(text[text.index("Traceback") - 200:][:3000])
        return not (errors or failures or problems or any(logged.values()))
    finally:
        site.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--reps", type=int, default=None, help="reps at once (default 50 on PostgreSQL, 20 on SQLite)")
    parser.add_argument("--visits", type=int, default=2, help="whole visits per rep (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    ok = True
    for kind, default in (("postgresql", 50), ("sqlite", 20)):
        if args.db in ("both", kind):
            ok = run(kind, args.reps or default, args.visits, args.workers) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
