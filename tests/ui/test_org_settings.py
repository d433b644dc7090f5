"""An admin's org settings in the browser: a webhook added through the settings page receives a signed test event
whose delivery shows in its log, retention is set and cleared, and erasing a candidate asks first and says what
it erased."""

import hashlib
import hmac
import http.server
import threading

from playwright.sync_api import expect

from conftest import Server, free_port, screenshot, sign_in, wait_until
from test_review_views import assert_accessible


class Receiver(http.server.BaseHTTPRequestHandler):
    """Keeps every POST (headers, looked up in any case, and raw body) and answers 204."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_admin_manages_webhooks_retention_and_erasure(context, world, backend):
    Receiver.received.clear()
    port = free_port()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    # Its own server: the receiver is on 127.0.0.1, which only TRACELINE_WEBHOOK_ALLOW_PRIVATE lets webhooks reach.
    server = Server(world["database"], env={"TRACELINE_WEBHOOK_ALLOW_PRIVATE": "1"})
    try:
        base = server.url
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      else route.abort())
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        sign_in(page, base)
        page.wait_for_url(base + "/")
        page.goto(base + "/settings")

        page.get_by_label("URL").fill(f"http://127.0.0.1:{port}/ats")
        page.get_by_role("button", name="Add webhook").click()
        secret = page.locator("[data-secret-value]").filter(has_text="whsec_")
        expect(secret).to_be_visible()
        whsec = secret.inner_text()

        page.reload()
        expect(page.get_by_text(f"http://127.0.0.1:{port}/ats")).to_be_visible()
        page.get_by_role("button", name=f"Send a test event to http://127.0.0.1:{port}/ats").click()
        page.wait_for_load_state("load")
        expect(page.locator("td code", has_text="webhook.test")).to_be_visible()
        expect(page.locator(".badge.ok", has_text="delivered")).to_be_visible()
        assert wait_until(lambda: Receiver.received)
        headers, body = Receiver.received[0]
        t, v1 = (part.split("=", 1)[1] for part in headers["Traceline-Signature"].split(","))
        assert hmac.compare_digest(v1, hmac.new(whsec.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest())

        days = page.get_by_label("Keep sessions for (days; empty keeps them for ever)")
        days.fill("30")
        page.get_by_role("button", name="Save retention").click()
        expect(page.get_by_text("Sessions are deleted 30 days after they end")).to_be_visible()
        page.get_by_label("Keep sessions for (days; empty keeps them for ever)").fill("")
        page.get_by_role("button", name="Save retention").click()
        expect(page.get_by_text("Sessions are kept for ever.")).to_be_visible()

        page.get_by_label("Candidate's e-mail").fill("nobody@acme.test")
        page.get_by_role("button", name="Erase").click()
        expect(page.get_by_role("status")).to_have_text("Erased 0 session(s) and 0 key(s).")
        assert dialogs == ["Erase this candidate and every session of theirs? It cannot be undone."], dialogs
        screenshot(page, "settings-org", backend)
        # With a webhook and its log on the page too, in light and dark.
        assert_accessible(page, "settings with a webhook")
    finally:
        server.stop()
        receiver.shutdown()
