"""Where the CPU goes: the load benchmark's request mix, in-process through the Flask test
client, in production mode on a fresh PostgreSQL database seeded as ``bench_load`` does (a
tool, not a benchmark: ``scripts/bench`` does not run it; its figures have no server, network
or client in them).

    .venv/bin/python scripts/benchmarks/cpu_probe.py [REQUESTS] [--profile KIND]

It warms up with one pass of the mix, then sends REQUESTS (default 600) requests and prints
the CPU milliseconds and database statements per request of each kind. ``--profile KIND``
(search_page, search_api, login, report, redemption, invoice) also prints the functions that
took the most CPU time in that kind's requests (cProfile, cumulative).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time

import bench_load
from common import fresh_database, production_environment
from memory_probe import Mix
from sqlalchemy import event

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 600
PROFILE = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None


def main() -> None:
    with fresh_database("voucher_cpu_probe") as url:
        seeded = bench_load.seed(url)
        os.environ.update(production_environment(url, {
            "VOUCHER_INSTANCE_PATH": tempfile.mkdtemp(prefix="voucher-cpu-probe-")}))
        from voucher import create_app

        app = create_app()
        app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain http
        import logging

        logging.getLogger("voucher.access").setLevel(logging.WARNING)
        statements = [0]
        event.listen(app.extensions["voucher.engine"], "before_cursor_execute",
                     lambda *args: statements.__setitem__(0, statements[0] + 1))
        mix = Mix(app, seeded)
        for _ in range(len(bench_load.MIX) * 5):  # warm-up: imports, statements, templates
            mix.one()
        cpu: dict[str, list[float]] = {}
        queries: dict[str, int] = {}
        profiler = cProfile.Profile()
        for _ in range(REQUESTS):
            kind = bench_load.MIX[mix.step % len(bench_load.MIX)]
            before, started = statements[0], time.process_time()
            if kind == PROFILE:
                profiler.enable()
            mix.one()
            if kind == PROFILE:
                profiler.disable()
            cpu.setdefault(kind, []).append(time.process_time() - started)
            queries[kind] = queries.get(kind, 0) + statements[0] - before
        print(f"{'kind':12} {'requests':>8} {'CPU ms each':>12} {'statements each':>16}")
        for kind, times in sorted(cpu.items()):
            print(f"{kind:12} {len(times):8d} {1000 * sum(times) / len(times):12.1f} "
                  f"{queries[kind] / len(times):16.1f}")
        total = sum(sum(times) for times in cpu.values())
        print(f"all: {1000 * total / REQUESTS:.1f} CPU ms a request "
              f"(a login is three requests: the form, the POST and the home page)")
        if PROFILE:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
