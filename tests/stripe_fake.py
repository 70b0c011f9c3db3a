"""The local fake Stripe (localstripe) for tests: started once per session from
scripts/localstripe_server.py on 127.0.0.1 and a free port, state in memory, cleared between
tests; plus helpers that act as the browser (card tokens, 3-D Secure) and as Stripe's webhooks
(signed events)."""

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


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    """The fake's base URL; the process lives for the test session."""
    port_file = tmp_path_factory.mktemp("localstripe") / "port"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "localstripe_server.py"), "--port", "0",
         "--port-file", str(port_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text():
                break
            if process.poll() is not None:
                pytest.fail("localstripe did not start")
            time.sleep(0.05)
        else:
            pytest.fail("localstripe did not start in 10 s")
        yield f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_fake(localstripe_url):
    """The fake, emptied for this test (its data and webhook endpoints)."""
    requests.delete(f"{localstripe_url}/_config/data", timeout=5).raise_for_status()
    return localstripe_url


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
