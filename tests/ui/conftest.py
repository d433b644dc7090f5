"""Fixtures of the browser suite: the real `traceline` binary on a fresh database (SQLite, then PostgreSQL),
an org, an admin signed in through the real sign-in page, and Debian's Chromium driven by Playwright.

Run by `cargo xtask test` (which builds the binary, makes the venv and sets TRACELINE_BIN); by hand:
    TRACELINE_BIN=target/debug/traceline target/ui-venv/bin/pytest tests/ui
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("TRACELINE_CHROMIUM", "/usr/bin/chromium")
BINARY = os.environ.get("TRACELINE_BIN", "target/debug/traceline")
POSTGRES_URL = os.environ.get("TRACELINE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SCREENSHOTS = os.environ.get("TRACELINE_SCREENSHOTS", "target/ui-screenshots")
PASSWORD = "correct horse battery staple"


def run(*args, stdin=None, database):
    done = subprocess.run(
        [BINARY, *args, "--database-url", database],
        input=stdin, capture_output=True, text=True, env={**os.environ, "RUST_LOG": "warn"},
    )
    assert done.returncode == 0, f"traceline {' '.join(args)} failed: {done.stderr}"
    return json.loads(done.stdout)


class Server:
    """A `traceline serve` on a free port over `database`."""

    def __init__(self, database, env=None):
        self.database = database
        self.process = subprocess.Popen(
            [BINARY, "serve", "--bind", "127.0.0.1:0", "--database-url", database],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "RUST_LOG": "warn", "TRACELINE_IP_RATE_PER_MIN": "0",
                 "TRACELINE_INGEST_RATE_PER_MIN": "0", **(env or {})},
        )
        line = self.process.stdout.readline()
        assert line.startswith("traceline listening on "), f"unexpected first line {line!r}"
        self.url = line.split()[-1]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Api:
    """Plain HTTP to the server (urllib), for what candidates' tools do and for checks beside the browser."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.decode(errors="replace")
            return error.code, parsed, dict(error.headers)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request):
    """A fresh database URL on each backend; dropped afterwards."""
    if request.param == "sqlite":
        directory = tempfile.mkdtemp(prefix="traceline-ui-")
        yield os.path.join(directory, "traceline.db")
        shutil.rmtree(directory, ignore_errors=True)
    else:
        schema = "ui_" + uuid.uuid4().hex
        psql(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-c%20search_path%3D{schema}"
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def psql(sql):
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", POSTGRES_URL, "-c", sql],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"psql failed (is PostgreSQL up?): {done.stderr}"


@pytest.fixture(scope="module")
def world(backend):
    """Two orgs, each with an admin; a server over them."""
    acme = run("org", "create", "--name", "Acme Hiring", database=backend)
    globex = run("org", "create", "--name", "Globex", database=backend)
    for org, email, name in [(acme, "ada@acme.test", "Ada Admin"), (globex, "gus@globex.test", "Gus Globex")]:
        run("user", "create", "--org", org["org"]["id"], "--email", email, "--name", name, "--role", "admin",
            stdin=PASSWORD + "\n", database=backend)
    server = Server(backend)
    yield {"server": server, "api": Api(server.url), "acme": acme, "globex": globex, "database": backend}
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's `chromium` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser, world):
    """A fresh browser profile that may reach only the server: any other request fails the test."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    foreign = []

    def guard(route):
        if route.request.url.startswith(world["server"].url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield context
    context.close()
    assert not foreign, f"pages asked for other origins: {foreign}"


def sign_in(page, base, email="ada@acme.test", password=PASSWORD):
    """Signs in through the form: the one on screen, if the browser was sent there, else /login's."""
    if not page.url.startswith(base + "/login"):
        page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page, name, backend, full_page=True):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    kind = "postgres" if backend.startswith("postgres") else "sqlite"
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{kind}-{name}.png"), full_page=full_page)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, seconds=5):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
