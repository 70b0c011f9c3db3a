"""A fault-injecting HTTP proxy on 127.0.0.1, for tests: in front of the fake Stripe (or any
HTTP server, such as the app receiving webhooks) it forwards every request and, when a rule
says so, answers an error, hangs, or closes the connection instead, before or after the
upstream has done the work.

    .venv/bin/python scripts/fault_proxy.py --upstream http://127.0.0.1:8420 --port 8421

Requests under ``/_faults`` are its control API and are never forwarded:

``POST /_faults``
    Add a rule (JSON): ``{"method": "POST", "path": "^/v1/refunds$", "fault": "cut",
    "times": 1}``. ``method`` is matched case-insensitively (absent or ``"*"``: any),
    ``path`` is a regular expression searched in the request's path (absent: any).
    ``times`` is how many matching requests get the fault before the rule is gone
    (default 1; 0: until cleared). Rules are tried in the order they were added; the first
    that matches applies. Answers 201 with the rule, including its ``id``.
``GET /_faults``, ``DELETE /_faults``
    List the rules (with the ``times`` left), remove them all.
``GET /_faults/log``, ``DELETE /_faults/log``
    The requests seen, oldest first: ``{"method", "path", "query", "idempotency_key",
    "fault" (null when none applied), "upstream_status" (null when not forwarded or the
    upstream did not answer), "status" (what the client got, null for a hang or a cut)}``;
    empty it.

The faults:

``error``
    Answer ``status`` (default 500) with a Stripe-style body ``{"error": {"type":
    "api_error", "message": ...}}`` (``error_type`` and ``message`` change those) without
    forwarding.
``hang``
    Forward nothing, hold the request ``seconds`` (default 30), then close the connection:
    a client with a shorter timeout sees a read timeout.
``cut``
    Forward nothing, close the connection at once without an answer: the client sees a
    connection error.
``error_after``, ``hang_after``, ``cut_after``
    Forward the request and wait for the upstream's answer (so the upstream did the work),
    then answer as ``error``, ``hang`` or ``cut``: the answer was lost on the way back.

Holding a request never blocks the others: the proxy is asynchronous (aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import socket
import struct
import sys
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

FAULTS = ("error", "hang", "cut", "error_after", "hang_after", "cut_after")

#: Headers that belong to one connection, never forwarded (RFC 9110, 7.6.1), plus the ones
#: the forwarding itself sets (Host, Content-Length).
HOP_BY_HOP = frozenset(h.lower() for h in (
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
    "Proxy-Connection", "TE", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade",
    "Host", "Content-Length"))

#: The upstream may take this long to answer a forwarded request.
UPSTREAM_TIMEOUT_SECONDS = 60


def _stripped(headers, extra: frozenset[str] = frozenset()) -> CIMultiDict:
    """The headers minus hop-by-hop ones and those the Connection header names."""
    named = {token.strip().lower() for value in headers.getall("Connection", [])
             for token in value.split(",")}
    result = CIMultiDict()
    for name, value in headers.items():
        lowered = name.lower()
        if lowered not in HOP_BY_HOP and lowered not in named and lowered not in extra:
            result.add(name, value)
    return result


def _stripe_error(status: int, message: str, error_type: str = "api_error") -> web.Response:
    return web.json_response({"error": {"type": error_type, "message": message}}, status=status)


class Rule:
    _ids = itertools.count(1)

    def __init__(self, spec: dict):
        if not isinstance(spec, dict):
            raise ValueError("a rule is a JSON object")
        unknown = set(spec) - {"method", "path", "fault", "times", "seconds", "status",
                               "error_type", "message"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        self.fault = spec.get("fault")
        if self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        method = spec.get("method") or "*"
        if not isinstance(method, str):
            raise ValueError("method must be a string")
        self.method = method.upper()
        self.path = spec.get("path") or ""
        if not isinstance(self.path, str):
            raise ValueError("path must be a string (a regular expression)")
        try:
            self._pattern = re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"path is not a regular expression: {exc}") from None
        self.times = _number(spec, "times", 1, int)
        self.seconds = _number(spec, "seconds", 30, (int, float))
        self.status = _number(spec, "status", 500, int)
        if self.times < 0 or self.seconds < 0 or not 100 <= self.status <= 599:
            raise ValueError("times and seconds must not be negative, status must be 100-599")
        self.error_type = spec.get("error_type") or "api_error"
        self.message = spec.get("message") or (
            f"Fault injected by the test proxy: {self.fault} {self.status}")
        self.id = next(self._ids)

    def matches(self, request: web.Request) -> bool:
        return ((self.method == "*" or self.method == request.method)
                and self._pattern.search(request.path) is not None)

    def export(self) -> dict:
        return {"id": self.id, "method": self.method, "path": self.path, "fault": self.fault,
                "times": self.times, "seconds": self.seconds, "status": self.status,
                "error_type": self.error_type, "message": self.message}


def _number(spec: dict, name: str, default, kinds):
    value = spec.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ValueError(f"{name} must be a number")
    return value


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.log: list[dict] = []
        self.session: aiohttp.ClientSession | None = None

    def application(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/_faults", self.add_rule)
        app.router.add_get("/_faults", self.list_rules)
        app.router.add_delete("/_faults", self.clear_rules)
        app.router.add_get("/_faults/log", self.get_log)
        app.router.add_delete("/_faults/log", self.clear_log)
        app.router.add_route("*", "/_faults/{tail:.*}", self.unknown_control)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        app.on_startup.append(self._open_session)
        app.on_cleanup.append(self._close_session)
        return app

    async def _open_session(self, app) -> None:
        self.session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_SECONDS),
            skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"))

    async def _close_session(self, app) -> None:
        await self.session.close()

    # The control API.

    async def add_rule(self, request: web.Request) -> web.Response:
        try:
            rule = Rule(await request.json())
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return web.json_response({"error": str(exc)}, status=400)
        self.rules.append(rule)
        return web.json_response(rule.export(), status=201)

    async def list_rules(self, request: web.Request) -> web.Response:
        return web.json_response([rule.export() for rule in self.rules])

    async def clear_rules(self, request: web.Request) -> web.Response:
        self.rules.clear()
        return web.Response(status=204)

    async def get_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.log)

    async def clear_log(self, request: web.Request) -> web.Response:
        self.log.clear()
        return web.Response(status=204)

    async def unknown_control(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "no such control endpoint"}, status=404)

    # Forwarding.

    def _take_rule(self, request: web.Request) -> Rule | None:
        for rule in self.rules:
            if rule.matches(request):
                if rule.times == 1:
                    self.rules.remove(rule)
                elif rule.times > 1:
                    rule.times -= 1
                return rule
        return None

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # the whole request first: the client waits for an answer
        rule = self._take_rule(request)
        entry = {"method": request.method, "path": request.path,
                 "query": request.rel_url.raw_query_string,
                 "idempotency_key": request.headers.get("Idempotency-Key"),
                 "fault": rule.fault if rule else None, "upstream_status": None, "status": None}
        self.log.append(entry)
        fault = rule.fault if rule else None
        if fault in ("error", "hang", "cut"):
            return await self._fail(request, rule, entry)
        try:
            answer = await self._upstream(request, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            entry["status"] = 502
            return _stripe_error(502, f"The fault proxy could not reach the upstream: {exc!r}")
        entry["upstream_status"] = answer.status
        if fault is not None:  # one of the *_after faults: the upstream did the work
            return await self._fail(request, rule, entry)
        entry["status"] = answer.status
        return answer

    async def _upstream(self, request: web.Request, body: bytes) -> web.Response:
        url = URL(self.upstream + request.raw_path, encoded=True)
        async with self.session.request(
                request.method, url, headers=_stripped(request.headers), data=body or None,
                allow_redirects=False) as upstream:
            content = await upstream.read()
            return web.Response(status=upstream.status, reason=upstream.reason, body=content,
                                headers=_stripped(upstream.headers))

    async def _fail(self, request: web.Request, rule: Rule, entry: dict) -> web.StreamResponse:
        kind = rule.fault.removesuffix("_after")
        if kind == "error":
            entry["status"] = rule.status
            return _stripe_error(rule.status, rule.message, rule.error_type)
        if kind == "hang":
            await asyncio.sleep(rule.seconds)
        _drop_connection(request)
        # Nothing can be written any more; aiohttp drops this answer with the connection.
        return web.Response(status=204)


def _drop_connection(request: web.Request) -> None:
    """Close the client's connection without an answer (a reset, so the client's next read
    fails at once instead of waiting)."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # SO_LINGER 0: a TCP reset rather than a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _write_port(path: Path, port: int) -> None:
    """Write the port so that a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(str(port))
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="base URL to forward to")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--port-file", type=Path, help="write the port here when listening")
    args = parser.parse_args()
    upstream = args.upstream.rstrip("/")
    if not upstream.startswith(("http://", "https://")):
        parser.error("--upstream must be an http(s) URL")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]

    async def serve() -> None:
        runner = web.AppRunner(FaultProxy(upstream).application(), access_log=None,
                               handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        if args.port_file:
            _write_port(args.port_file, port)
        print(f"fault proxy listening on http://127.0.0.1:{port} -> {upstream}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
