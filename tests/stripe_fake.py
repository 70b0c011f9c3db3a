"""The local fake Stripe (localstripe) for tests: started once per session from
scripts/localstripe_server.py on 127.0.0.1 and a free port, state in memory, cleared between
tests; plus helpers that act as the browser (card tokens, 3-D Secure) and as Stripe's webhooks
(signed events); and fault proxies (scripts/fault_proxy.py) that make calls fail on the way to
the fake or back (``stripe_faults``), or on the way to any server (``fault_proxy``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "sk_test_voucher"
PUBLISHABLE_KEY = "pk_test_voucher"
WEBHOOK_SECRET = "whsec_test_voucher"


STARTUP_SECONDS = 60


def _start_server(script: str, arguments: list[str], directory: Path,
                  name: str) -> tuple[str, subprocess.Popen]:
    """Start one of our loopback servers (scripts/SCRIPT with --port 0) and wait until it
    listens: its URL and its process. Its stderr goes to DIRECTORY/NAME.log."""
    directory.mkdir(parents=True, exist_ok=True)
    port_file = directory / f"{name}.port"
    port_file.unlink(missing_ok=True)
    with open(directory / f"{name}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / script), *arguments, "--port", "0",
             "--port-file", str(port_file)], stdout=subprocess.DEVNULL, stderr=log)
    # Starting Python and importing pysaml2 or localstripe takes about a second alone; four
    # test workers on two cores have made it take over ten.
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text():
            return f"http://127.0.0.1:{port_file.read_text()}", process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    stop_process(process)
    log_text = (directory / f"{name}.log").read_text()
    pytest.fail(f"{name} did not start in {STARTUP_SECONDS} s: {log_text}")


def stop_process(process: subprocess.Popen) -> None:
    """End a server started here (SIGTERM, then SIGKILL after 10 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    """The fake's base URL; the process lives for the test session."""
    url, process = _start_server("localstripe_server.py", [],
                                 tmp_path_factory.mktemp("localstripe"), "localstripe")
    try:
        yield url
    finally:
        stop_process(process)


@pytest.fixture
def stripe_fake(localstripe_url):
    """The fake, emptied for this test (its data, idempotency keys and webhook endpoints)."""
    requests.delete(f"{localstripe_url}/_config/data", timeout=5).raise_for_status()
    return localstripe_url


def forget_idempotency_keys(url: str) -> None:
    """The fake forgets every Idempotency-Key, as Stripe does 24 hours after a key's first
    use: a retry with an old key then creates anew. Works through a fault proxy too."""
    requests.delete(f"{url}/_config/idempotency", timeout=5).raise_for_status()


class Faults:
    """The control API of one fault proxy (scripts/fault_proxy.py) at ``url``."""

    def __init__(self, url: str, process: subprocess.Popen | None = None):
        self.url = url
        self.process = process

    def add(self, method: str | None, path: str, fault: str, times: int = 1,
            seconds: float | None = None, status: int | None = None, **extra) -> dict:
        """Give the next ``times`` requests (0: all) of ``method`` (None: any) whose path the
        regex ``path`` matches ``fault``: error, hang, cut, error_after, hang_after or
        cut_after. ``seconds`` is a hang's length (default 30), ``status`` an error's
        (default 500); ``error_type`` and ``message`` may change the error's body."""
        rule = {"method": method, "path": path, "fault": fault, "times": times,
                "seconds": seconds, "status": status, **extra}
        response = requests.post(f"{self.url}/_faults", timeout=5,
                                 json={k: v for k, v in rule.items() if v is not None})
        assert response.status_code == 201, response.text
        return response.json()

    def rules(self) -> list[dict]:
        """The rules still in force, with the ``times`` left."""
        response = requests.get(f"{self.url}/_faults", timeout=5)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        """Remove every rule (requests held by a hang stay held)."""
        requests.delete(f"{self.url}/_faults", timeout=5).raise_for_status()

    def log(self) -> list[dict]:
        """The requests seen, oldest first: method, path, query, idempotency_key, fault (None
        when none applied), upstream_status (None when not forwarded), status (what the
        client got; None for a hang or a cut)."""
        response = requests.get(f"{self.url}/_faults/log", timeout=5)
        response.raise_for_status()
        return response.json()

    def clear_log(self) -> None:
        requests.delete(f"{self.url}/_faults/log", timeout=5).raise_for_status()

    def reset(self) -> None:
        """No rules, an empty log."""
        self.clear()
        self.clear_log()


def start_fault_proxy(upstream: str, directory: Path) -> tuple[str, subprocess.Popen]:
    """A fault proxy in front of ``upstream`` on a free loopback port: its URL and process
    (end it with ``stop_process``; the ``fault_proxy`` fixture does that for you). Its port
    file and log go in ``directory``."""
    return _start_server("fault_proxy.py", ["--upstream", upstream], directory, "fault-proxy")


@pytest.fixture(scope="session")
def stripe_proxy_url(localstripe_url, tmp_path_factory):
    """A fault proxy in front of the fake, for the session; use it through ``stripe_faults``
    (which resets it for each test)."""
    url, process = start_fault_proxy(localstripe_url, tmp_path_factory.mktemp("stripe-proxy"))
    try:
        yield url
    finally:
        stop_process(process)


@pytest.fixture
def stripe_faults(stripe_proxy_url, stripe_fake):
    """The fault proxy in front of the (emptied) fake: a ``Faults`` whose ``url`` is the API
    base to give the code under test. No rules and an empty log before and after the test."""
    faults = Faults(stripe_proxy_url)
    faults.reset()
    yield faults
    faults.reset()


@pytest.fixture
def fault_proxy(tmp_path):
    """Start fault proxies in front of any HTTP server for this test, e.g. the live app for
    webhook deliveries: ``fault_proxy(live_url)`` gives a ``Faults`` (``.url`` to use instead
    of the server's); every proxy started is ended after the test."""
    started: list[subprocess.Popen] = []

    def start(upstream: str) -> Faults:
        url, process = start_fault_proxy(upstream, tmp_path / f"fault-proxy-{len(started)}")
        started.append(process)
        return Faults(url, process)

    yield start
    for process in started:
        stop_process(process)


def stripe_config(url: str) -> dict:
    return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": url,
            "STRIPE_JS_URL": f"{url}/js.stripe.com/v3/"}


def card_token(url: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does in the browser: the card becomes a token (publishable key)."""
    response = requests.post(f"{url}/v1/tokens", data={
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": PUBLISHABLE_KEY}, timeout=5)
    response.raise_for_status()
    return response.json()["id"]


def authenticate(url: str, intent_id: str, client_secret: str, success: bool) -> dict:
    """What the fake Stripe.js does for 3-D Secure when the client completes or fails it."""
    response = requests.post(
        f"{url}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}",
        json={"key": PUBLISHABLE_KEY, "client_secret": client_secret}, timeout=5)
    response.raise_for_status()
    return response.json()


def intent(url: str, intent_id: str) -> dict:
    response = requests.get(f"{url}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""),
                            timeout=5)
    response.raise_for_status()
    return response.json()


def refunds(url: str, intent_id: str) -> list[dict]:
    response = requests.get(f"{url}/v1/refunds", params={"payment_intent": intent_id},
                            auth=(SECRET_KEY, ""), timeout=5)
    response.raise_for_status()
    return response.json()["data"]


def signed_event(event_type: str, obj: dict, *, event_id: str | None = None,
                 secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict]:
    """A webhook delivery as Stripe makes it: the payload and its Stripe-Signature header."""
    created = int(time.time())
    payload = json.dumps({"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event",
                          "type": event_type, "created": created, "api_version": "2020-08-27",
                          "livemode": False, "data": {"object": obj}}).encode()
    signature = hmac.new(secret.encode(), b"%d.%s" % (created, payload),
                         hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={created},v1={signature}",
                     "Content-Type": "application/json"}
