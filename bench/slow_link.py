"""Slow-link budgets (issue 12), on an emulated 400 kbps / 400 ms link:
- Today opened again: first content ≤ 1.0 s (from the phone, then refreshed);
- a step save acknowledged on screen ≤ 100 ms, whatever the network;
- a repeat visit to Today transfers ≤ 30 KB.

The demo company on loopback behind a link made slow in the server itself (every request waits one
400 ms round trip, every answer trickles out at 400 kbit/s), so the service worker's own fetches
are slowed too — Chromium's throttling would not reach them. Bytes are counted as the server sends
them (headers and body, compressed as sent). Yardstick from the same run: Today's first, cold load
(no service worker yet, nothing cached) on the same link.

    .venv/bin/python bench/slow_link.py
"""
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.benchkit import CHROMIUM, CHROMIUM_ARGS, demo_app, serve, session_cookie  # noqa: E402

RTT_S = 0.4
BYTES_PER_S = 400_000 / 8
REP = "rep01"
RUNS = 5
DEBUG = "--debug" in sys.argv

ACK_SCRIPT = """(() => {
    window.__acks = []; let tapped = null;
    document.addEventListener('click', () => { tapped = performance.now(); }, true);
    new MutationObserver(() => {
        if (tapped !== null) { window.__acks.push(performance.now() - tapped); tapped = null; }
    }).observe(document, {subtree: true, childList: true, characterData: true});
})()"""


class SlowLink:
    """WSGI middleware: one round trip before the answer starts, then the bytes at the link's rate."""

    def __init__(self, app):
        self.app = app
        self.sent = 0
        self.active = 0
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def _count(self, n: int) -> None:
        with self.lock:
            self.sent += n
            self.last = time.monotonic()

    def __call__(self, environ, start_response):
        with self.lock:
            self.active += 1
        time.sleep(RTT_S)

        def counted_start(status, headers, exc_info=None):
            self._count(len(status) + sum(len(k) + len(v) + 4 for k, v in headers) + 12)
            if DEBUG:
                print("  ", environ["PATH_INFO"], environ.get("QUERY_STRING", ""), status,
                      dict(headers).get("Content-Length"), dict(headers).get("Content-Encoding"))
            return start_response(status, headers, exc_info)

        body = self.app(environ, counted_start)
        try:
            for chunk in body:
                self._count(len(chunk))
                time.sleep(len(chunk) / BYTES_PER_S)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()  # Flask tears the request down here
            with self.lock:
                self.active -= 1
                self.last = time.monotonic()

    def quiet(self, for_s: float = 1.5, timeout: float = 60) -> None:
        """Wait until nothing has been asked or sent for `for_s` (the worker's refreshes are done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.active == 0 and time.monotonic() - self.last > for_s:
                    return
            time.sleep(0.1)


def visit_in_progress(app) -> int:
    """A routine visit (its summary is a text step) the rep has just checked in at, as the check-in
    request would make it; a demo visit already in progress is cancelled first (one at a time)."""
    from datetime import date

    from field import transaction
    from field.auth.models import User
    from field.core import now
    from field.extensions import db
    from field.stores.models import Store
    from field.visits import operations as ops
    from field.visits.models import Visit, VisitStatus, VisitType
    with app.test_request_context():
        rep = db.session.execute(select(User).where(User.login == REP)).scalar_one()
        for busy in db.session.execute(select(Visit).where(Visit.rep_id == rep.id,
                                                           Visit.status == VisitStatus.IN_PROGRESS)).scalars():
            ops.cancel(busy, rep, "bench: one visit at a time")
        store = db.session.execute(select(Store).where(Store.owner_rep_id == rep.id)).scalars().first()
        routine = db.session.execute(select(VisitType).where(VisitType.code == "routine")).scalar_one()
        visit = Visit(rep=rep, store=store, visit_type=routine, planned_for=date.today(),
                      status=VisitStatus.PLANNED, flags=[])
        db.session.add(visit)
        db.session.flush()
        ops.check_in(rep, store, routine, position=store.point, accuracy_m=10, position_at=now(), reason="",
                     client_key=None, visit=visit)
        transaction.commit()
        return visit.id


def first_content_ms(page) -> float:
    """First contentful paint of the page in view, from its navigation's start (reported a frame or
    two after it happens: wait for it)."""
    return page.evaluate("""() => new Promise(done => {
        new PerformanceObserver(list => {
            const e = list.getEntriesByName('first-contentful-paint')[0];
            if (e) done(e.startTime);
        }).observe({type: 'paint', buffered: true});
        setTimeout(() => done(NaN), 10000);
    })""")


def main() -> int:
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory(prefix="slow-link-") as tmp:
        app = demo_app(tmp)
        visit_id = visit_in_progress(app)
        link = SlowLink(app)
        base, server = serve(link)
        cookie = session_cookie(app, REP)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 412, "height": 839}, is_mobile=True, has_touch=True,
                                          locale="zh-CN", base_url=base)
            context.add_cookies([{"name": "session", "value": cookie, "url": base}])
            page = context.new_page()
            page.add_init_script(ACK_SCRIPT)

            page.goto("/today", timeout=120_000)
            cold = first_content_ms(page)
            page.wait_for_function("() => document.documentElement.dataset.offlineDay === 'ready'", timeout=300_000)
            link.quiet()

            again, transferred = [], []
            for _ in range(RUNS):
                page.goto("/", timeout=120_000)  # elsewhere in the app, then Today again
                link.quiet()
                if DEBUG:
                    print("-- Today again")
                before = link.sent
                page.goto("/today", timeout=120_000)
                again.append(first_content_ms(page))
                link.quiet()
                transferred.append((link.sent - before) / 1024)

            page.goto(f"/visits/{visit_id}", timeout=120_000)
            page.wait_for_function("() => window.fieldOutbox !== undefined")
            link.quiet()
            card = page.locator("section.step").filter(has=page.locator("textarea[name=text]")).first  # the summary
            for n in range(RUNS):
                closed = card.locator("details.step-edit:not([open]) > summary")
                if closed.count():
                    closed.click()
                    page.evaluate("window.__acks.pop()")  # opening the form is not a save
                card.locator("textarea[name=text]").fill(f"slow link note {n}")
                card.locator("button[type=submit]").first.click()
                page.wait_for_function("() => !document.querySelector('form[data-outbox-busy]')", timeout=60_000)
                link.quiet()
            acks = page.evaluate("window.__acks")
            browser.close()
        server.shutdown()

    fc, kb, ack = statistics.median(again), statistics.median(transferred), statistics.median(acks)
    print(f"slow link {RTT_S * 1000:.0f} ms round trip, {BYTES_PER_S * 8 / 1000:.0f} kbit/s; {RUNS} runs each")
    print(f"  Today opened again, first content: median {fc:.0f} ms (budget 1000 ms), max {max(again):.0f} ms")
    print(f"  yardstick: Today's first load (nothing on the phone yet): first content {cold:.0f} ms "
          f"(ratio {fc / cold:.2f}x)")
    print(f"  repeat visit to Today transfers: median {kb:.1f} KB (budget 30 KB), max {max(transferred):.1f} KB")
    print(f"  step save acknowledged on screen: median {ack:.0f} ms (budget 100 ms), max {max(acks):.0f} ms")
    ok = fc <= 1000 and kb <= 30 and ack <= 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
