"""The reviewer's views beyond the first page of a session, in Chromium against the real binary: axe-core on
every page (light and dark), keyboard-only review and compare, the live tail, deep links beyond the first page
(with a filter on, too), metric links, cohort charts, the report (printed to PDF) and the export. Assertions are
on what a person sees and does (the hooks of UI.md, roles and names), never on internals."""

import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conftest import SCREENSHOTS, screenshot, sign_in, wait_until

START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)
# WCAG 2.1 A and AA, which UI.md asks for.
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}


def event(session, kind, seconds, data, actor="ai", attribution=None):
    ts = (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    envelope = {"id": str(uuid.uuid4()), "sessionId": session, "ts": ts, "kind": kind,
                "source": {"integration": "claude-code"}, "actor": {"type": actor}, "v": 1, "data": data}
    if attribution:
        envelope["provenance"] = {"attribution": attribution}
    return envelope


def work(session, failures):
    """A short piece of work: a prompt, failing and passing tests, a change by each side, a decision, a pause."""
    events = [
        event(session, "prompt", 0, {"text": "Add a token bucket"}, actor="human"),
        event(session, "file_diff", 60, {"path": "src/bucket.rs", "diff": "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n",
                                         "linesAdded": 1, "linesRemoved": 1}, attribution="likely_ai"),
    ]
    for n in range(failures):
        events.append(event(session, "command", 120 + n, {"command": "cargo test", "exitCode": 101}))
    events += [
        event(session, "decision_event", 200, {"title": "Token bucket over sliding window",
                                               "rationale": "O(1) memory per client", "impactScore": 4}),
        # Twelve quiet minutes.
        event(session, "file_diff", 920, {"path": "src/lib.rs", "linesAdded": 2}, actor="human",
              attribution="likely_human"),
        event(session, "command", 980, {"command": "cargo test", "exitCode": 0}),
    ]
    return events


def send(api, token, events):
    for start in range(0, len(events), 500):
        status, body, _ = api.call("POST", "/v1/hooks/ingest/batch", {"events": events[start:start + 500]},
                                   {"X-API-Key": token})
        assert status == 207 and all(r["status"] == 201 for r in body["results"]), body


@pytest.fixture(scope="module")
def review(world):
    """An assessment with three finished candidates and one still working on a long session."""
    api, key = world["api"], world["acme"]["apiKey"]
    reviewer = {"Authorization": f"Bearer {key}"}
    status, created, _ = api.call("POST", "/v1/assessments", {
        "title": "Rate limiter", "role": "Backend engineer", "taskBrief": "Add a token bucket."}, reviewer)
    assert status == 201, created
    assessment = created["assessment"]["id"]
    status, issued, _ = api.call("POST", f"/v1/assessments/{assessment}/keys", {
        "count": 4, "candidateNames": ["Ada", "Grace", "Linus", "Margaret"]}, reviewer)
    assert status == 201, issued
    sessions, tokens = [], []
    for n, issued_key in enumerate(issued["keys"]):
        status, redeemed, _ = api.call("POST", "/v1/candidate/redeem", {"key": issued_key["key"]})
        assert status == 200, redeemed
        session, token = redeemed["sessionId"], redeemed["sessionToken"]
        sessions.append(session)
        tokens.append(token)
        if n < 3:
            send(api, token, work(session, failures=n))
            status, body, _ = api.call("POST", "/v1/candidate/complete", {"sessionId": session},
                                       {"X-API-Key": token})
            assert status == 200, body
    # Margaret is still at it: 450 events, a failed command deep in them, more to come.
    long = [event(sessions[3], "prompt", n, {"text": f"step {n}"}) for n in range(440)]
    long[420] = event(sessions[3], "command", 420, {"command": "cargo test", "exitCode": 1})
    send(api, tokens[3], long)
    return {"assessment": assessment, "sessions": sessions, "live_token": tokens[3], "long": long}


@pytest.fixture
def reviewer_page(context, world):
    page = context.new_page()
    sign_in(page, world["server"].url)
    page.wait_for_url(world["server"].url + "/")
    return page


def assert_accessible(page, name):
    for scheme in ["light", "dark"]:
        page.emulate_media(color_scheme=scheme)
        results = Axe().run(page, options=WCAG)
        assert results.violations_count == 0, f"{name} ({scheme}):\n{results.generate_report()}"
    page.emulate_media(color_scheme="light")


def test_every_page_has_no_wcag_a_or_aa_violation(reviewer_page, world, review, backend, browser):
    base, page = world["server"].url, reviewer_page
    finished, live = review["sessions"][0], review["sessions"][3]
    pages = {
        "assessments": "/",
        "sessions": "/sessions",
        "settings": "/settings",
        "assessment": f"/assessments/{review['assessment']}",
        "session-view": f"/sessions/{finished}",
        "session-filtered": f"/sessions/{live}?only=failed-commands",
        "compare": f"/compare?a={review['sessions'][1]}&b={review['sessions'][2]}",
        "report": f"/sessions/{finished}/report",
        "not-found": "/sessions/no-such-session",
    }
    for name, path in pages.items():
        page.goto(base + path)
        expect(page.locator("main")).to_be_visible()
        assert_accessible(page, name)
        screenshot(page, name, backend)
    page.goto(f"{base}/sessions/{finished}")
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert_accessible(page, "keyboard help")
    screenshot(page, "keyboard-help", backend)
    signed_out = browser.new_context()
    login = signed_out.new_page()
    login.goto(base + "/login")
    assert_accessible(login, "login")
    signed_out.close()


def test_keyboard_alone_reads_a_session_and_compares_two(reviewer_page, world, review, backend):
    base, page = world["server"].url, reviewer_page
    session = review["sessions"][2]
    page.goto(f"{base}/sessions/{session}")
    focused = lambda: page.evaluate("document.activeElement.closest('li.event')?.dataset.kind || null")
    page.keyboard.press("j")
    assert focused() == "prompt"
    page.keyboard.press("j")
    assert focused() == "file_diff"
    page.keyboard.press("k")
    assert focused() == "prompt"
    page.keyboard.press("f")
    assert wait_until(lambda: focused() == "command")
    assert page.evaluate("document.activeElement.classList.contains('failed')")
    page.keyboard.press("d")
    assert wait_until(lambda: focused() == "decision_event")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # A metric's link, reached with Tab and followed with Enter, filters the timeline to what it counts.
    link = page.locator("[data-metric-link=commandFailRate]")
    for _ in range(200):
        if page.evaluate("document.activeElement.dataset.metricLink === 'commandFailRate'"):
            break
        page.keyboard.press("Tab")
    link_text = link.inner_text()
    assert link_text == "Show the failed commands"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/sessions/{session}?only=failed-commands")
    kinds = page.locator("li.event").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == ["command", "command"]
    assert page.locator("li.event.failed").count() == 2
    screenshot(page, "session-failed-commands", backend)

    # Picking two rows of the cohort table and comparing them, from the keyboard.
    page.goto(f"{base}/assessments/{review['assessment']}")
    for name in ["Ada", "Linus"]:
        box = page.get_by_role("checkbox", name=f"Pick {name} to compare")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    compare = page.get_by_role("button", name="Compare the two picked")
    expect(compare).to_be_enabled()
    compare.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/compare?a=*")
    expect(page.get_by_role("heading", name="Compare two sessions")).to_be_visible()
    expect(page.locator("[data-metric=commandFailRate]")).to_have_count(2)


def test_a_deep_link_beyond_the_first_page_scrolls_to_the_event_with_a_filter_on_too(
        reviewer_page, world, review, backend):
    base, page = world["server"].url, reviewer_page
    live, long = review["sessions"][3], review["long"]
    deep = long[400]["id"]
    page.goto(f"{base}/sessions/{live}#evt-{deep}")
    target = page.locator(f"#evt-{deep}")
    expect(target).to_be_visible()
    assert "targeted" in target.get_attribute("class")
    assert target.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    screenshot(page, "deep-link", backend, full_page=False)
    # The events between the first page and the window load on demand, each once.
    gap = page.get_by_role("link", name="Load the events before this one")
    while gap.count():
        before = page.locator("li.event").count()
        gap.click()
        assert wait_until(lambda: page.locator("li.event").count() > before)
    ids = page.locator("li.event").evaluate_all("items => items.map(i => i.id)")
    assert len(ids) == len(set(ids)), "no event twice"
    assert ids[:len(long)] == [f"evt-{e['id']}" for e in long][:len(ids)]

    # With a filter on, a deep link to an event of the filter's set still finds it…
    failed = long[420]["id"]
    page.goto(f"{base}/sessions/{live}?only=commands#evt-{failed}")
    expect(page.locator(f"#evt-{failed}")).to_be_visible()
    # …and one outside it says where it can be seen.
    page.goto(f"{base}/sessions/{live}?only=commands#evt-{deep}")
    notice = page.locator("[data-jump-status]")
    expect(notice).to_contain_text("not among the events shown")
    notice.get_by_role("link", name="Show it in the whole timeline").click()
    expect(page.locator(f"#evt-{deep}")).to_be_visible()


def test_the_live_tail_shows_new_events_within_five_seconds_and_stops_when_the_session_ends(
        reviewer_page, world, review, backend):
    base, page, api = world["server"].url, reviewer_page, world["api"]
    live, token = review["sessions"][3], review["live_token"]
    page.goto(f"{base}/sessions/{live}?only=failed-commands")
    expect(page.locator("[data-session-status]")).to_have_text("in progress")
    polls = []
    page.on("request", lambda request: "/timeline" in request.url and polls.append(time.time()))
    fresh = event(live, "command", 3000, {"command": "cargo test --release", "exitCode": 1})
    ignored = event(live, "prompt", 3001, {"text": "not a failed command"})
    sent_at = time.time()
    send(api, token, [fresh, ignored])
    expect(page.locator(f"#evt-{fresh['id']}")).to_be_visible(timeout=5000)
    assert time.time() - sent_at < 5
    assert page.locator(f"#evt-{ignored['id']}").count() == 0, "the tail keeps the filter"
    status, body, _ = api.call("POST", "/v1/candidate/complete", {"sessionId": live}, {"X-API-Key": token})
    assert status == 200, body
    expect(page.locator("[data-session-status]")).to_have_text("ended", timeout=5000)
    expect(page.locator("[data-live-status]")).to_have_text("The session has ended.")
    stopped = len(polls)
    page.wait_for_timeout(6000)
    assert len(polls) == stopped, "no polling once the session has ended"
    screenshot(page, "live-tail-ended", backend, full_page=False)


def test_charts_report_and_export(reviewer_page, world, review, backend):
    base, page = world["server"].url, reviewer_page
    session = review["sessions"][1]
    page.goto(f"{base}/sessions/{session}")
    chart = page.locator("[data-chart=commandFailRate]")
    assert chart.locator("svg[role=img]").get_attribute("aria-label").startswith("Command failure rate across")
    reviewer = {"Authorization": f"Bearer {world['acme']['apiKey']}"}
    _, stats, _ = world["api"].call("GET", f"/v1/sessions/{session}/cohort-stats", headers=reviewer)
    expect(chart).to_contain_text(f"n = {stats['cohortStats']['sessionCount']}")
    words = page.locator("[data-percentile-words=commandFailRate]").inner_text()
    percentile = page.locator("[data-percentile=commandFailRate]").inner_text()
    assert words.startswith("Better than ") and words.endswith(f"= {percentile}."), words

    with page.expect_download() as download:
        page.get_by_role("link", name="Export NDJSON").click()
    path = download.value.path()
    with open(path) as lines:
        exported = [json.loads(line) for line in lines]
    _, timeline, _ = world["api"].call("GET", f"/v1/sessions/{session}/timeline", headers=reviewer)
    assert [e["id"] for e in exported] == [e["id"] for e in timeline["events"]]

    page.get_by_role("link", name="Report").click()
    page.wait_for_url(f"{base}/sessions/{session}/report")
    for heading in ["Metrics", "Decisions", "Scores", "Timeline, condensed"]:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    screenshot(page, "report-print", backend)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    kind = "postgres" if backend.startswith("postgres") else "sqlite"
    page.pdf(path=os.path.join(SCREENSHOTS, f"{kind}-report.pdf"), format="A4")
