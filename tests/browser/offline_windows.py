"""A rep's visit on a phone through random offline windows: the driver shared by
tests/browser/test_outbox.py (50 windows, in the suite) and bench/offline.py (200, the budget).

Each window cuts the network one of three ways — the server stopped (connection refused, kept-alive
sockets cut), the browser's offline switch, or every POST aborted — the rep taps writes (the visit's
summary saved again, a photo, a follow-up), then the cut mends; half the time a tap follows at once,
sometimes the app "opens again" (the outbox retries). What was tapped is counted, so the caller can
compare it with the rows on the server."""
from pathlib import Path


from tests.fixtures import photos as samples

KINDS = ("server", "offline", "route")

# The visit summary saved with `text` (its form opened if a saved step folded it away): true once sent,
# false while the step is not there or its form is still being sent (then asked again).
SAVE_SUMMARY = """(text) => {
  const step = [...document.querySelectorAll("section.step")]
    .find(s => (s.querySelector(".step-title")?.textContent || "").includes("Visit summary"));
  const form = step?.querySelector("textarea[name=text]")?.form;
  if (!form || form.hasAttribute("data-outbox-busy")) return false;
  const button = [...form.querySelectorAll("button")].find(b => b.textContent.trim() === "Save step");
  if (!button) return false;
  const folded = form.closest("details.step-edit:not([open])");
  if (folded) folded.open = true;
  form.querySelector("textarea[name=text]").value = text;
  button.click();
  return true;
}"""


class OfflineWindows:
    def __init__(self, page, server, rnd, scratch: Path):
        self.page, self.server, self.rnd = page, server, rnd
        self.jpeg = scratch / "shelf.jpg"
        self.taps = {"step": 0, "photo": 0, "follow_up": 0}
        self.cuts = dict.fromkeys(KINDS, 0)
        self.last_text = None
        step = page.locator("section.step")
        self.summary = step.filter(has=page.locator(".step-title", has_text="Visit summary"))
        self.photos = step.filter(has=page.locator(".step-title", has_text="Storefront and shelf photos"))

    def cut(self, kind: str) -> None:
        self.cuts[kind] += 1
        if kind == "server":
            self.server.stop()
        elif kind == "offline":
            self.page.context.set_offline(True)
        else:
            self.page.route("**/visits/**", lambda route: route.abort() if route.request.method == "POST"
                            else route.continue_())

    def mend(self, kind: str) -> None:
        if kind == "server":
            self.server.start()
        elif kind == "offline":
            self.page.context.set_offline(False)
        else:
            self.page.unroute("**/visits/**")

    def tap(self, n: int) -> None:
        page, what = self.page, self.rnd.choice(["step", "step", "photo", "follow_up"])
        if what == "step":
            self.last_text = f"note {n}"
            # A replay may swap the step in at any moment (htmx then gives the new textarea the focus
            # and caret of the old one): between a fill and a tap, or in the middle of a fill, which
            # then types into the swapped-in text. So the form is opened, filled and sent in one task
            # of the page, which no swap can cut; the outbox sees the same submit a tap makes.
            page.wait_for_function(SAVE_SUMMARY, arg=self.last_text, timeout=10_000)
        elif what == "photo":
            self.jpeg.write_bytes(samples.jpeg(100 + n, size=(160, 120)))
            self.photos.locator("input[data-photo-input=camera]").set_input_files(str(self.jpeg))
            page.wait_for_function(f"() => document.querySelectorAll('.photo-tile').length >= {self.taps['photo'] + 1}")
            page.wait_for_function("() => !document.querySelector('.photo-tile[data-local]')")
        else:
            form = page.locator("form.followup-form")
            form.locator("[name=text]").fill(f"follow-up {n}")
            form.get_by_role("button", name="Add follow-up").click()
        self.taps[what] += 1
        # Every tap is on the phone at once, whatever the network.
        page.wait_for_function("() => !document.querySelector('form[data-outbox-busy]')")

    def run(self, windows: int, most_taps: int = 2, pause_ms: int = 60) -> None:
        rnd = self.rnd
        for n in range(windows):
            kind = rnd.choice(KINDS)
            self.cut(kind)
            for k in range(rnd.randint(1, most_taps)):
                self.tap(n * 10 + k)
            self.page.wait_for_timeout(rnd.randint(0, pause_ms))
            self.mend(kind)
            if rnd.random() < 0.5:
                self.tap(n * 10 + 5)
            if rnd.random() < 0.3:
                self.page.evaluate("fieldOutbox.retryNow()")  # the app opened again, or Background Sync
        self.page.evaluate("fieldOutbox.retryNow()")
