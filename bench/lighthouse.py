"""Lighthouse budget (issue 12): Lighthouse mobile on Today and on a visit page, as a signed-in rep
of the demo company — performance and accessibility 100, best practices ≥ 96 — and the app
installable (Chromium's own installability check: manifest, icons, service worker).

Seeds the demo company into a throw-away SQLite file, serves it on loopback, and runs Lighthouse
(npm `lighthouse`, installed once into bench/.node; it drives Debian's Chromium) with the rep's
session cookie. Lighthouse 12 has no PWA category any more, so installability is asked of
Chromium itself (DevTools Page.getInstallabilityErrors) once the service worker controls Today.

    .venv/bin/python bench/lighthouse.py
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.benchkit import CHROMIUM, CHROMIUM_ARGS, demo_app, serve, session_cookie  # noqa: E402

NODE_DIR = Path(__file__).resolve().parent / ".node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
REP = "rep01"
BUDGET = {"performance": 1.0, "accessibility": 1.0, "best-practices": 0.96}


def ensure_lighthouse() -> None:
    if not LIGHTHOUSE.exists():
        print("installing lighthouse@12 into bench/.node (once)")
        subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "lighthouse@12"],
                       check=True, stdout=subprocess.DEVNULL)


def a_visit_page(app) -> str:
    """The rep's visit of today (planned or in progress), else their latest."""
    from field.auth.models import User
    from field.extensions import db
    from field.visits.models import Visit
    with app.app_context():
        rep_id = db.session.execute(select(User.id).where(User.login == REP)).scalar_one()
        visit_id = db.session.execute(select(Visit.id).where(Visit.rep_id == rep_id)
                                      .order_by(Visit.status == "in_progress", Visit.id.desc())).scalars().first()
    return f"/visits/{visit_id}"


def lighthouse(url: str, cookie: str, out: Path) -> dict:
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run([str(LIGHTHOUSE), url, "--quiet", "--form-factor=mobile", f"--chrome-flags={flags}",
                    "--only-categories=performance,accessibility,best-practices", "--output=json",
                    f"--output-path={out}", f"--extra-headers={json.dumps({'Cookie': f'session={cookie}'})}"],
                   check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
    report = json.loads(out.read_text())
    scores = {k: v["score"] for k, v in report["categories"].items()}
    misses = [f"{a['id']} ({a['score']})" for a in report["audits"].values()
              if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") in ("binary", "numeric")]
    return {"scores": scores, "misses": misses}


def installability(base: str, cookie: str) -> list[str]:
    """Chromium's reasons the app is not installable (empty: installable), once the worker controls Today."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="profile-") as profile:
        # A real profile, not an incognito context: Chromium never offers to install from incognito.
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 412, "height": 839}, is_mobile=True, has_touch=True, locale="zh-CN")
        context.add_cookies([{"name": "session", "value": cookie, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/today")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        context.close()
    return [e["errorId"] for e in errors]


def main() -> int:
    ensure_lighthouse()
    ok = True
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        app = demo_app(tmp)
        base, server = serve(app)
        cookie = session_cookie(app, REP)
        pages = {"Today": "/today", "a visit page": a_visit_page(app)}
        for name, path in pages.items():
            result = lighthouse(base + path, cookie, Path(tmp) / "report.json")
            s = result["scores"]
            line = (f"Lighthouse mobile, {name} ({path}): performance {round(s['performance'] * 100)}, "
                    f"accessibility {round(s['accessibility'] * 100)}, best practices {round(s['best-practices'] * 100)} "
                    f"(budget 100 / 100 / >= 96)")
            print(line)
            if result["misses"]:
                print(f"  below full marks: {', '.join(result['misses'])}")
            ok &= all(s[k] is not None and s[k] >= v for k, v in BUDGET.items())
        errors = installability(base, cookie)
        print(f"installable (Chromium's check, service worker in control): {'yes' if not errors else 'no: ' + ', '.join(errors)}")
        ok &= not errors
        server.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
