"""A reviewer's afternoon, end to end through the real binary: sign in, set a task, issue keys, let two
candidates work through the API, read a session, score it, hire. Assertions are on what a person sees (the
hooks of UI.md), never on internals."""

import uuid
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from conftest import screenshot, sign_in

HOSTILE_PROMPT = 'Add a limiter <script>window.__xss = "prompt"</script><img src=x onerror="window.__xss = \'img\'">'
HOSTILE_PATH = 'src/<img src=x onerror="window.__xss = \'path\'">.rs'
RED_FAILURE = "running 2 tests\n\x1b[31mtest limiter::burst ... FAILED\x1b[0m\n<script>window.__xss = 'output'</script>\n"
DIFF = "--- a/src/limiter.rs\n+++ b/src/limiter.rs\n@@ -1,3 +1,3 @@\n use std::time::Instant;\n-fn refill() {}\n+fn refill(&mut self, now: Instant) {}\n"


def nav(page, name):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


# The sessions happened in the last hour, as they would have.
START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


def event(session, kind, minute, data, actor="ai", attribution=None):
    ts = (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
    envelope = {"id": str(uuid.uuid4()), "sessionId": session, "ts": ts,
                "kind": kind, "source": {"integration": "claude-code"}, "actor": {"type": actor}, "v": 1,
                "data": data}
    if attribution:
        envelope["provenance"] = {"attribution": attribution}
    return envelope


def candidate_works(api, key, careful):
    """Redeems `key` and sends a session like a tool would; returns the session id and the events sent."""
    status, redeemed, _ = api.call("POST", "/v1/candidate/redeem", {"key": key})
    assert status == 200, redeemed
    session, token = redeemed["sessionId"], redeemed["sessionToken"]
    events = [
        event(session, "session_start", 0, {"cwd": "/work/limiter"}, actor="system"),
        event(session, "prompt", 1, {"text": HOSTILE_PROMPT}, actor="human"),
        event(session, "command", 4, {"command": "cargo test", "exitCode": 101, "durationMs": 5300,
                                      "stdout": RED_FAILURE}),
        event(session, "file_diff", 6, {"path": HOSTILE_PATH, "diff": DIFF, "linesAdded": 1, "linesRemoved": 1}),
        event(session, "file_create", 8, {"path": "src/bucket.rs", "content": "pub struct Bucket;\n"},
              actor="human", attribution="likely_human"),
        event(session, "command", 9, {"command": "cargo test", "exitCode": 0 if careful else 1, "durationMs": 4100}),
        event(session, "test_run", 10, {"suite": "limiter", "passed": 12, "failed": 0 if careful else 2,
                                        "skipped": 1}),
        event(session, "decision_event", 11, {"title": "Token bucket over sliding window",
                                              "rationale": "O(1) memory per client", "impactScore": 4}),
        event(session, "ai_response", 12, {"text": "Done: the limiter refills lazily."}),
    ]
    status, body, _ = api.call("POST", "/v1/hooks/ingest/batch", {"events": events}, {"X-API-Key": token})
    assert status == 207 and all(result["status"] == 201 for result in body["results"]), body
    status, body, _ = api.call("POST", "/v1/candidate/complete", {"sessionId": session}, {"X-API-Key": token})
    assert status == 200, body
    return session, events


def test_a_reviewer_hires_after_reading_a_session(context, world, backend):
    base, api = world["server"].url, world["api"]
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    page.goto(base + "/sessions")
    assert page.url == base + "/login?next=/sessions", "signed-out visitors are sent to sign in"
    screenshot(page, "login", backend)
    sign_in(page, base)
    page.wait_for_url(base + "/sessions")

    nav(page, "Assessments").click()
    page.get_by_label("Title").fill("Rate limiter")
    page.get_by_label("Role").fill("Backend engineer")
    page.get_by_label("Task brief").fill("Add a token bucket to the API.\nKeep p99 under 5 ms.")
    page.get_by_role("button", name="Create assessment").click()
    page.wait_for_url(base + "/assessments/*")
    assessment_url = page.url

    page.get_by_label("How many").fill("2")
    page.get_by_label("Names, one per line").fill("Ada Lovelace\nGrace Hopper")
    page.get_by_role("button", name="Issue keys").click()
    page.wait_for_selector("code.key >> nth=1")
    keys = page.locator("code.key").all_inner_texts()
    assert len(keys) == 2 and all(key.startswith("PST-") for key in keys)

    ada_session, ada_events = candidate_works(api, keys[0], careful=False)
    candidate_works(api, keys[1], careful=True)

    page.goto(assessment_url)
    assert page.locator("table.cohort tbody tr").count() == 2, "both finished sessions are in the cohort"
    screenshot(page, "assessment", backend)
    nav(page, "Assessments").click()
    assert page.get_by_role("link", name="Rate limiter").is_visible()
    screenshot(page, "assessments", backend)

    nav(page, "Sessions").click()
    page.get_by_label("Search").fill("lovelace")
    page.get_by_role("button", name="Filter").click()
    assert "q=lovelace" in page.url, "filters stay in the query string"
    assert page.locator("table tbody tr").count() == 1
    screenshot(page, "sessions", backend)
    page.get_by_role("link", name="Ada Lovelace").click()
    page.wait_for_url(base + f"/sessions/{ada_session}")

    for sent in ada_events:
        item = page.locator(f"#evt-{sent['id']}")
        assert item.get_attribute("data-kind") == sent["kind"]
        assert item.get_attribute("data-actor") == sent["actor"]["type"]
    prompt = page.locator(f"#evt-{ada_events[1]['id']}")
    assert "<script>" in prompt.inner_text() and "<img" in prompt.inner_text(), "the prompt shows as text"
    diff = page.locator(f"#evt-{ada_events[3]['id']}")
    assert HOSTILE_PATH in diff.inner_text()
    assert diff.locator('[data-line="add"]').count() == 1 and diff.locator('[data-line="del"]').count() == 1
    assert diff.locator('[data-line="ctx"]').count() == 1
    failure = page.locator(f"#evt-{ada_events[2]['id']}")
    assert "exit 101" in failure.inner_text()
    assert failure.locator(".ansi-fg-1").inner_text() == "test limiter::burst ... FAILED", "ANSI red is a class"
    assert "\x1b" not in failure.inner_text()
    assert page.locator('[data-metric="commandFailRate"]').inner_text() == "1"
    percentile = float(page.locator('[data-percentile="commandFailRate"]').inner_text())
    assert percentile == 0.0, "Ada failed every command; Grace failed one of two"
    assert float(page.locator('[data-percentile="verifyIntensity"]').inner_text()) == 0.5
    decision = page.locator(f'[data-decision="{ada_events[7]["id"]}"]')
    assert decision.inner_text().startswith("Token bucket over sliding window")
    assert page.locator(".timeline img").count() == 0
    assert page.evaluate("window.__xss") is None, "nothing the candidate sent ran"
    screenshot(page, "session", backend)

    rubric = page.get_by_role("group", name="Problem decomposition")
    rubric.get_by_text("4", exact=True).click()
    page.get_by_label("Notes on Problem decomposition").fill("Split it well <b>bold</b>")
    page.get_by_role("group", name="Debugging process").get_by_text("2", exact=True).click()
    with page.expect_navigation():
        with page.expect_response(lambda r: r.url.endswith("/scores") and r.request.method == "POST") as saved:
            page.get_by_role("button", name="Save my scores").click()
    assert saved.value.status == 201
    expect(page.locator('input[name=score-problem_decomposition][value="4"]')).to_be_checked()
    expect(page.get_by_label("Notes on Problem decomposition")).to_have_value("Split it well <b>bold</b>")
    status, body, _ = api.call("GET", f"/v1/sessions/{ada_session}/scores",
                               headers={"Authorization": "Bearer " + world["acme"]["apiKey"]})
    assert status == 200 and len(body["scores"]) == 2, body
    assert {score["scoredBy"]["type"] for score in body["scores"]} == {"user"}
    assert {score["scoredBy"]["name"] for score in body["scores"]} == {"Ada Admin"}

    page.get_by_role("button", name="Hire").click()
    expect(page.locator("[data-key-status]")).to_have_text("hired")
    assert dialogs == ["Mark Ada Lovelace as hired?"], dialogs
    status, body, _ = api.call("GET", "/v1" + assessment_url[len(base):] + "/keys",
                               headers={"Authorization": "Bearer " + world["acme"]["apiKey"]})
    assert [key["status"] for key in body["keys"]] == ["hired", "completed"], body
    assert page.evaluate("window.__xss") is None

    nav(page, "Settings").click()
    screenshot(page, "settings", backend)
    page.goto(base + "/no/such/page")
    assert page.get_by_role("heading", name="Not found").is_visible()
    screenshot(page, "not-found", backend)
