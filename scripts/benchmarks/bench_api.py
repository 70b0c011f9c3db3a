"""Provider API throughput: sustained redemptions per second and their latency, against the
same server's trivial /healthz, on PostgreSQL under gunicorn with 8 concurrent clients.

Each client is one keep-alive HTTP connection sending requests back to back: first /healthz
(a database round trip), then POST /api/v1/vouchers/{code}/redemptions of one unit with a new
Idempotency-Key each time, each client on its own voucher (as separate integrations would
be). Targets (issue 18): redemptions at ≥ 35 % of the /healthz rate, p95 under 60 ms.

    scripts/bench api
    VOUCHER_BENCH_SECONDS=30 scripts/bench api      longer phases (default 15 s each)
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import statistics
import threading
import time
import uuid

from common import IDLE_NOTE, fresh_database, gunicorn, load_average, target, write_result

from voucher import clock

CLIENTS = 8
SECONDS = float(os.environ.get("VOUCHER_BENCH_SECONDS", "15"))
WARMUP = 2.0
TARGET_RATIO = 0.35
TARGET_P95_MS = 60.0


def seed(database_url: str) -> tuple[str, list[str]]:
    """A provider with a token and one big voucher per client; returns (token, codes)."""
    import sqlalchemy as sa
    import sqlalchemy.orm

    from tests import factories
    from voucher import create_app
    from voucher.db import make_engine

    app = create_app({"VOUCHER_ENV": "test", "DATABASE_URL": database_url})
    engine = make_engine(database_url)
    with app.app_context(), sa.orm.Session(engine) as session:
        service = factories.service_type(session)
        seller = factories.provider(session, services={service: 3900})
        today = clock.today()
        codes = []
        for _i in range(CLIENTS):
            voucher = factories.voucher(
                session, service=service, assigned_to=seller, units=1_000_000,
                valid_from=today - dt.timedelta(days=30), valid_until=today + dt.timedelta(days=30),
                budget_cents=10**12)
            codes.append(voucher.code)
        token = factories.api_token(session, seller, name="benchmark")
        session.commit()
    engine.dispose()
    return token, codes


def run_phase(host: str, port: int, request_for, seconds: float) -> dict:
    """CLIENTS threads send requests back to back; count what finished in the window."""
    stop_at = time.perf_counter() + WARMUP + seconds
    measure_from = time.perf_counter() + WARMUP
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    statuses: list[dict] = [{} for _ in range(CLIENTS)]

    def client(i: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                break
            method, path, body, headers = request_for(i)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            finished = time.perf_counter()
            if started >= measure_from:
                latencies[i].append(finished - started)
                statuses[i][response.status] = statuses[i].get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(latency for per_client in latencies for latency in per_client)
    counts: dict = {}
    for per_client in statuses:
        for status, n in per_client.items():
            counts[str(status)] = counts.get(str(status), 0) + n
    return {
        "requests": len(every),
        "requests_per_second": round(len(every) / seconds, 1),
        "p50_ms": round(statistics.median(every) * 1000, 2),
        "p95_ms": round(every[int(len(every) * 0.95) - 1] * 1000, 2),
        "p99_ms": round(every[int(len(every) * 0.99) - 1] * 1000, 2),
        "statuses": counts,
    }


def main() -> None:
    load_before = load_average()
    with fresh_database("voucher_bench_api") as database_url:
        token, codes = seed(database_url)
        with gunicorn(database_url) as (base, _process):
            host, port = base.removeprefix("http://").split(":")
            port = int(port)

            def healthz(_i: int):
                return "GET", "/healthz", None, {}

            body = json.dumps({"service_date": clock.today().isoformat(), "units": 1})

            def redemption(i: int):
                return "POST", f"/api/v1/vouchers/{codes[i]}/redemptions", body, {
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex}

            health = run_phase(host, port, healthz, SECONDS)
            redemptions = run_phase(host, port, redemption, SECONDS)
    ratio = redemptions["requests_per_second"] / health["requests_per_second"]
    result = {
        "clients": CLIENTS, "seconds_per_phase": SECONDS,
        "server": "gunicorn, 2 workers × 4 threads (gthread), PostgreSQL",
        "healthz": health, "redemptions": redemptions,
        "ratio_redemptions_to_healthz": round(ratio, 3),
        "targets": {"ratio_at_least": TARGET_RATIO, "p95_ms_below": TARGET_P95_MS},
        "targets_met": {"ratio": ratio >= TARGET_RATIO,
                        "p95": redemptions["p95_ms"] < TARGET_P95_MS,
                        "no_errors": set(redemptions["statuses"]) == {"201"}},
        "load_average": {"before": load_before, "after": load_average()},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_result("api", result)
    print(IDLE_NOTE)
    print(f"load average before {load_before}, after {result['load_average']['after']}")
    print(f"/healthz:     {health['requests_per_second']:8.1f} req/s  "
          f"p50 {health['p50_ms']} ms  p95 {health['p95_ms']} ms")
    print(f"redemptions:  {redemptions['requests_per_second']:8.1f} req/s  "
          f"p50 {redemptions['p50_ms']} ms  p95 {redemptions['p95_ms']} ms "
          f"{target(redemptions['p95_ms'], '<', TARGET_P95_MS)}  "
          f"statuses {redemptions['statuses']}")
    print(f"ratio redemptions / healthz: {ratio:.1%} "
          f"{target(round(ratio * 100, 1), '>=', TARGET_RATIO * 100)} (per cent)")


if __name__ == "__main__":
    main()
