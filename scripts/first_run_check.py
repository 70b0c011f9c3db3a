"""The newcomer's first run, as CI checks it: the README's ``scripts/run`` on a fresh clone.

Clones this repository's current commit (HEAD) into a new temporary folder and runs
``scripts/run`` there on free ports, in a process group of its own and with none of the
caller's VOUCHER_* settings, so it makes its own ``.venv`` (the app and the demo extra, not
the test dependencies), migrates, loads the demo and serves it with the local fake Stripe.
Then, over HTTP like a browser without JavaScript:

1. ``GET /healthz`` answers 200 (waiting up to --timeout seconds: the install comes first),
   and the clone's ``.venv`` holds the demo extra (localstripe) but not the tests' (pytest);
2. every demo user (``flask --app voucher demo users`` in the clone: the demo's own list) logs
   in with the login form and ``demo-password``, gets a 303 to a page that shows their name,
   and logs out;
3. ``client@example.fi`` opens the self-shares page, presses the first "pay" button and gets
   the card payment page ("Korttimaksu"), which loads Stripe.js from the local fake (and the
   fake serves it);
4. the demo client Aino Virtanen logs in with strong identification through the local test
   identity provider (the login page's link, the IdP's "choose who you are" and "continue"
   pages, the ACS) and logs out with single logout (the IdP and back).

Finally it stops everything it started (the whole process group: the script, gunicorn, the
fake Stripe, the test identity provider), checks that the ports are free again and removes
the folder. On a failure it prints the tail of the server's log and exits 1. Only the
standard library: any python3 runs it.

    python3 scripts/first_run_check.py [--timeout 600] [--keep]      (.ci/run runs it)
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-password"  # noqa: S105  (the demo's, printed by scripts/run)
PAYING_CLIENT = "client@example.fi"
#: Settings of the caller that a newcomer would not have (the run must not depend on them).
CALLER_ONLY = ("PORT", "STRIPE_PORT", "TEST_IDP_PORT", "VIRTUAL_ENV", "PYTHONPATH",
               "PYTHONHOME")
IDENTIFIED_CLIENT = "Aino Virtanen"


class CheckFailed(Exception):
    """One step of the first run did not do what the README promises."""


def step(message: str) -> None:
    print(f"first run: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Page(HTMLParser):
    """What the check reads from a page: its forms, first h1, scripts and visible text."""

    def __init__(self, body: str, path: str):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.forms: list[dict] = []
        self.scripts: list[str] = []
        self.h1 = ""
        self.text: list[str] = []
        self._in_h1 = False
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            # A form without an action posts to the page itself.
            self.forms.append({"action": attrs.get("action") or self.path,
                               "method": (attrs.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "h1" and not self.h1:
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h1:
            self.h1 += data

    def form(self, action: str) -> dict | None:
        return next((f for f in self.forms if f["action"] == action), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # every redirect is asserted, never followed blindly


class Browser:
    """One visitor: a cookie jar, no JavaScript, redirects returned as they are."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, method: str, path: str, fields: dict | None = None):
        url = urllib.parse.urljoin(self.base, path)
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback)
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode(errors="replace")

    def get(self, path: str, expect: int = 200):
        status, headers, body = self.request("GET", path)
        if status != expect:
            raise CheckFailed(f"GET {path} answered {status}, not {expect}")
        return headers, body

    def post(self, path: str, fields: dict, expect: int = 303) -> str:
        """POST a form; return where its 303 points."""
        status, headers, _body = self.request("POST", path, fields)
        if status != expect:
            raise CheckFailed(f"POST {path} answered {status}, not {expect}")
        return urllib.parse.urlsplit(urllib.parse.urljoin(self.base, headers["Location"])).path

    def log_in(self, email: str, name: str) -> Page:
        _headers, body = self.get("/login")
        form = Page(body, "/login").form("/login")
        if form is None or "csrf_token" not in form["fields"]:
            raise CheckFailed("the login page has no login form with a CSRF token")
        target = self.post("/login", {"csrf_token": form["fields"]["csrf_token"],
                                      "email": email, "password": DEMO_PASSWORD})
        if target.startswith("/login/"):
            raise CheckFailed(f"{email} is asked for a second step ({target}); the demo users "
                              "log in with the password alone")
        _headers, body = self.get(target)
        page = Page(body, target)
        if name not in "".join(page.text) or page.form("/logout") is None:
            raise CheckFailed(f"after logging in, {target} does not show {name} logged in")
        return page

    def log_out(self, page: Page) -> None:
        self.post("/logout", {"csrf_token": page.form("/logout")["fields"]["csrf_token"]})
        _headers, body = self.get("/")
        if Page(body, "/").form("/logout") is not None:
            raise CheckFailed("still logged in after logging out")


class FirstRun:
    def __init__(self, timeout: float, keep: bool):
        self.timeout = timeout
        self.keep = keep
        self.folder = Path(tempfile.mkdtemp(prefix="voucher-first-run-"))
        self.clone = self.folder / "voucher"
        self.log_path = self.folder / "scripts-run.log"
        self.port = free_port()
        self.stripe_port = free_port()
        while self.stripe_port == self.port:
            self.stripe_port = free_port()
        self.idp_port = free_port()
        while self.idp_port in (self.port, self.stripe_port):
            self.idp_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = self._newcomer_env()

    def _newcomer_env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("VOUCHER_") and k not in CALLER_ONLY}
        if os.environ.get("VIRTUAL_ENV"):  # an activated venv's python must not be found
            venv_bin = str(Path(os.environ["VIRTUAL_ENV"]) / "bin")
            env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                          if p != venv_bin)
        return env

    def clone_head(self) -> None:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(self.clone)],
                       check=True)
        subprocess.run(["git", "-C", str(self.clone), "checkout", "--quiet", "--detach", commit],
                       check=True)
        step(f"cloned {commit[:12]} into {self.clone}")

    def start(self) -> None:
        self.env["STRIPE_PORT"] = str(self.stripe_port)
        self.env["TEST_IDP_PORT"] = str(self.idp_port)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["scripts/run", "--port", str(self.port)], cwd=self.clone, env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # setsid: one process group to stop at the end
        step(f"scripts/run --port {self.port} (fake Stripe on {self.stripe_port}, test "
             f"identity provider on {self.idp_port}), "
             f"log {self.log_path}")

    def wait_healthy(self) -> None:
        started = time.monotonic()
        while time.monotonic() - started < self.timeout:
            if self.process.poll() is not None:
                raise CheckFailed(f"scripts/run ended with exit {self.process.returncode} "
                                  "before serving")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        step(f"GET /healthz 200 after {time.monotonic() - started:.0f} s "
                             "(fresh .venv, install, migrations, demo)")
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(1)
        raise CheckFailed(f"no 200 from /healthz within {self.timeout:.0f} s")

    def check_venv(self) -> None:
        """scripts/run made the clone's own .venv with the demo extra, without the tests'."""
        probe = ("import importlib.util as u; "
                 "print(u.find_spec('localstripe') is not None, u.find_spec('pytest') is None)")
        result = subprocess.run([".venv/bin/python", "-c", probe], cwd=self.clone,
                                capture_output=True, text=True, check=False)
        if result.stdout.split() != ["True", "True"]:
            raise CheckFailed("the clone's .venv should hold localstripe and not pytest: "
                              f"{result.stdout.strip()} {result.stderr.strip()}")
        step("the clone's own .venv has the demo extra (localstripe) and no test dependencies")

    def demo_users(self) -> list[tuple[str, str]]:
        result = subprocess.run([".venv/bin/flask", "--app", "voucher", "demo", "users"],
                                cwd=self.clone, env={**self.env, "VOUCHER_ENV": "development"},
                                capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise CheckFailed(f"flask demo users failed: {result.stderr.strip()}")
        users = [tuple(line.split("\t")[:2]) for line in result.stdout.splitlines() if line]
        if not users:
            raise CheckFailed("flask demo users listed nobody")
        return users

    def check_logins(self) -> None:
        users = self.demo_users()
        for email, name in users:
            browser = Browser(self.base)
            browser.log_out(browser.log_in(email, name))
            step(f"{email} logs in (303, their page shows {name}) and out")
        if PAYING_CLIENT not in {email for email, _name in users}:
            raise CheckFailed(f"{PAYING_CLIENT} is not among the demo users")
        self.names = dict(users)

    def check_card_payment_page(self) -> None:
        browser = Browser(self.base)
        browser.log_in(PAYING_CLIENT, self.names[PAYING_CLIENT])
        _headers, body = browser.get("/self-shares/")
        form = Page(body, "/self-shares/").form("/self-shares/pay")
        if form is None:
            raise CheckFailed("the self-shares page has no pay button (is the fake Stripe "
                              "configured, and does the demo client owe anything?)")
        fields = {k: form["fields"].get(k, "") for k in ("csrf_token", "provider_id", "period")}
        target = browser.post("/self-shares/pay", fields)
        headers, body = browser.get(target)
        page = Page(body, target)
        if page.h1.strip() != "Korttimaksu":
            raise CheckFailed(f"{target} has the heading {page.h1.strip()!r}, not 'Korttimaksu'")
        fake = f"http://127.0.0.1:{self.stripe_port}/"
        stripe_js = [src for src in page.scripts if src.startswith(fake)]
        if not stripe_js:
            raise CheckFailed(f"{target} loads no script from the fake Stripe ({fake}): "
                              f"{page.scripts}")
        if fake.rstrip("/") not in headers.get("Content-Security-Policy", ""):
            raise CheckFailed(f"the page's CSP does not allow the fake Stripe ({fake})")
        with urllib.request.urlopen(stripe_js[0], timeout=30) as response:  # noqa: S310
            if response.status != 200 or b"Stripe" not in response.read():
                raise CheckFailed(f"the fake Stripe does not serve {stripe_js[0]}")
        step(f"{PAYING_CLIENT} pays a month: {target} (Korttimaksu) loads {stripe_js[0]}")

    def check_strong_identification(self) -> None:
        browser = Browser(self.base)
        _headers, body = browser.get("/login")
        if "/auth/saml/login" not in body:
            raise CheckFailed("the login page offers no strong identification")
        idp = f"http://127.0.0.1:{self.idp_port}"

        def redirected(method, url, fields=None, to=""):
            status, headers, _body = browser.request(method, url, fields)
            location = urllib.parse.urljoin(self.base, headers.get("Location") or "")
            if status != 303 or not location.startswith(to):
                raise CheckFailed(f"{method} {url} answered {status} to {location!r}, not a "
                                  f"303 to {to}")
            return location

        chooser = redirected("GET", "/auth/saml/login", to=f"{idp}/sso?")
        status, _headers, body = browser.request("GET", chooser)
        form = Page(body, "/sso").form("/sso/answer")
        person = re.search(r'name="person" value="(\d+)">' + re.escape(IDENTIFIED_CLIENT), body)
        if status != 200 or form is None or person is None:
            raise CheckFailed(f"the test identity provider does not offer {IDENTIFIED_CLIENT}")
        status, _headers, body = browser.request(
            "POST", f"{idp}/sso/answer", {**form["fields"], "person": person.group(1)})
        answer = Page(body, "/sso/answer")
        if status != 200 or not answer.forms or "SAMLResponse" not in answer.forms[0]["fields"]:
            raise CheckFailed("the test identity provider gave no answer to post back")
        home = redirected("POST", answer.forms[0]["action"], answer.forms[0]["fields"],
                          to=self.base)
        _headers, body = browser.get(urllib.parse.urlsplit(home).path)
        page = Page(body, "/")
        logout = page.form("/auth/saml/logout")
        if IDENTIFIED_CLIENT not in "".join(page.text) or logout is None:
            raise CheckFailed(f"after strong identification, {IDENTIFIED_CLIENT} is not "
                              "logged in")
        at_idp = redirected("POST", "/auth/saml/logout", logout["fields"], to=f"{idp}/slo?")
        back = redirected("GET", at_idp, to=f"{self.base}/auth/saml/slo?")
        redirected("GET", back, to=f"{self.base}/")
        _headers, body = browser.get("/")
        if Page(body, "/").form("/auth/saml/logout") is not None:
            raise CheckFailed("still logged in after the single logout")
        step(f"{IDENTIFIED_CLIENT} logs in with strong identification through the test "
             f"identity provider ({idp}) and out with single logout")

    def stop(self) -> list[str]:
        """Stop the process group; return what is still wrong (processes or ports left)."""
        problems = []
        if self.process is not None:
            group = self.process.pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            try:
                self.process.wait(timeout=45)  # gunicorn's graceful shutdown takes up to 30 s
            except subprocess.TimeoutExpired:
                problems.append("scripts/run did not end within 45 s of TERM")
            deadline = time.monotonic() + 15
            while _group_alive(group) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _group_alive(group):
                problems.append("processes of scripts/run were left running (killed)")
                os.killpg(group, signal.SIGKILL)
            self.process.wait()
            busy = [p for p in (self.port, self.stripe_port, self.idp_port) if port_in_use(p)]
            if busy:
                problems.append(f"ports still answer after the stop: {busy}")
        return problems

    def remove(self) -> None:
        if self.keep:
            step(f"kept {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for /healthz (the install comes first)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.monotonic()
    run = FirstRun(args.timeout, args.keep)
    failure = None
    try:
        run.clone_head()
        run.start()
        run.wait_healthy()
        run.check_venv()
        run.check_logins()
        run.check_card_payment_page()
        run.check_strong_identification()
    except (CheckFailed, subprocess.CalledProcessError, OSError) as exc:
        failure = str(exc)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        problems = run.stop()
        if failure is None and not problems:
            step("stopped everything it started; its ports are free")
        failure_text = "; ".join(filter(None, [failure, *problems]))
        if failure_text:
            print(f"first run: FAILED: {failure_text}", flush=True)
            print(f"---- the last lines of scripts/run's output ({run.log_path}) ----")
            print(run.log_tail(), flush=True)
            print("----")
        run.remove()
    if failure_text:
        return 1
    step(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
