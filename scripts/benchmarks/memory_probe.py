"""Where memory grows: the load benchmark's request mix, in-process through the Flask test
client, with tracemalloc snapshots between rounds (a tool, not a benchmark: ``scripts/bench``
does not run it).

    .venv/bin/python scripts/benchmarks/memory_probe.py [ROUNDS] [PER_ROUND]

It migrates a fresh SQLite database in a temporary directory (or uses the PostgreSQL server
of VOUCHER_BENCH_POSTGRES_URL with ``--postgresql``), seeds it as ``bench_load`` does, warms
up with one round, then prints after every round the allocations that grew most since the
warm-up, by traceback, and the total traced.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import tempfile
import tracemalloc
import uuid

import bench_load
from common import fresh_database

from voucher import create_app
from voucher.migrations import upgrade

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 5
PER_ROUND = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 200


@contextlib.contextmanager
def database():
    if "--postgresql" in sys.argv:
        with fresh_database("voucher_memory_probe") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/probe.sqlite3"
        upgrade(url)
        yield url


class Mix:
    """The load mix: one anonymous client, one administrator, one provider token."""

    def __init__(self, app, seeded: bench_load.Seeded):
        self.app, self.seeded = app, seeded
        self.browser = app.test_client()
        self.admin = app.test_client()
        self.step = 0
        self.sent: dict[str, int] = {}
        self._login(self.admin, "admin@example.fi")

    def _login(self, client, email: str) -> int:
        page = client.get("/login").get_data(as_text=True)
        token = bench_load.re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post("/login", data={"email": email, "password": "demo-password",
                                             "csrf_token": token})
        assert answer.status_code == 303, answer.status_code
        return client.get("/").status_code

    def one(self) -> tuple[str, int]:
        kind = bench_load.MIX[self.step % len(bench_load.MIX)]
        self.step += 1
        step = self.sent[kind] = self.sent.get(kind, -1) + 1  # each kind walks its own list
        api = {"Authorization": f"Bearer {self.seeded.tokens[0]}"}
        if kind == "search_page":
            return kind, self.browser.get(bench_load.SEARCHES[step % 4]).status_code
        if kind == "search_api":
            return kind, self.browser.get(bench_load.API_SEARCHES[step % 3]).status_code
        if kind == "login":
            return kind, self._login(self.app.test_client(),
                                     bench_load.LOGINS[step % len(bench_load.LOGINS)])
        if kind == "report":
            return kind, self.admin.get(bench_load.REPORTS[step % 5]).status_code
        if kind == "redemption":
            return kind, self.browser.post(
                f"/api/v1/vouchers/{self.seeded.codes[0]}/redemptions",
                json={"service_date": self.seeded.service_date, "units": 1},
                headers={**api, "Idempotency-Key": uuid.uuid4().hex}).status_code
        return kind, self.browser.post(
            "/api/v1/invoices", json={"period": self.seeded.period},
            headers={**api, "Idempotency-Key": uuid.uuid4().hex}).status_code


def main() -> None:
    with database() as url:
        seeded = bench_load.seed(url)
        app = create_app({"VOUCHER_ENV": "test", "DATABASE_URL": url,
                          "BASE_URL": "http://voucher.test",
                          "INSTANCE_PATH": tempfile.mkdtemp(prefix="voucher-probe-")})
        import logging

        logging.getLogger("voucher.access").setLevel(logging.WARNING)
        mix = Mix(app, seeded)
        statuses: dict[str, dict[int, int]] = {}
        for _ in range(PER_ROUND):  # warm-up: imports, compiled statements, templates
            kind, status = mix.one()
        tracemalloc.start(25)
        gc.collect()
        baseline = tracemalloc.take_snapshot()
        for number in range(1, ROUNDS + 1):
            for _ in range(PER_ROUND):
                kind, status = mix.one()
                statuses.setdefault(kind, {}).setdefault(status, 0)
                statuses[kind][status] += 1
            gc.collect()
            snapshot = tracemalloc.take_snapshot()
            current, _peak = tracemalloc.get_traced_memory()
            growth = snapshot.compare_to(baseline, "traceback")
            total = sum(stat.size_diff for stat in growth)
            print(f"== round {number}: {number * PER_ROUND} requests, traced "
                  f"{current / 2**20:.1f} MiB, growth since warm-up {total / 2**20:+.2f} MiB")
            for stat in growth[:6]:
                if stat.size_diff < 20_000:
                    break
                print(f"  {stat.size_diff / 1024:+9.1f} KiB in {stat.count_diff:+d} blocks")
                for line in stat.traceback.format(limit=12, most_recent_first=True):
                    print("     " + line)
        print("statuses:", json.dumps(statuses))


if __name__ == "__main__":
    main()
