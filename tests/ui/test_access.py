"""Who may see and change what, through the browser: sign-in failures, the cookie's flags, sign-out, another
org's reviewer, cross-origin writes, disabled users, reading without JavaScript, and time to interactive."""

import json
import urllib.request

from conftest import PASSWORD, Api, Server, run, screenshot, sign_in


def acme_session(world):
    api, key = world["api"], world["acme"]["apiKey"]
    status, body, _ = api.call("POST", "/v1/sessions", {"sourceService": "cursor"},
                               {"Authorization": "Bearer " + key})
    assert status == 201, body
    return body["session"]["id"]


def test_sign_in_failures_say_the_same_for_a_wrong_address_and_a_wrong_password(context, world, backend):
    base = world["server"].url
    page = context.new_page()
    sign_in(page, base, password="not the password at all")
    wrong_password = page.get_by_role("alert").inner_text()
    assert page.get_by_label("Email").input_value() == "ada@acme.test", "the address is kept"
    screenshot(page, "login-failed", backend)
    sign_in(page, base, email="nobody@acme.test")
    assert page.get_by_role("alert").inner_text() == wrong_password == "Wrong email or password."
    assert not [c for c in context.cookies() if c["name"] == "traceline_session"]
    response = page.request.post(base + "/login", form={"email": "ada@acme.test", "password": "nope"},
                                 headers={"Origin": base})
    assert response.status == 401


def test_the_cookie_is_http_only_strict_and_ends_with_sign_out(context, world):
    base = world["server"].url
    page = context.new_page()
    sign_in(page, base)
    page.wait_for_url(base + "/")
    (cookie,) = [c for c in context.cookies() if c["name"] == "traceline_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"], "plain http without TRACELINE_PUBLIC_URL"
    assert "traceline_session" not in page.evaluate("document.cookie"), "scripts cannot read it"
    assert page.request.get(base + "/v1/assessments").status == 200, "the cookie authenticates /v1 reads"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/login")
    stale = {"Cookie": f"traceline_session={cookie['value']}"}
    assert world["api"].call("GET", "/v1/assessments", headers=stale)[0] == 401, "the sign-in has ended"


def test_the_cookie_is_secure_behind_https(world):
    server = Server(world["database"], env={"TRACELINE_PUBLIC_URL": "https://review.example"})
    try:
        request = urllib.request.Request(
            server.url + "/login", method="POST",
            data=f"email=ada%40acme.test&password={PASSWORD.replace(' ', '+')}".encode(),
            headers={"Origin": "https://review.example", "Content-Type": "application/x-www-form-urlencoded"})

        class Keep(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            response = urllib.request.build_opener(Keep).open(request)
            headers = response.headers
        except urllib.error.HTTPError as redirect:
            headers = redirect.headers
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie, cookie
    finally:
        server.stop()


def test_another_orgs_reviewer_gets_404(context, world, backend):
    base = world["server"].url
    session = acme_session(world)
    page = context.new_page()
    sign_in(page, base, email="gus@globex.test")
    page.wait_for_url(base + "/")
    response = page.goto(base + f"/sessions/{session}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert session not in page.content()
    api = page.request.get(base + f"/v1/sessions/{session}")
    assert api.status == 404 and api.json()["code"] == "not_found"
    assert page.request.get(base + f"/sessions/{session}/timeline").status == 404


def test_cross_origin_writes_are_refused(context, world):
    base, api = world["server"].url, world["api"]
    page = context.new_page()
    sign_in(page, base)
    page.wait_for_url(base + "/")
    count = lambda: len(api.call("GET", "/v1/assessments",
                                 headers={"Authorization": "Bearer " + world["acme"]["apiKey"]})[1]["assessments"])
    before = count()
    body = json.dumps({"title": "Injected", "role": "x", "taskBrief": "x"})
    forged = page.request.post(base + "/v1/assessments", data=body,
                               headers={"Content-Type": "application/json", "Origin": "http://evil.test"})
    assert forged.status == 403 and forged.json()["code"] == "forbidden"
    nameless = page.request.post(base + "/v1/assessments", data=body, headers={"Content-Type": "application/json"})
    assert nameless.status == 403, "a cookie write that names no origin is refused too"
    same = page.request.post(base + "/v1/assessments", data=body,
                             headers={"Content-Type": "application/json", "Origin": base})
    assert same.status == 201
    # A page on another site that posts a form to Traceline: the browser keeps the strict cookie to itself.
    evil = context.new_page()
    evil.route("http://evil.test/**", lambda route: route.fulfill(content_type="text/html", body=f"""
        <form id=f method=post action="{base}/v1/assessments" enctype="text/plain">
        <input name='{{"title":"Forged","role":"x","taskBrief":"x","pad":"' value='"}}'></form>
        <script>document.getElementById('f').submit()</script>"""))
    evil.goto("http://evil.test/attack")
    evil.wait_for_load_state("load")
    assert "unauthorized" in evil.content() or "forbidden" in evil.content()
    assert count() == before + 1, "only the same-origin request created an assessment"


def test_an_admin_disables_a_reviewer_who_is_signed_out_at_once(browser, context, world, backend):
    base = world["server"].url
    admin = context.new_page()
    sign_in(admin, base)
    admin.wait_for_url(base + "/")
    admin.goto(base + "/settings")
    users = admin.get_by_role("region", name="Users")
    users.get_by_label("Email").fill("rita@acme.test")
    users.get_by_label("Name").fill("Rita Reviewer")
    admin.get_by_role("button", name="Add user").click()
    secret = users.locator("[data-secret-value]")
    secret.wait_for()
    password = secret.inner_text()
    assert len(password) >= 12
    screenshot(admin, "settings-new-user", backend)

    other = browser.new_context()
    try:
        reviewer = other.new_page()
        sign_in(reviewer, base, email="rita@acme.test", password=password)
        reviewer.wait_for_url(base + "/")
        reviewer.goto(base + "/settings")
        assert reviewer.get_by_role("button", name="Add user").count() == 0, "reviewers do not manage users"
        denied = reviewer.request.post(base + "/v1/users", data=json.dumps({"email": "x@acme.test"}),
                                       headers={"Content-Type": "application/json", "Origin": base})
        assert denied.status == 403

        admin.reload()
        admin.on("dialog", lambda dialog: dialog.accept())
        admin.get_by_role("button", name="Disable Rita Reviewer").click()
        admin.get_by_role("button", name="Enable Rita Reviewer").wait_for()
        reviewer.goto(base + "/sessions")
        assert reviewer.url.startswith(base + "/login"), "a disabled user's sign-in ends at once"
        sign_in(reviewer, base, email="rita@acme.test", password=password)
        assert "disabled" in reviewer.get_by_role("alert").inner_text()
    finally:
        other.close()


def test_reading_works_without_javascript(browser, world):
    base = world["server"].url
    session = acme_session(world)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, base)
        page.wait_for_url(base + "/")
        page.goto(base + f"/sessions/{session}")
        assert page.get_by_role("heading", name="Timeline").is_visible()
        assert page.locator("[data-metric]").count() > 0
        assert not page.get_by_role("button", name="Save my scores").is_visible(), "writing needs the script"
    finally:
        context.close()


def test_every_page_is_interactive_within_a_second(context, world):
    base = world["server"].url
    session = acme_session(world)
    page = context.new_page()
    sign_in(page, base)
    page.wait_for_url(base + "/")
    for path in ["/login", "/", "/sessions", f"/sessions/{session}", "/settings"]:
        page.goto(base + path)
        interactive = page.evaluate("performance.getEntriesByType('navigation')[0].domInteractive")
        print(f"{path}: interactive after {interactive:.0f} ms")
        assert interactive < 1000, f"{path} became interactive after {interactive:.0f} ms"
