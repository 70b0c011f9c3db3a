"""The test tools for Stripe faults, proven with the official SDK against the fault proxy and
the fake: each fault is what the SDK sees when Stripe fails that way, the fake honours
Idempotency-Key like Stripe, and its lists filter and order like Stripe's. No app here."""

# ruff: noqa: F811 (the tests' arguments are the fixtures imported below)

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe

from tests.stripe_fake import (  # noqa: F401 (fixtures)
    SECRET_KEY,
    Faults,
    card_token,
    fault_proxy,
    forget_idempotency_keys,
    localstripe_url,
    refunds,
    signed_event,
    stripe_fake,
    stripe_faults,
    stripe_proxy_url,
)

INTENTS = "^/v1/payment_intents$"
REFUNDS = "^/v1/refunds$"


def sdk(url: str, *, timeout: float = 1, retries: int = 0) -> stripe.StripeClient:
    """The official client as the app builds it, with a short timeout and no retries unless
    asked."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": url},
                               http_client=stripe.RequestsClient(timeout=timeout),
                               max_network_retries=retries)


def create_intent(client: stripe.StripeClient, amount: int = 2100, key: str | None = None,
                  **params):
    options = {"idempotency_key": key} if key else {}
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "eur", "payment_method_types": ["card"], **params},
        options=options)


def paid_intent(client: stripe.StripeClient, url: str, amount: int = 2100):
    """An intent paid by card (so it can be refunded)."""
    card = client.v1.tokens.retrieve(card_token(url)).card.id
    intent = create_intent(client, amount, payment_method=card, confirm=True)
    assert intent.status == "succeeded"
    return intent


def intent_ids(url: str, **params) -> list[str]:
    """The intents at the fake, as its list answers (newest first)."""
    response = requests.get(f"{url}/v1/payment_intents", params={"limit": 100, **params},
                            auth=(SECRET_KEY, ""), timeout=5)
    response.raise_for_status()
    return [item["id"] for item in response.json()["data"]]


# The faults.


@pytest.mark.parametrize("status", [500, 503])
def test_error_answers_without_forwarding_and_the_sdk_raises_api_error(stripe_faults, status):
    stripe_faults.add("POST", INTENTS, "error", status=status)
    client = sdk(stripe_faults.url)
    with pytest.raises(stripe.APIError) as caught:
        create_intent(client)
    assert caught.value.http_status == status
    assert caught.value.json_body["error"]["type"] == "api_error"
    assert intent_ids(stripe_faults.url) == []  # the fake never saw it
    assert create_intent(client).status == "requires_payment_method"  # times=1: gone
    first, second = stripe_faults.log()[:2]
    assert first["fault"] == "error" and first["upstream_status"] is None
    assert first["status"] == status and first["idempotency_key"]
    assert second["fault"] is None and second["upstream_status"] == 200


def test_an_error_can_look_like_stripes_idempotency_conflict(stripe_faults):
    """Stripe answers 409 idempotency_error while the first request with the key still runs;
    the SDK raises that as a plain APIError (it maps idempotency_error only for 400/404)."""
    stripe_faults.add("POST", INTENTS, "error", status=409, error_type="idempotency_error",
                      message="There is currently another in-progress request")
    with pytest.raises(stripe.APIError) as caught:
        create_intent(sdk(stripe_faults.url), key="order-1")
    assert caught.value.http_status == 409
    assert not isinstance(caught.value, stripe.IdempotencyError)


def test_cut_is_a_connection_error_and_nothing_was_done(stripe_faults):
    stripe_faults.add("POST", INTENTS, "cut")
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        create_intent(sdk(stripe_faults.url, timeout=5))
    assert time.monotonic() - started < 1  # closed at once, not a timeout
    assert intent_ids(stripe_faults.url) == []
    assert stripe_faults.log()[0] | {"idempotency_key": None} == {
        "method": "POST", "path": "/v1/payment_intents", "query": "", "idempotency_key": None,
        "fault": "cut", "upstream_status": None, "status": None}


def test_hang_is_a_timeout_and_does_not_hold_other_requests(stripe_faults):
    stripe_faults.add("POST", INTENTS, "hang", seconds=3)
    client = sdk(stripe_faults.url, timeout=1)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError) as caught:
        create_intent(client)
    assert 0.9 < time.monotonic() - started < 2
    assert "timed out" in str(caught.value).lower()
    started = time.monotonic()  # the proxy still holds the first request for two seconds
    assert create_intent(client).amount == 2100
    assert time.monotonic() - started < 1.5  # not the two seconds left of the hang
    assert [entry["fault"] for entry in stripe_faults.log()] == ["hang", None]


def test_cut_after_the_refund_was_made_and_a_retry_with_its_key_gets_the_same(stripe_faults):
    """The answer is lost: the client sees a connection error although Stripe refunded. A
    retry with the same key answers the refund made, and makes no second one."""
    client = sdk(stripe_faults.url)
    intent = paid_intent(client, stripe_faults.url)
    stripe_faults.add("POST", REFUNDS, "cut_after")
    params = {"payment_intent": intent.id, "amount": 700, "metadata": {"payment": "42"}}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.refunds.create(params=params, options={"idempotency_key": "refund-42"})
    [made] = refunds(stripe_faults.url, intent.id)
    assert made["amount"] == 700 and made["metadata"] == {"payment": "42"}
    assert stripe_faults.log()[-1]["upstream_status"] == 200

    again = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-42"})
    assert again.id == made["id"]
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(refunds(stripe_faults.url, intent.id)) == 1


def test_error_after_the_intent_was_made(stripe_faults):
    client = sdk(stripe_faults.url)
    stripe_faults.add("POST", INTENTS, "error_after", status=502)
    with pytest.raises(stripe.APIError):
        create_intent(client, key="order-7")
    [made] = intent_ids(stripe_faults.url)
    assert create_intent(client, key="order-7").id == made
    assert intent_ids(stripe_faults.url) == [made]


def test_hang_after_the_intent_was_cancelled(stripe_faults):
    client = sdk(stripe_faults.url, timeout=1)
    intent = create_intent(client)
    stripe_faults.add("POST", r"^/v1/payment_intents/\w+/cancel$", "hang_after", seconds=2)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.cancel(intent.id)
    assert time.monotonic() - started < 2
    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"


def test_the_sdk_retries_a_lost_answer_by_itself_with_the_same_key(stripe_faults):
    """With max_network_retries the SDK retries connection errors and 5xx (after half a
    second) with the Idempotency-Key it generated for the POST: one intent, not two."""
    stripe_faults.add("POST", INTENTS, "cut_after")
    made = create_intent(sdk(stripe_faults.url, retries=1))
    assert intent_ids(stripe_faults.url) == [made.id]
    first, retry = stripe_faults.log()[:2]
    assert first["fault"] == "cut_after" and retry["fault"] is None
    assert first["idempotency_key"] == retry["idempotency_key"] is not None


def test_rules_count_down_match_in_order_and_clear(stripe_faults):
    stripe_faults.add("POST", INTENTS, "error", times=2, status=503)
    stripe_faults.add(None, "^/v1/", "error", times=0, status=500)
    assert [(rule["times"], rule["method"]) for rule in stripe_faults.rules()] == [
        (2, "POST"), (0, "*")]
    client = sdk(stripe_faults.url)
    statuses = []
    for _ in range(4):
        with pytest.raises(stripe.APIError) as caught:
            create_intent(client)
        statuses.append(caught.value.http_status)
    assert statuses == [503, 503, 500, 500]
    assert [rule["times"] for rule in stripe_faults.rules()] == [0]
    stripe_faults.clear()
    assert stripe_faults.rules() == []
    create_intent(client)
    assert len(stripe_faults.log()) == 5
    stripe_faults.clear_log()
    assert stripe_faults.log() == []


def test_a_bad_rule_is_refused(stripe_faults):
    response = requests.post(f"{stripe_faults.url}/_faults", json={"fault": "explode"},
                             timeout=5)
    assert response.status_code == 400
    assert stripe_faults.rules() == []


# Idempotency at the fake.


def test_the_same_key_and_parameters_replay_the_first_answer(stripe_faults):
    client = sdk(stripe_faults.url)
    first = create_intent(client, key="order-1", metadata={"payment": "1"})
    again = create_intent(client, key="order-1", metadata={"payment": "1"})
    assert again.id == first.id and again.client_secret == first.client_secret
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert intent_ids(stripe_faults.url) == [first.id]


def test_the_same_key_with_other_parameters_is_an_idempotency_error(stripe_faults):
    client = sdk(stripe_faults.url)
    create_intent(client, 2100, key="order-1")
    with pytest.raises(stripe.IdempotencyError) as caught:
        create_intent(client, 2200, key="order-1")
    assert caught.value.http_status == 400
    assert caught.value.json_body["error"]["type"] == "idempotency_error"
    assert "same parameters" in caught.value.json_body["error"]["message"]
    with pytest.raises(stripe.IdempotencyError):  # another endpoint is other parameters too
        client.v1.customers.create(options={"idempotency_key": "order-1"})


def test_a_forgotten_key_creates_anew(stripe_faults):
    client = sdk(stripe_faults.url)
    first = create_intent(client, key="order-1")
    forget_idempotency_keys(stripe_faults.url)
    second = create_intent(client, key="order-1")
    assert second.id != first.id
    assert intent_ids(stripe_faults.url) == [second.id, first.id]


def test_emptying_the_fake_forgets_the_keys(stripe_faults):
    create_intent(sdk(stripe_faults.url), key="order-1")
    requests.delete(f"{stripe_faults.url}/_config/data", timeout=5).raise_for_status()
    create_intent(sdk(stripe_faults.url), 2200, key="order-1")  # no IdempotencyError


def test_an_answer_of_5xx_is_not_kept(stripe_fake):
    """localstripe answers 500 to a confirm with a payment method; a retry runs again."""
    client = sdk(stripe_fake)
    intent = create_intent(client)
    for _ in range(2):
        response = requests.post(f"{stripe_fake}/v1/payment_intents/{intent.id}/confirm",
                                 data={"payment_method": "pm_x"}, auth=(SECRET_KEY, ""),
                                 headers={"Idempotency-Key": "confirm-1"}, timeout=5)
        assert response.status_code == 500
        assert "Idempotent-Replayed" not in response.headers


def test_a_4xx_answer_is_kept(stripe_fake):
    for replayed in (None, "true"):
        response = requests.post(f"{stripe_fake}/v1/refunds", auth=(SECRET_KEY, ""),
                                 data={"payment_intent": "pi_missing"},
                                 headers={"Idempotency-Key": "refund-1"}, timeout=5)
        assert response.status_code == 404
        assert response.headers.get("Idempotent-Replayed") == replayed


# Lists like Stripe's.


def test_intents_list_newest_first_and_page_through_the_sdk(stripe_faults):
    client = sdk(stripe_faults.url)
    made = [create_intent(client, 100 + n).id for n in range(5)]
    newest_first = made[::-1]
    assert intent_ids(stripe_faults.url) == newest_first
    paged = client.v1.payment_intents.list(params={"limit": 2}).auto_paging_iter()
    assert [intent.id for intent in paged] == newest_first
    listed = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    assert [intent.id for intent in listed] == newest_first
    page = client.v1.payment_intents.list(params={"limit": 2, "starting_after": made[3]})
    assert [intent.id for intent in page.data] == made[2:0:-1] and page.has_more


def test_intents_filter_by_created(stripe_faults):
    client = sdk(stripe_faults.url)
    older, newer = create_intent(client), create_intent(client)
    both = [newer.id, older.id]

    def listed(created) -> list[str]:
        page = client.v1.payment_intents.list(params={"limit": 100, "created": created})
        return [intent.id for intent in page.auto_paging_iter()]

    assert listed({"gte": older.created}) == both
    assert listed({"lte": newer.created}) == both
    assert listed({"gte": older.created, "lte": newer.created}) == both
    assert listed({"gt": newer.created}) == []
    assert listed({"lt": older.created}) == []
    assert listed({"gte": newer.created + 60}) == []
    same_second = [made.id for made in (newer, older) if made.created == older.created]
    assert listed(older.created) == same_second
    query = f"created[gte]={older.created}&created[lt]={older.created}"  # the wire form
    response = requests.get(f"{stripe_faults.url}/v1/payment_intents?{query}",
                            auth=(SECRET_KEY, ""), timeout=5)
    assert response.status_code == 200 and response.json()["data"] == []
    assert f"created%5Bgte%5D={older.created}" in stripe_faults.log()[2]["query"]
    as_json = requests.get(f"{stripe_faults.url}/v1/payment_intents",
                           params={"created": json.dumps({"gt": newer.created})},
                           auth=(SECRET_KEY, ""), timeout=5)
    assert as_json.status_code == 200 and as_json.json()["data"] == []
    bad = requests.get(f"{stripe_faults.url}/v1/payment_intents?created[after]=1",
                       auth=(SECRET_KEY, ""), timeout=5)
    assert bad.status_code == 400


def test_refunds_round_trip_metadata_list_newest_first_and_filter_by_created(stripe_faults):
    client = sdk(stripe_faults.url)
    intent = paid_intent(client, stripe_faults.url, 2100)
    made = [client.v1.refunds.create(params={
        "payment_intent": intent.id, "amount": 300 + n, "metadata": {"payment": str(n)}}).id
        for n in range(3)]
    listed = client.v1.refunds.list(params={"payment_intent": intent.id, "limit": 100})
    assert [refund.id for refund in listed.data] == made[::-1]
    assert [refund.metadata.to_dict() for refund in listed.data] == [
        {"payment": "2"}, {"payment": "1"}, {"payment": "0"}]
    first = client.v1.refunds.retrieve(made[0])
    assert first.metadata["payment"] == "0"
    since = client.v1.refunds.list(params={"created": {"gte": first.created}})
    assert {refund.id for refund in since.data} == set(made)
    assert client.v1.refunds.list(params={"created": {"gt": first.created + 60}}).data == []
    paged = client.v1.refunds.list(params={"payment_intent": intent.id, "limit": 1})
    assert [refund.id for refund in paged.auto_paging_iter()] == made[::-1]


def test_refunds_of_an_intent_never_charged_are_none(stripe_faults):
    client = sdk(stripe_faults.url)
    intent = create_intent(client)
    assert client.v1.refunds.list(params={"payment_intent": intent.id}).data == []


# A fault proxy in front of any server, e.g. the app receiving Stripe's webhooks.


class Recorder(BaseHTTPRequestHandler):
    """Answers 201 with what it received, as JSON, and two cookies."""

    seen: list[dict]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append({"path": self.path, "headers": dict(self.headers.items()),
                          "body": body.decode()})
        answer = json.dumps(self.seen[-1]).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    """A small HTTP server on loopback that records the requests it gets."""
    seen: list[dict] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_proxy_forwards_requests_and_answers_faithfully(fault_proxy, recorder):
    upstream, seen = recorder
    proxy = fault_proxy(upstream)
    assert isinstance(proxy, Faults) and proxy.url != upstream
    payload, headers = signed_event("payment_intent.succeeded", {"id": "pi_1"})
    response = requests.post(f"{proxy.url}/payments/stripe/webhook?x=1&y=%20", data=payload,
                             headers={**headers, "Connection": "keep-alive, X-Hop",
                                      "X-Hop": "gone", "X-Kept": "kept"}, timeout=5)
    assert response.status_code == 201
    [received] = seen
    assert received["path"] == "/payments/stripe/webhook?x=1&y=%20"
    assert received["body"] == payload.decode()
    assert received["headers"]["Stripe-Signature"] == headers["Stripe-Signature"]
    assert received["headers"]["X-Kept"] == "kept" and "X-Hop" not in received["headers"]
    assert response.json() == received
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert proxy.log() == [{"method": "POST", "path": "/payments/stripe/webhook",
                            "query": "x=1&y=%20", "idempotency_key": None, "fault": None,
                            "upstream_status": 201, "status": 201}]


def test_a_webhook_delivery_whose_answer_is_lost(fault_proxy, recorder):
    """Stripe sees a failed delivery (and would send the event again) although the app got it
    and did the work."""
    upstream, seen = recorder
    proxy = fault_proxy(upstream)
    proxy.add("POST", "^/payments/stripe/webhook$", "error_after", status=500)
    proxy.add("POST", "^/payments/stripe/webhook$", "cut_after")
    payload, headers = signed_event("payment_intent.succeeded", {"id": "pi_1"})
    url = f"{proxy.url}/payments/stripe/webhook"
    assert requests.post(url, data=payload, headers=headers, timeout=5).status_code == 500
    with pytest.raises(requests.ConnectionError):
        requests.post(url, data=payload, headers=headers, timeout=5)
    assert requests.post(url, data=payload, headers=headers, timeout=5).status_code == 201
    assert len(seen) == 3
    assert [entry["upstream_status"] for entry in proxy.log()] == [201, 201, 201]


def test_the_fakes_webhooks_go_through_a_proxy(stripe_fake, fault_proxy, recorder):
    """localstripe sends an event a second after a payment; DELETE of its endpoint stops
    that."""
    upstream, seen = recorder
    proxy = fault_proxy(upstream)
    endpoint = f"{stripe_fake}/_config/webhooks/fault-tools"
    requests.post(endpoint, data={"url": f"{proxy.url}/hook", "secret": "whsec_x",
                                                  "events[]": ["payment_intent.succeeded"]},
                  timeout=5).raise_for_status()
    intent = paid_intent(sdk(stripe_fake), stripe_fake)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    requests.delete(endpoint, timeout=5).raise_for_status()
    [delivery] = seen  # none of an earlier test's events: emptying the fake dropped them
    assert json.loads(delivery["body"])["data"]["object"]["id"] == intent.id
    assert delivery["path"] == "/hook" and delivery["headers"]["Stripe-Signature"]
    assert [entry["path"] for entry in proxy.log()] == ["/hook"]
