"""Several app servers behave as one: two gunicorn servers behind nginx, a PostgreSQL primary
and a streaming replica, all started here in a temporary directory and stopped at the end
(also on a failure or Ctrl-C).

The infrastructure: a PostgreSQL primary of its own (initdb on a free port, wal_level=replica,
a pg_hba line for replication from 127.0.0.1) and a hot-standby replica made with
``pg_basebackup -R``; the schema migrated on the primary; two app servers (gunicorn, 2 workers
× 4 threads, gthread) in production mode with the same settings, reports on the replica
(VOUCHER_REPORTS_DATABASE_URL); nginx (Debian's package, installed with apt-get when missing)
with an upstream of both servers, round robin, passive failover (``max_fails``,
``proxy_next_upstream error timeout``) and an ``X-Upstream`` response header naming the server
that answered; a second nginx port whose upstream is server A alone (the one-server phase of
the throughput check); and an SMTP sink (aiosmtpd) that records every message it is given.

The checks, each printed as held or FAILED with its figures; exit status 1 when any fails:

1. rate limit: with VOUCHER_API_RATE_LIMIT at N per minute (servers started for this check
   alone), N+1 API requests of one provider through the balancer, answered by both servers in
   turn: the first N pass, the N+1th is 429.
2. documents: a provider user logs in and uploads a PDF on server A; server B, with the same
   session cookie, gives out the same bytes.
3. settlement run: ``flask --app voucher settlement run`` with server A's and server B's
   environment, both started at the same instant: one payment batch, the other run skipped.
4. outbox send: the same with ``outbox send``: each queued message reaches the SMTP sink once.
5. failover: server A's gunicorn (master and workers) killed with SIGKILL during a load of API
   redemptions whose clients resend every failed or timed-out request with the same
   Idempotency-Key until a definitive answer: one service event per key that got 201, and
   ``flask --app voucher reconcile`` exits 0 afterwards.
6. throughput: the same mixed load (register page, register API, redemptions) for the same
   time through the balancer with both servers and with server A alone; both rates and the
   ratio. On a 2-core machine that also runs PostgreSQL, nginx and the load generator the
   ratio is at most about 1 (below it, as twice the workers share the same cores): a second
   server adds throughput when it has cores of its own. The check holds when both phases
   answer without errors and both servers share the first one; the ratio is a figure.
7. replica: the replica is in recovery (it cannot be written to); a report and its CSV and
   XLSX exports through the balancer answer 200; with the replica's replay paused a new service
   event written on the primary is not in the report (so the report reads the replica), and
   after replay resumes and reaches the primary's WAL position it is.
8. rolling deploy: while a load runs through the balancer, ``flask --app voucher db upgrade``
   runs on both hosts at once (one waits for the other's advisory lock; the schema is at head,
   so neither changes anything); then the next release's migration is simulated by putting a
   revision this code does not know into alembic_version, and server A is taken out of the
   balancer (nginx reloaded with it ``down``), restarted (SIGTERM, a new gunicorn on the same
   port) and put back. No request through the balancer fails, server B's /readyz answers 200
   throughout (``"schema": "newer"`` after the simulated migration), A's too once restarted,
   and A serves again. The real revision is put back afterwards.

    scripts/bench cluster
    VOUCHER_BENCH_CLUSTER_SECONDS=20 scripts/bench cluster      longer load phases (default 8 s)
    VOUCHER_BENCH_PG_BIN=/usr/lib/postgresql/16/bin …           another PostgreSQL
    VOUCHER_BENCH_CLUSTER_CHECKS=3,4 scripts/bench cluster      some checks only (the others
                                                                 count as failed)
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import hashlib
import http.client
import http.cookies
import json
import os
import pwd
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from common import RESULTS, ROOT, free_port, production_environment, write_result

from voucher import clock

SECONDS = float(os.environ.get("VOUCHER_BENCH_CLUSTER_SECONDS", "8"))
CLIENTS = 6
RATE_LIMIT = 5
PG_BIN = Path(os.environ.get("VOUCHER_BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "cluster-bench-password"  # noqa: S105  (the benchmark's own users)
START_SECONDS = 30.0
MAILS = 12
#: The API rate limit of every check but the first (common.production_environment's).
USUAL_LIMIT = "1000000 per minute"
#: Answers to a redemption that end its retries: recorded, or refused for a reason of its own.
DEFINITIVE = {201, 400, 404, 409, 422}
#: What the throughput and rolling-deploy clients send, round and round.
MIX = ["register_page", "redemption", "register_api", "redemption"]


class StartFailed(RuntimeError):
    """A piece of the infrastructure did not start; the message names it."""


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------------------------ PostgreSQL

def as_postgres(args: list, *, what: str, timeout: float = 60) -> str:
    """Run a PostgreSQL program as the postgres user (PostgreSQL refuses to run as root)."""
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd="/")
    except subprocess.TimeoutExpired as exc:
        raise StartFailed(f"{what}: no answer within {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise StartFailed(f"{what} failed (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()}")
    return done.stdout


class Postgres:
    """One PostgreSQL server of the benchmark's own, in ``base/name``."""

    def __init__(self, base: Path, name: str):
        self.name, self.data, self.port = name, base / name, free_port()
        self.log, self.sockets = base / f"{name}.log", base
        self.started = False

    def url(self, database: str = "voucher") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def configure(self, settings: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def start(self) -> None:
        try:
            as_postgres([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t",
                         int(START_SECONDS), "start"], what=f"PostgreSQL {self.name}")
        except StartFailed as exc:
            raise StartFailed(f"{exc}\n{tail(self.log)}") from exc
        self.started = True

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(StartFailed):
                as_postgres([PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                             "stop"], what=f"stopping PostgreSQL {self.name}")
            self.started = False


def start_databases(stack: contextlib.ExitStack, tmp: Path) -> tuple[Postgres, Postgres]:
    """The primary (empty ``voucher`` database) and, after seeding, its replica."""
    base = tmp / "pg"
    base.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    primary = Postgres(base, "primary")
    as_postgres([PG_BIN / "initdb", "-D", primary.data, "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], what="initdb of the primary")
    primary.configure(f"""
listen_addresses = '127.0.0.1'
port = {primary.port}
unix_socket_directories = '{base}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
max_connections = 200
shared_buffers = 64MB
fsync = off                  # a throwaway cluster: durability is not what is measured
""")
    (primary.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "host replication all 127.0.0.1/32 trust\n")
    stack.callback(primary.stop)
    primary.start()
    return primary, Postgres(base, "replica")


def start_replica(replica: Postgres, primary: Postgres) -> None:
    as_postgres([PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U",
                 "postgres", "-D", replica.data, "-R", "-X", "stream", "-c", "fast"],
                what="pg_basebackup of the replica", timeout=120)
    replica.configure(f"\nport = {replica.port}\nhot_standby = on\n")
    replica.start()


def sql(url: str, statement: str, **params):
    """One statement on its own autocommit connection; returns the first column of the first
    row (None without rows)."""
    import sqlalchemy as sa

    from voucher.db import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(statement), params)
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------- seeding

@dataclass
class Seeded:
    token: str
    codes: list[str]
    failover_codes: list[str]
    rate_token: str
    replica_token: str
    replica_code: str
    provider_email: str
    admin_email: str
    today: str


def seed(database_url: str) -> Seeded:
    """Providers, vouchers and users through the app's own services (tests/factories.py): a
    provider with an API token and a voucher per load client, one for the rate-limit check,
    one for the replica check, one whose approved invoice of last month waits for settlement;
    a provider user, an administrator, and password-reset e-mails queued in the outbox."""
    import sqlalchemy as sa
    import sqlalchemy.orm

    from tests import factories
    from voucher import create_app
    from voucher.accounts.models import Role
    from voucher.accounts.services import request_password_reset
    from voucher.audit.services import Actor
    from voucher.db import make_engine
    from voucher.invoicing.services import approve_invoice

    app = create_app({"VOUCHER_ENV": "test", "DATABASE_URL": database_url})
    engine = make_engine(database_url)
    today = clock.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    def voucher(session, service, seller):
        return factories.voucher(
            session, service=service, assigned_to=seller, units=5_000_000,
            valid_from=last_month, valid_until=today + dt.timedelta(days=30),
            unit_value_cents=3000, budget_cents=10**13)

    with app.test_request_context(), sa.orm.Session(engine) as session:
        service = factories.service_type(session, "CLUSTER_CARE")
        seller = factories.provider(session, services={service: 3900})
        codes = [voucher(session, service, seller).code for _ in range(2 * CLIENTS)]
        token = factories.api_token(session, seller, name="cluster benchmark")
        limited = factories.provider(session, services={service: 3900})
        rate_token = factories.api_token(session, limited, name="rate-limit check")
        mirrored = factories.provider(session, services={service: 3900}, name="Replikatesti Oy")
        replica_code = voucher(session, service, mirrored).code
        replica_token = factories.api_token(session, mirrored, name="replica check")
        admin = factories.user(session, role=Role.ADMIN, email="admin@cluster.example.fi",
                               password=PASSWORD)
        factories.user(session, role=Role.PROVIDER, email="provider@cluster.example.fi",
                       password=PASSWORD, provider_id=seller.id)
        payee = factories.provider(session, services={service: 3900}, name="Maksuerätesti Oy")
        factories.user(session, role=Role.PROVIDER, email="payee@cluster.example.fi",
                       password=PASSWORD, provider_id=payee.id)
        billed = voucher(session, service, payee)
        for day in range(3):
            factories.service_event(session, billed, service_date=last_month +
                                    dt.timedelta(days=day), units=100)
        invoice = factories.monthly_invoice(session, payee, period=last_month)
        approve_invoice(session, invoice_id=invoice.id, actor=Actor.system("bench:cluster"),
                        user_id=admin.id)
        for i in range(MAILS):
            factories.user(session, role=Role.CASE_MANAGER, email=f"mail{i}@cluster.example.fi")
            request_password_reset(session, email=f"mail{i}@cluster.example.fi", hours=2,
                                   ip="127.0.0.1")
        session.commit()
    engine.dispose()
    return Seeded(token, codes[:CLIENTS], codes[CLIENTS:], rate_token, replica_token,
                  replica_code, "provider@cluster.example.fi", "admin@cluster.example.fi",
                  today.isoformat())


# ------------------------------------------------------------------------------ app servers

class AppServer:
    """gunicorn serving the app on a fixed loopback port (so that it can be restarted there)."""

    def __init__(self, name: str, port: int, env: dict, logs: Path):
        self.name, self.port, self.env, self.logs = name, port, env, logs
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log = self.logs / f"gunicorn-{self.name}-{self.starts}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "2", "--threads", "4", "--worker-class", "gthread",
                 "--graceful-timeout", "15", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        """Until /readyz answers 200 (the database answers, the schema is at head)."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartFailed(f"app server {self.name} (gunicorn on port {self.port}) exited "
                                  f"with {self.process.returncode}:\n{tail(self.log)}")
            if get_status(self.port, "/readyz") == 200:
                return
            time.sleep(0.2)
        raise StartFailed(f"app server {self.name} (gunicorn on port {self.port}) was not ready "
                          f"within {START_SECONDS:.0f} s:\n{tail(self.log)}")

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [self.process.pid]
        with contextlib.suppress(OSError):
            found += [int(p) for p in children.read_text().split()]
        return found

    def kill(self) -> int:
        """SIGKILL to the master and every worker at once, as a host that dies; returns how
        many processes were killed."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        return len(pids)

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting and lets the requests it has finish."""
        if self.process is None:
            return
        workers = self.pids()[1:]
        began = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in workers:  # a worker that outlived its master
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.stop_seconds = round(time.perf_counter() - began, 2)
        self.process = None


def start_servers(*servers: AppServer) -> None:
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready()


def stop_servers(*servers: AppServer) -> None:
    """Stop them side by side (a gunicorn takes a few seconds to let its workers go)."""
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def get_status(port: int, path: str, timeout: float = 2) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


# ---------------------------------------------------------------------------- load balancer

NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    log_format cluster '$request_method $uri $status upstream=$upstream_addr '
                       'upstream_status=$upstream_status $request_time';
    access_log {tmp}/nginx-access.log cluster;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 60m;

    upstream voucher {{
        # Round robin; a server that fails once is left out for 5 s, then tried again.
        server 127.0.0.1:{port_a} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{port_b} max_fails=1 fail_timeout=5s;
    }}
    upstream voucher_a_only {{
        server 127.0.0.1:{port_a};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://voucher;
            # A refused or timed-out connection goes to the other server. POSTs already sent
            # are not repeated (nginx's default): the API client repeats them with its
            # Idempotency-Key.
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 65s;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Request-Id $request_id;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
    server {{
        listen 127.0.0.1:{port_one};
        location / {{
            proxy_pass http://voucher_a_only;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def ensure_nginx() -> str:
    """nginx's path; Debian's package is installed with apt-get when it is missing."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StartFailed("nginx is not installed; install it (apt-get install nginx) as root")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "install", "-y", "nginx"], ["apt-get", "update"],
                    ["apt-get", "install", "-y", "nginx"]):
        print(f"nginx is missing: running {' '.join(command)}", flush=True)
        done = subprocess.run(command, env=environment, capture_output=True, text=True,
                              timeout=600)
        if command[1] == "install" and done.returncode == 0:
            print("nginx installed (the package's own service is not used: the benchmark "
                  "runs nginx with a configuration of its own)", flush=True)
            return shutil.which("nginx") or "/usr/sbin/nginx"
    raise StartFailed(f"apt-get install nginx failed: {done.stderr.strip()[-500:]}")


class Balancer:
    def __init__(self, tmp: Path, port_a: int, port_b: int):
        self.dir = tmp / "nginx"
        self.dir.mkdir()
        self.port, self.port_one = free_port(), free_port()
        self.conf = self.dir / "nginx.conf"
        self.port_a, self.port_b = port_a, port_b
        self._write(drained=None)
        self.process: subprocess.Popen | None = None

    def _write(self, drained: int | None) -> None:
        text = NGINX_CONF.format(tmp=self.dir, port=self.port, port_one=self.port_one,
                                 port_a=self.port_a, port_b=self.port_b)
        if drained:
            text = text.replace(f"server 127.0.0.1:{drained} max_fails=1 fail_timeout=5s;",
                                f"server 127.0.0.1:{drained} down;")
        self.conf.write_text(text)

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return {int(p) for p in children.read_text().split()}
        return set()

    def drain(self, port: int | None) -> float:
        """Take the server on ``port`` out of the upstream (None: put every server back) and
        reload nginx gracefully; returns when the old worker has finished its requests (so
        nothing is in flight on a drained server), in seconds."""
        began = time.perf_counter()
        old = self.workers()
        self._write(drained=port)
        self.process.send_signal(signal.SIGHUP)
        while time.perf_counter() - began < START_SECONDS:
            if old.isdisjoint(self.workers()):
                return round(time.perf_counter() - began, 2)
            time.sleep(0.05)
        raise StartFailed(f"nginx's old worker did not finish within {START_SECONDS:.0f} s")

    def start(self) -> None:
        nginx = ensure_nginx()
        log = self.dir / "nginx-error.log"
        self.process = subprocess.Popen(
            [nginx, "-p", str(self.dir), "-e", str(log), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=(self.dir / "nginx-stderr.log").open("w"))
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartFailed(f"nginx exited with {self.process.returncode}: "
                                  f"{tail(self.dir / 'nginx-stderr.log')}\n{tail(log)}")
            if get_status(self.port, "/healthz") == 200:
                return
            time.sleep(0.2)
        raise StartFailed(f"nginx on port {self.port} did not answer within "
                          f"{START_SECONDS:.0f} s:\n{tail(log)}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


# ------------------------------------------------------------------------------- SMTP sink

class SmtpSink:
    """A local SMTP server that accepts everything and remembers each outbox message id."""

    def __init__(self):
        self.port = free_port()
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd calls it so
        # make_msgid(idstring="outbox-<id>"): <time.pid.random.outbox-<id>@host>
        match = re.search(rb"^Message-ID:\s*<[^>]*\.outbox-(\d+)@", envelope.content,
                          re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.received.append(match.group(1).decode() if match else "?")
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


# ----------------------------------------------------------------------------- HTTP client

@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def upstream(self) -> str:
        return self.headers.get("x-upstream", "")


class Browser:
    """One keep-alive connection with its own cookies (kept whatever their Secure flag: TLS
    would end at the balancer)."""

    def __init__(self, port: int, timeout: float = 10):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None) -> Answer:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                             timeout=self.timeout)
                # A keep-alive connection the server closed: once more on a new one.
                stale = isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError,
                                         ConnectionResetError))
                if attempt == 2 or not stale:
                    return Answer(0, {}, b"")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def login(self, email: str) -> int:
        page = self.request("GET", "/login")
        token = csrf_token(page.text)
        if page.status != 200 or not token:
            return page.status
        form = f"email={email.replace('@', '%40')}&password={PASSWORD}&csrf_token={token}"
        answer = self.request("POST", "/login", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 303:
            return answer.status
        return self.request("GET", "/").status

    def close(self) -> None:
        self.connection.close()


def csrf_token(page: str) -> str | None:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return found.group(1) if found else None


# -------------------------------------------------------------------------- load and figures

@dataclass
class Outcome:
    kind: str
    started: float
    seconds: float
    status: int
    upstream: str
    expected: bool


@dataclass
class Load:
    """CLIENTS closed-loop clients through one port, in the fixed MIX, until stopped."""

    port: int
    seeded: Seeded
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, seconds: float | None = None, during=None) -> None:
        threads = [threading.Thread(target=self._client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            if during:
                during()
            if seconds:
                time.sleep(seconds)
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()

    def _client(self, i: int) -> None:
        browser = Browser(self.port)
        api = {"Authorization": f"Bearer {self.seeded.token}",
               "Content-Type": "application/json"}
        body = json.dumps({"service_date": self.seeded.today, "units": 1})
        step = i
        while not self.stop.is_set():
            kind = MIX[step % len(MIX)]
            started = time.perf_counter()
            if kind == "register_page":
                answer = browser.request("GET", "/providers/")
            elif kind == "register_api":
                answer = browser.request("GET", "/api/v1/service-types")
            else:
                answer = browser.request(
                    "POST", f"/api/v1/vouchers/{self.seeded.codes[i]}/redemptions", body,
                    {**api, "Idempotency-Key": uuid.uuid4().hex})
            expected = answer.status == (201 if kind == "redemption" else 200)
            outcome = Outcome(kind, started, time.perf_counter() - started, answer.status,
                              answer.upstream, expected)
            with self.lock:
                self.outcomes.append(outcome)
            step += 1
        browser.close()


def figures(outcomes: list[Outcome], seconds: float) -> dict:
    times = sorted(o.seconds for o in outcomes)
    statuses = collections.Counter(str(o.status) for o in outcomes)
    return {"requests": len(outcomes), "per_second": round(len(outcomes) / seconds, 1),
            "p50_ms": round(statistics.median(times) * 1000, 1) if times else None,
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 1)
            if times else None,
            "errors": sum(not o.expected for o in outcomes), "statuses": dict(statuses),
            "by_server": dict(collections.Counter(o.upstream for o in outcomes))}


# ---------------------------------------------------------------------------- flask commands

#: ``flask --app voucher <command>``: the CLI of the ``flask`` script itself, entered when
#: the parent says so, after the imports and the app's creation, so that two runs really
#: start at once (the seconds Python takes to import would otherwise decide which comes first).
AT_THE_SAME_INSTANT = """\
import sys
from flask.cli import FlaskGroup
from voucher import create_app
app = create_app()
print("ready", file=sys.stderr, flush=True)
sys.stdin.readline()
FlaskGroup(create_app=lambda: app).main(args=sys.argv[1:], prog_name="flask --app voucher")
"""


def flask_at_once(environments: list[dict], *command: str) -> list[dict]:
    """Run ``flask --app voucher COMMAND`` once per environment, all let go at the same
    instant once every one has started."""
    processes = [subprocess.Popen(
        [sys.executable, "-c", AT_THE_SAME_INSTANT, *command], cwd=ROOT, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for env in environments]
    runs = []
    try:
        for process in processes:  # each says "ready" once its app exists (or dies first)
            line = process.stderr.readline()
            if line.strip() != "ready":
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError):
                process.stdin.write("go\n")
                process.stdin.flush()
        for process in processes:
            try:
                out, err = process.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
            runs.append({"exit": process.returncode, "output": out.strip(),
                         "stderr": err.strip()})
    finally:
        for process in processes:  # interrupted: none outlives the benchmark
            if process.poll() is None:
                process.kill()
                process.wait()
    return runs


def flask(env: dict, *command: str, timeout: float = 120) -> dict:
    done = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "voucher", *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return {"exit": done.returncode, "output": done.stdout.strip(),
            "stderr": done.stderr.strip()}


# --------------------------------------------------------------------------------- the checks

@dataclass
class Cluster:
    primary: Postgres
    replica: Postgres
    a: AppServer
    b: AppServer
    balancer: Balancer
    sink: SmtpSink
    seeded: Seeded

    @property
    def database_url(self) -> str:
        return self.primary.url()

    def server_named(self, upstream: str) -> str:
        names = {f"127.0.0.1:{self.a.port}": "A", f"127.0.0.1:{self.b.port}": "B"}
        return ", ".join(names.get(part.strip(), part.strip() or "?")
                         for part in upstream.split(","))


def check_rate_limit(cluster: Cluster) -> dict:
    """N+1 requests of one provider's token through the balancer; the N+1th is refused."""
    browser = Browser(cluster.balancer.port)
    answers = []
    for _ in range(RATE_LIMIT + 1):
        answer = browser.request("GET", "/api/v1/vouchers",
                                 headers={"Authorization": f"Bearer {cluster.seeded.rate_token}"})
        answers.append({"status": answer.status,
                        "server": cluster.server_named(answer.upstream),
                        "retry_after": answer.headers.get("retry-after")})
    browser.close()
    statuses = [a["status"] for a in answers]
    servers = {a["server"] for a in answers}
    return {"held": statuses == [200] * RATE_LIMIT + [429] and servers == {"A", "B"},
            "limit": f"{RATE_LIMIT} per minute", "answers": answers,
            "summary": f"{RATE_LIMIT} requests passed, request {RATE_LIMIT + 1} got "
                       f"{statuses[-1]} (from server {answers[-1]['server']}); servers that "
                       f"answered: {', '.join(sorted(servers))}"}


def multipart(fields: dict, file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def check_documents(cluster: Cluster) -> dict:
    """Upload through server A's port, download through server B's with the same session."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, f"Vakuutustodistus {uuid.uuid4().hex}")
    data = bytes(pdf.output())
    on_a = Browser(cluster.a.port)
    login = on_a.login(cluster.seeded.provider_email)
    page = on_a.request("GET", "/provider/application/documents")
    body, content_type = multipart(
        {"csrf_token": csrf_token(page.text) or "", "kind": "insurance_certificate",
         "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat()},
        "file", "vakuutustodistus.pdf", data)
    upload = on_a.request("POST", "/provider/application/documents", body,
                          {"Content-Type": content_type})
    listed = on_a.request("GET", "/provider/application/documents")
    ids = [int(n) for n in re.findall(r'/documents/(\d+)"', listed.text)]
    on_b = Browser(cluster.b.port)
    on_b.cookies = dict(on_a.cookies)  # the same browser: its session cookie, another server
    download = on_b.request("GET", f"/documents/{max(ids)}") if ids else Answer(0, {}, b"")
    for browser in (on_a, on_b):
        browser.close()
    same = hashlib.sha256(download.body).hexdigest() == hashlib.sha256(data).hexdigest()
    return {"held": login == 200 and upload.status == 303 and download.status == 200 and same,
            "login_on_a": login, "upload_on_a": upload.status,
            "document_id": max(ids) if ids else None, "download_on_b": download.status,
            "bytes": len(data), "same_bytes": same,
            "summary": f"uploaded {len(data)} bytes on A ({upload.status}), downloaded on B "
                       f"({download.status}), same checksum: {same}"}


def check_settlement(cluster: Cluster) -> dict:
    runs = flask_at_once([cluster.a.env, cluster.b.env], "settlement", "run")
    batches = sql(cluster.database_url, "SELECT count(*) FROM payment_batches")
    made = [r for r in runs if r["output"].startswith("Payment batch")]
    skipped = [r for r in runs if "skipped, another run holds the lock" in r["output"]]
    return {"held": batches == 1 and len(made) == 1 and len(skipped) == 1
            and all(r["exit"] == 0 for r in runs),
            "payment_batches": batches, "runs": runs,
            "summary": f"{batches} payment batch; outputs: "
                       + " | ".join(r["output"] for r in runs)}


def check_outbox(cluster: Cluster) -> dict:
    due = {str(i) for i in sql_rows(cluster.database_url,
                                    "SELECT id FROM outbox_messages WHERE sent_at IS NULL")}
    before = len(cluster.sink.received)
    runs = flask_at_once([cluster.a.env, cluster.b.env], "outbox", "send")
    time.sleep(0.5)  # the sink's last message
    with cluster.sink.lock:
        received = collections.Counter(cluster.sink.received[before:])
    left = sql(cluster.database_url, "SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
    once = set(received) == due and all(n == 1 for n in received.values())
    return {"held": bool(due) and once and left == 0 and all(r["exit"] == 0 for r in runs),
            "queued": len(due), "delivered": sum(received.values()),
            "distinct_delivered": len(received),
            "sent_twice": sorted(k for k, n in received.items() if n > 1),
            "left_unsent": left, "runs": runs,
            "summary": f"{len(due)} queued, {sum(received.values())} delivered to the sink, "
                       f"{len(received)} distinct; outputs: "
                       + " | ".join(r["output"] for r in runs)}


def sql_rows(url: str, statement: str, **params) -> list:
    import sqlalchemy as sa

    from voucher.db import make_engine

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(statement), params).scalars())
    finally:
        engine.dispose()


def check_replica(cluster: Cluster) -> dict:
    """The report reads the replica: a new event is missing while replay is paused."""
    replica_url = cluster.replica.url()
    in_recovery = sql(replica_url, "SELECT pg_is_in_recovery()")
    admin = Browser(cluster.balancer.port)
    login = admin.login(cluster.seeded.admin_email)
    starts_on = (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    query = f"?starts_on={starts_on.isoformat()}&ends_on={cluster.seeded.today}"
    page = admin.request("GET", "/reports/providers" + query)
    xlsx = admin.request("GET", "/reports/providers.xlsx" + query)

    def provider_row() -> tuple[int, str | None]:
        """The CSV export's row of the replica check's provider (None: no events yet)."""
        csv = admin.request("GET", "/reports/providers.csv" + query)
        return csv.status, next((line for line in csv.text.splitlines()
                                 if "Replikatesti" in line), None)

    status_before, before = provider_row()
    sql(replica_url, "SELECT pg_wal_replay_pause()")
    try:
        api = Browser(cluster.balancer.port)
        written = api.request(
            "POST", f"/api/v1/vouchers/{cluster.seeded.replica_code}/redemptions",
            json.dumps({"service_date": cluster.seeded.today, "units": 1}),
            {"Authorization": f"Bearer {cluster.seeded.replica_token}",
             "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
        api.close()
        lsn = sql(cluster.database_url, "SELECT pg_current_wal_lsn()::text")
        _status, while_paused = provider_row()
    finally:
        sql(replica_url, "SELECT pg_wal_replay_resume()")
    waited = time.perf_counter()
    caught_up = False
    while time.perf_counter() - waited < 15:
        if sql(replica_url, "SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)", lsn=lsn):
            caught_up = True
            break
        time.sleep(0.05)
    replay_seconds = round(time.perf_counter() - waited, 3)
    status_after, after = provider_row()
    admin.close()
    return {"held": bool(in_recovery) and login == 200 and page.status == 200
            and xlsx.status == 200 and status_before == 200 and status_after == 200
            and written.status == 201 and before is None and while_paused is None
            and caught_up and after is not None,
            "replica_in_recovery": in_recovery, "report_page": page.status,
            "xlsx_export": xlsx.status, "csv_export": status_after,
            "new_event_written_on_primary": written.status,
            "report_row_before": before, "report_row_while_replay_paused": while_paused,
            "report_row_after_replay": after, "replay_caught_up_seconds": replay_seconds,
            "summary": f"replica in recovery: {in_recovery}; report 200/csv {status_after}/xlsx "
                       f"{xlsx.status}; the new event: absent while replay paused "
                       f"({while_paused is None}), present {replay_seconds} s after resuming "
                       f"({after is not None})"}


def check_throughput(cluster: Cluster) -> dict:
    ports = {"two_servers": cluster.balancer.port, "one_server": cluster.balancer.port_one}
    outcomes: dict[str, list[Outcome]] = {name: [] for name in ports}
    Load(cluster.balancer.port, cluster.seeded).run(1.0)  # warm-up, not counted
    # Two rounds of each, taking turns, so that a change in what else the machine does
    # falls on both alike.
    for _round in range(2):
        for name, port in ports.items():
            load = Load(port, cluster.seeded)
            load.run(SECONDS / 2)
            outcomes[name] += load.outcomes
    phases = {name: figures(found, SECONDS) for name, found in outcomes.items()}
    two, one = phases["two_servers"]["per_second"], phases["one_server"]["per_second"]
    ratio = round(two / one, 2) if one else None
    return {"held": phases["two_servers"]["errors"] == 0 and phases["one_server"]["errors"] == 0
            and set(phases["two_servers"]["by_server"]) == {f"127.0.0.1:{cluster.a.port}",
                                                             f"127.0.0.1:{cluster.b.port}"},
            "clients": CLIENTS, "seconds": SECONDS, "mix": MIX, **phases,
            "ratio_two_to_one": ratio,
            "summary": f"two servers {two} req/s, one server {one} req/s, ratio {ratio} "
                       f"({os.cpu_count()} cores shared by both servers, PostgreSQL ×2, nginx "
                       f"and the load generator)"}


#: The revision the next release's ``db upgrade`` leaves in alembic_version, unknown to this code.
NEXT_RELEASE = "bench_next_release"


def readiness(port: int) -> tuple[int, str | None]:
    """/readyz's status and its ``schema`` ("newer" on a revision this code does not know),
    waiting a few seconds for the answer as a balancer's health check does."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
        return response.status, body.get("schema", "head")
    except (OSError, http.client.HTTPException, ValueError):
        return 0, None
    finally:
        connection.close()


def check_rolling_deploy(cluster: Cluster) -> dict:
    """A release rolled out while the load goes on through the balancer: ``db upgrade`` on
    both hosts at once, the next release's migration simulated, server A restarted."""
    from voucher.migrations import head_revision

    answers: list[tuple[int, str | None]] = []
    watching = threading.Event()

    def watch_b():
        while not watching.is_set():
            answers.append(readiness(cluster.b.port))
            time.sleep(0.1)

    steps: dict = {}
    head = head_revision()

    def deploy():
        time.sleep(1.0)
        # Every host runs the deploy's `db upgrade`; the lock lets one work at a time.
        steps["db_upgrade"] = flask_at_once([cluster.a.env, cluster.b.env], "db", "upgrade")
        # What the next release's upgrade leaves behind: a revision this code does not know
        # (its migrations only add, so this code still works on it). Simulated by the
        # revision alone: the throwaway database's schema is left as it is.
        sql(cluster.database_url, "UPDATE alembic_version SET version_num = :next",
            next=NEXT_RELEASE)
        started = time.perf_counter()
        # Out of the balancer first: a gthread worker that stops drops the connections it
        # has accepted but not begun, and nginx does not resend a POST it has sent.
        steps["drain_seconds"] = cluster.balancer.drain(cluster.a.port)
        cluster.a.stop()
        steps["stop_seconds"] = cluster.a.stop_seconds
        cluster.a.start()
        cluster.a.wait_ready()
        steps["a_readyz_after_restart"] = readiness(cluster.a.port)
        steps["undrain_seconds"] = cluster.balancer.drain(None)
        steps["restart_seconds"] = round(time.perf_counter() - started, 2)
        steps["back_at"] = time.perf_counter()
        time.sleep(2.0)

    watcher = threading.Thread(target=watch_b)
    watcher.start()
    load = Load(cluster.balancer.port, cluster.seeded)
    started = time.perf_counter()
    try:
        load.run(during=deploy)
    finally:
        watching.set()
        watcher.join()
        sql(cluster.database_url, "UPDATE alembic_version SET version_num = :head", head=head)
    seconds = time.perf_counter() - started
    result = figures(load.outcomes, seconds)
    failed = [o for o in load.outcomes if not o.expected]
    upgrades = steps.pop("db_upgrade", [])
    back_at = steps.pop("back_at", None)
    a_again = sum(1 for o in load.outcomes if back_at and o.started >= back_at
                  and o.upstream == f"127.0.0.1:{cluster.a.port}")
    ready = sum(status == 200 for status, _schema in answers)
    newer = sum(schema == "newer" for status, schema in answers if status == 200)
    return {"held": len(upgrades) == 2 and all(u["exit"] == 0 for u in upgrades)
            and not failed and bool(answers) and ready == len(answers) and newer > 0
            and steps.get("a_readyz_after_restart") == (200, "newer") and a_again > 0,
            "db_upgrades": upgrades, **steps, "answered_by_a_after_its_restart": a_again,
            "load": result, "failed": [o.__dict__ for o in failed[:10]],
            "b_readyz_checks": len(answers),
            "b_readyz_answers": dict(collections.Counter(f"{status} {schema}"
                                                         for status, schema in answers)),
            "summary": f"db upgrade on both at once: exits "
                       f"{[u['exit'] for u in upgrades]}; A drained in "
                       f"{steps.get('drain_seconds')} s, stopped in {steps.get('stop_seconds')} s, "
                       f"back in the balancer after {steps.get('restart_seconds')} s and "
                       f"answering ({a_again} requests); {result['requests']} requests through "
                       f"the balancer, {len(failed)} failed; B /readyz 200 in {ready} of "
                       f"{len(answers)} checks ({newer} on the newer schema)"}


def check_failover(cluster: Cluster) -> dict:
    """SIGKILL server A during redemptions whose clients retry with the same key."""
    lock = threading.Lock()
    outcomes: dict[str, list[int]] = {}  # Idempotency-Key → every status it got, in order
    stop = threading.Event()
    killed: dict = {}

    def client(i: int):
        browser = Browser(cluster.balancer.port, timeout=10)
        code = cluster.seeded.failover_codes[i]
        body = json.dumps({"service_date": cluster.seeded.today, "units": 1})
        while not stop.is_set():
            key = uuid.uuid4().hex
            statuses: list[int] = []
            give_up = time.perf_counter() + 30
            while time.perf_counter() < give_up:
                answer = browser.request(
                    "POST", f"/api/v1/vouchers/{code}/redemptions", body,
                    {"Authorization": f"Bearer {cluster.seeded.token}",
                     "Content-Type": "application/json", "Idempotency-Key": key})
                statuses.append(answer.status)
                if answer.status in DEFINITIVE:
                    break
                time.sleep(0.2)  # refused, 502/503/504, timed out: again, the same key
            with lock:
                outcomes[key] = statuses

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        time.sleep(SECONDS / 3)
        killed["processes"] = cluster.a.kill()
        killed["at_second"] = round(time.perf_counter() - started, 2)
        time.sleep(SECONDS * 2 / 3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    acknowledged = [k for k, s in outcomes.items() if s[-1] == 201]
    undecided = [k for k, s in outcomes.items() if s[-1] not in DEFINITIVE]
    retried = [k for k, s in outcomes.items() if len(s) > 1]
    events = sql(cluster.database_url,
                 "SELECT count(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id "
                 "WHERE v.code = ANY(:codes)", codes=cluster.seeded.failover_codes)
    distinct_events = sql(
        cluster.database_url,
        "SELECT count(DISTINCT response_body ->> 'id') FROM idempotency_records "
        "WHERE key = ANY(:keys) AND response_status = 201", keys=acknowledged)
    reconcile = flask(cluster.b.env, "reconcile")
    failed_statuses = collections.Counter(str(s) for statuses in outcomes.values()
                                          for s in statuses[:-1])
    return {"held": not undecided and events == len(acknowledged) == distinct_events
            and reconcile["exit"] == 0,
            "killed": killed, "redemptions": len(outcomes), "got_201": len(acknowledged),
            "events_in_database": events, "distinct_events_of_201_keys": distinct_events,
            "retried_with_same_key": len(retried), "statuses_before_retry": dict(failed_statuses),
            "without_definitive_answer": len(undecided),
            "reconcile": {"exit": reconcile["exit"],
                          "verdict": (reconcile["output"].splitlines() or [""])[-1],
                          "stderr": reconcile["stderr"][-500:]},
            "summary": f"A killed ({killed.get('processes')} processes) at "
                       f"{killed.get('at_second')} s; {len(outcomes)} redemptions, "
                       f"{len(retried)} resent with their key; {len(acknowledged)} keys got 201, "
                       f"{events} events in the database; reconcile exit {reconcile['exit']}"}


CHECKS = [
    ("1", "rate limit shared by both servers", check_rate_limit),
    ("2", "document uploaded on A, downloaded on B", check_documents),
    ("7", "reports read from the replica", check_replica),
    ("3", "settlement run on both at once: one batch", check_settlement),
    ("4", "outbox send on both at once: each message once", check_outbox),
    ("6", "throughput, two servers against one", check_throughput),
    ("8", "rolling deploy: db upgrade and a restart of A", check_rolling_deploy),
    ("5", "failover: A killed mid-load, every redemption once", check_failover),
]


def run_check(number: str, title: str, check, cluster: Cluster) -> dict:
    started = time.perf_counter()
    try:
        result = check(cluster)
    except Exception as exc:  # a check that breaks is a failed check
        result = {"held": False, "error": f"{type(exc).__name__}: {exc}",
                  "summary": f"the check broke: {type(exc).__name__}: {exc}"}
    result["check_seconds"] = round(time.perf_counter() - started, 1)
    print(f"{number}. {title}: {'held' if result['held'] else 'FAILED'} — {result['summary']}",
          flush=True)
    return result


# ---------------------------------------------------------------------------------- main

def build(stack: contextlib.ExitStack, tmp: Path) -> Cluster:
    from voucher.migrations import upgrade

    step = time.perf_counter()
    primary, replica = start_databases(stack, tmp)
    sql(primary.url("postgres"), "CREATE DATABASE voucher")
    upgrade(primary.url())
    seeded = seed(primary.url())
    stack.callback(replica.stop)
    start_replica(replica, primary)
    print(f"PostgreSQL primary on port {primary.port}, replica on {replica.port} "
          f"({time.perf_counter() - step:.1f} s with migrations and seed)", flush=True)
    sink = SmtpSink()
    sink.start()
    stack.callback(sink.stop)
    logs = tmp / "logs"
    logs.mkdir()
    port_a, port_b = free_port(), free_port()
    settings = {"VOUCHER_REPORTS_DATABASE_URL": replica.url(), "VOUCHER_PROXY_COUNT": "1",
                "VOUCHER_SMTP_PORT": str(sink.port),
                "VOUCHER_INSTANCE_PATH": str(tmp / "instance")}
    env = production_environment(primary.url(), settings)
    servers = AppServer("A", port_a, dict(env), logs), AppServer("B", port_b, dict(env), logs)
    stack.callback(stop_servers, *servers)
    balancer = Balancer(tmp, port_a, port_b)
    stack.callback(balancer.stop)
    return Cluster(primary, replica, *servers, balancer, sink, seeded)


def keep_logs(tmp: Path) -> None:
    """The servers' logs, nginx's and PostgreSQL's, into bench-results/cluster-logs."""
    kept = RESULTS / "cluster-logs"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    for log in [*tmp.glob("logs/*.log"), *tmp.glob("nginx/*.log"), *tmp.glob("pg/*.log")]:
        shutil.copy(log, kept / log.name)


def main() -> int:
    # TERM (and Ctrl-C) unwinds through the finally blocks: everything started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.chdir(ROOT)
    results: dict = {}
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="voucher-cluster-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        tmp.chmod(0o755)  # nginx's workers (nobody) and PostgreSQL (postgres) work in it
        try:
            cluster = build(stack, tmp)
            limited = {"VOUCHER_API_RATE_LIMIT": f"{RATE_LIMIT} per minute"}
            cluster.a.env.update(limited)
            cluster.b.env.update(limited)
            start_servers(cluster.a, cluster.b)
            cluster.balancer.start()
            print(f"app servers A :{cluster.a.port} and B :{cluster.b.port} (gunicorn, 2 workers "
                  f"× 4 threads), nginx :{cluster.balancer.port} (A alone: "
                  f":{cluster.balancer.port_one}), SMTP sink :{cluster.sink.port}", flush=True)
        except StartFailed as exc:
            print(f"cluster: could not start: {exc}", file=sys.stderr)
            write_result("cluster", {"error": str(exc), "checks": {}})
            return 1
        chosen = os.environ.get("VOUCHER_BENCH_CLUSTER_CHECKS", "").split(",")
        for number, title, check in CHECKS:
            if chosen != [""] and number not in chosen:
                continue
            if number != "1" and cluster.a.env["VOUCHER_API_RATE_LIMIT"] != USUAL_LIMIT:
                # After the rate-limit check the servers start again with the usual limit.
                stop_servers(cluster.a, cluster.b)
                for server in (cluster.a, cluster.b):
                    server.env["VOUCHER_API_RATE_LIMIT"] = USUAL_LIMIT
                try:
                    start_servers(cluster.a, cluster.b)
                except StartFailed as exc:
                    print(f"cluster: could not restart the app servers: {exc}", file=sys.stderr)
                    break
            results[number] = {"check": title,
                               **run_check(number, title, check, cluster)}
        keep_logs(tmp)
    held = [n for n, r in results.items() if r["held"]]
    failed = [n for n, _t, _c in CHECKS if n not in held]
    result = {
        "servers": "2 × gunicorn (2 workers × 4 threads, gthread) behind nginx (round robin, "
                   "passive failover), PostgreSQL 15 primary + streaming replica, all on one "
                   "machine",
        "cores": os.cpu_count(), "load_seconds": SECONDS, "clients": CLIENTS,
        "checks": dict(sorted(results.items())),
        "held": sorted(held), "failed": sorted(failed),
        "total_seconds": round(time.perf_counter() - started, 1),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_result("cluster", result)
    print(f"cluster: {len(held)} of {len(CHECKS)} checks held"
          + (f"; FAILED: {', '.join(sorted(failed))}" if failed else "")
          + f" ({result['total_seconds']} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("cluster: interrupted; everything it started is stopped", file=sys.stderr)
        sys.exit(130)
