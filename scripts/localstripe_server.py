"""Start localstripe (a local fake of Stripe's API and Stripe.js) for development and tests.

Unlike its stock command, this listens on 127.0.0.1 only, on the given port (0: a free one),
and keeps its state in memory: the stock store pickles itself to a shared file in /tmp after
every write. When started, it prints ``localstripe listening on http://127.0.0.1:PORT`` (and
writes the port to --port-file when given).

It also behaves more like real Stripe where the app depends on it:

- ``Idempotency-Key``: a POST with a key seen before and the same parameters (path, query and
  parsed body) replays the first answer (status and body, header ``Idempotent-Replayed:
  true``) without doing anything; the same key with other parameters answers 400, and while
  the first request is still running 409 (both ``idempotency_error``). Answers with a 5xx
  status are not kept, so such a request may be retried with its key.
- ``GET /v1/payment_intents`` and ``GET /v1/refunds`` list newest first, filter by
  ``created`` (``created[gt|gte|lt|lte]=TIMESTAMP`` or ``created=TIMESTAMP``), page with
  ``starting_after``; payment intents also by ``customer``; the refunds of an intent that was
  never charged are an empty list (localstripe fails with 500).

Control endpoints (no authentication):

- ``DELETE /_config/data``: forget every object, idempotency key, webhook endpoint and event
  not yet sent;
- ``DELETE /_config/idempotency``: forget the idempotency keys only (Stripe forgets them
  after 24 hours);
- ``POST /_config/webhooks/ID`` (url, secret, optionally events): send signed webhooks to url;
  ``DELETE /_config/webhooks/ID``: stop.

    .venv/bin/python scripts/localstripe_server.py --port 8420
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path

IDEMPOTENCY_MISMATCH = ("Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.")
IDEMPOTENCY_IN_PROGRESS = ("There is currently another in-progress request using this "
                           "Idempotent Key (that probably means you submitted twice, and the "
                           "other request is still going through): {key}. Please try again "
                           "later.")


def _in_memory_store():
    from localstripe import resources

    # The store's writes call dump_to_disk; loading reads the shared pickle: neither here.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


class _Idempotency:
    """The answers to POSTs with an Idempotency-Key, by key: (parameters, answer or None while
    the first request runs)."""

    def __init__(self):
        self.keys: dict[str, tuple[object, tuple[int, bytes, str, str | None] | None]] = {}

    def middleware(self):
        from aiohttp import web
        from localstripe.errors import UserError
        from localstripe.server import get_post_data

        def error(status: int, message: str) -> web.Response:
            return web.json_response(
                {"error": {"type": "idempotency_error", "message": message}}, status=status)

        @web.middleware
        async def idempotency(request, handler):
            key = request.headers.get("Idempotency-Key")
            if request.method != "POST" or not key or request.path.startswith("/_config/"):
                return await handler(request)
            body = await get_post_data(request, remove_auth=False)
            parameters = (request.path, sorted(request.query.items()),
                          json.dumps(body or {}, sort_keys=True, default=str))
            if key in self.keys:
                seen, answer = self.keys[key]
                if seen != parameters:
                    return error(400, IDEMPOTENCY_MISMATCH)
                if answer is None:
                    return error(409, IDEMPOTENCY_IN_PROGRESS.format(key=key))
                status, content, content_type, charset = answer
                return web.Response(status=status, body=content, content_type=content_type,
                                    charset=charset, headers={"Idempotent-Replayed": "true",
                                                              "Idempotency-Key": key})
            self.keys[key] = (parameters, None)
            try:
                try:
                    response = await handler(request)
                except UserError as exc:  # localstripe's error_middleware is outside this one
                    response = exc.to_response()
            except BaseException:
                self.keys.pop(key, None)
                raise
            if (response.status >= 500 or not isinstance(response, web.Response)
                    or key not in self.keys):  # forgotten meanwhile
                self.keys.pop(key, None)
            else:
                self.keys[key] = (parameters, (response.status, response.body,
                                               response.content_type, response.charset))
            response.headers["Idempotency-Key"] = key
            return response

        return idempotency


def _list_like_stripe():
    """PaymentIntent and Refund lists: newest first, filtered by ``created``."""
    from localstripe.errors import UserError
    from localstripe.resources import List, PaymentIntent, Refund, store

    def created_filter(created):
        if created is None:
            return lambda value: True
        if isinstance(created, str) and created.lstrip().startswith("{"):
            try:
                created = json.loads(created)
            except ValueError:
                raise UserError(400, "Invalid created") from None
        if not isinstance(created, dict):
            created = {"eq": created}
        operators = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__,
                     "eq": int.__eq__}
        bounds = []
        for name, value in created.items():
            try:
                bounds.append((operators[name], int(value)))
            except (KeyError, TypeError, ValueError):
                raise UserError(400, f"Invalid created[{name}]") from None
        return lambda value: all(compare(value, bound) for compare, bound in bounds)

    def newest_first(li, created):
        accepts = created_filter(created)
        position = {id(obj): index for index, obj in enumerate(store.values())}
        li._list = sorted((obj for obj in li._list if accepts(obj.created)),
                          key=lambda obj: (obj.created, position.get(id(obj), -1)),
                          reverse=True)
        li._starting_pos = None
        return li

    def payment_intents(cls, url, created=None, customer=None, limit=None,
                        starting_after=None, **kwargs):
        li = super(PaymentIntent, cls)._api_list_all(url, limit=limit,
                                                     starting_after=starting_after, **kwargs)
        if customer is not None:
            li._list = [obj for obj in li._list if obj.customer == customer]
        return newest_first(li, created)

    stock_refunds = Refund._api_list_all

    def refunds(cls, url, created=None, payment_intent=None, limit=None, starting_after=None,
                **kwargs):
        if isinstance(payment_intent, str):
            intent = store.get("payment_intent:" + payment_intent)
            if intent is not None and intent.latest_charge is None:
                li = List(url, limit=limit, starting_after=starting_after)
                li._list = []
                return li
        li = stock_refunds(url, payment_intent=payment_intent, limit=limit,
                           starting_after=starting_after, **kwargs)
        return newest_first(li, created)

    PaymentIntent._api_list_all = classmethod(payment_intents)
    Refund._api_list_all = classmethod(refunds)


def _configure(app) -> None:
    """Add what this fake does beyond localstripe (see the module's docstring)."""
    from aiohttp import web
    from localstripe import resources, webhooks

    idempotency = _Idempotency()
    app.middlewares.append(idempotency.middleware())

    # localstripe sends each event a second after the change, to the endpoints registered
    # then: without this, an event of one test would reach the next test's endpoint.
    pending: set[asyncio.Future] = set()

    def schedule_webhook(event) -> None:
        task = asyncio.ensure_future(webhooks._send_webhook(event))
        pending.add(task)
        task.add_done_callback(pending.discard)

    resources.schedule_webhook = schedule_webhook

    @web.middleware
    async def forget_everything(request, handler):
        if request.method == "DELETE" and request.path == "/_config/data":
            idempotency.keys.clear()
            webhooks._webhooks.clear()
            for task in list(pending):
                task.cancel()
        return await handler(request)

    app.middlewares.insert(0, forget_everything)

    async def forget_idempotency_keys(request):
        idempotency.keys.clear()
        return web.Response()

    async def remove_webhook(request):
        webhooks._webhooks.pop(request.match_info["id"], None)
        return web.Response()

    app.router.add_delete("/_config/idempotency", forget_idempotency_keys)
    app.router.add_delete("/_config/webhooks/{id}", remove_webhook)
    _list_like_stripe()


def _write_port(path: Path, port: int) -> None:
    """Write the port so that a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(str(port))
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args()
    _in_memory_store()
    from aiohttp import web
    from localstripe.server import app

    _configure(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        if args.port_file:
            _write_port(args.port_file, port)
        print(f"localstripe listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
