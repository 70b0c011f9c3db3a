"""Start localstripe (a local fake of Stripe's API and Stripe.js) for development and tests.

Unlike its stock command, this listens on 127.0.0.1 only, on the given port (0: a free one),
and keeps its state in memory: the stock store pickles itself to a shared file in /tmp after
every write. When started, it prints ``localstripe listening on http://127.0.0.1:PORT`` (and
writes the port to --port-file when given). ``DELETE /_config/data`` clears its state;
``POST /_config/webhooks/ID`` (url, secret) makes it send signed webhooks.

    .venv/bin/python scripts/localstripe_server.py --port 8420
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path


def _in_memory_store():
    from localstripe import resources

    # The store's writes call dump_to_disk; loading reads the shared pickle: neither here.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args()
    _in_memory_store()
    from aiohttp import web
    from localstripe.server import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        if args.port_file:
            args.port_file.write_text(str(port))
        print(f"localstripe listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
