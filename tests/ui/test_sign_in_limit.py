"""The per-address limit on failed sign-ins (spec §10.3), on a server of its own: after 20 failures in 10
minutes the address gets 429 with Retry-After, even with the right password."""

from conftest import PASSWORD, screenshot, sign_in


def test_the_twenty_first_failed_sign_in_is_refused(context, world, backend):
    base = world["server"].url
    page = context.new_page()
    for attempt in range(20):
        response = page.request.post(base + "/login", form={"email": "ada@acme.test", "password": f"wrong {attempt}"},
                                     headers={"Origin": base})
        assert response.status == 401, f"attempt {attempt + 1}"
    refused = page.request.post(base + "/login", form={"email": "ada@acme.test", "password": PASSWORD},
                                headers={"Origin": base})
    assert refused.status == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 600
    sign_in(page, base)
    assert "Too many failed sign-ins" in page.get_by_role("alert").inner_text()
    screenshot(page, "login-limited", backend)
