"""Shared by the benchmarks: a throwaway PostgreSQL database, a gunicorn server, result files."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from voucher.db import make_engine  # noqa: E402
from voucher.migrations import upgrade  # noqa: E402

POSTGRES_URL = os.environ.get("VOUCHER_BENCH_POSTGRES_URL",
                              os.environ.get("VOUCHER_TEST_POSTGRES_URL",
                                             "postgresql://postgres@127.0.0.1:5432/test"))
RESULTS = ROOT / "bench-results"
#: Printed by every benchmark: its figures say nothing about the code when something else
#: competes for the cores.
IDLE_NOTE = ("A benchmark is only meaningful on an otherwise idle machine: anything else "
             "running (tests, builds, another benchmark) takes the same cores.")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, to print beside the figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def target(value: float, goal: str, limit: float) -> str:
    """``value`` against its target: goal is ">=" or "<"; e.g. "met (target < 150)"."""
    met = value >= limit if goal == ">=" else value < limit
    return f"{'met' if met else 'MISSED'} (target {'≥' if goal == '>=' else '<'} {limit:g})"


@contextlib.contextmanager
def fresh_database(prefix: str = "voucher_bench"):
    """A new PostgreSQL database migrated to head; dropped afterwards. Yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", POSTGRES_URL)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment(database_url: str, env: dict | None = None) -> dict:
    """The environment of an app server (or a ``flask`` command next to it) in production
    mode with the benchmark's own keys; ``env`` adds or overrides settings."""
    return {**os.environ, "VOUCHER_ENV": "production", "VOUCHER_DATABASE_URL": database_url,
            "VOUCHER_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            # production refuses the development keys: the benchmark's own
            "VOUCHER_IDENTITY_KEYS": "YmVuY2htYXJrLWlkZW50aXR5LWtleS0zMi1ieXRlcyE=",
            "VOUCHER_IDENTITY_INDEX_KEY": "bench-index-key",
            "VOUCHER_BASE_URL": "https://voucher.bench.invalid",
            "VOUCHER_MAIL_FROM": "Bench <bench@example.fi>",
            "VOUCHER_SMTP_HOST": "127.0.0.1",
            "VOUCHER_AUTHORITY_NAME": "Benchmark authority",
            "VOUCHER_AUTHORITY_IBAN": "FI4950009420028730",
            "VOUCHER_AUTHORITY_BIC": "OKOYFIHH",
            "VOUCHER_AUTHORITY_BUSINESS_ID": "1234567-1",
            "VOUCHER_AUTHORITY_OVT": "003712345671",
            "VOUCHER_AUTHORITY_EINVOICE_OPERATOR": "003721291126",
            "VOUCHER_AUTHORITY_STREET": "Benchmarkinkatu 1",
            "VOUCHER_AUTHORITY_POSTCODE": "00100",
            "VOUCHER_AUTHORITY_TOWN": "Helsinki",
            "VOUCHER_DECISION_DELEGATION": "Benchmark delegation § 1",
            "VOUCHER_VOUCHER_RULES": "Benchmark rules § 2",
            "VOUCHER_REGISTRY_ADDRESS": "Benchmark registry, PL 1, 00100 Helsinki",
            "VOUCHER_REGISTRY_HOURS": "ma–pe 9–15",
            "VOUCHER_ADMINISTRATIVE_COURT": "Benchmark court, PL 2, 00100 Helsinki",
            "VOUCHER_API_RATE_LIMIT": "1000000 per minute",
            "VOUCHER_LOGIN_MAX_FAILURES_PER_IP": "1000000",
            "VOUCHER_LOG_JSON": "1", **(env or {})}


@contextlib.contextmanager
def gunicorn(database_url: str, *, workers: int = 2, threads: int = 4, env: dict | None = None):
    """Serve the app with gunicorn on a free loopback port; yields (base_url, process)."""
    port = free_port()
    environment = production_environment(database_url, env)
    log = open(RESULTS / f"gunicorn-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "--threads", str(threads), "--worker-class", "gthread", "wsgi:app"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start; see " + log.name)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def write_result(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
    print(f"(written to {path.relative_to(ROOT)})")
