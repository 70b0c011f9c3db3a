"""The API contract check: schemathesis against the OpenAPI document the app serves.

Serves the app (demo data on a throwaway SQLite database, a fresh API token of the demo
provider) on a loopback port and runs ``schemathesis run`` against ``/api/v1/openapi.json``
with the token. It fails on any 5xx and on any response that contradicts the document (status
code, content type, headers, body schema), and on schema-invalid input the API accepts.

    .venv/bin/python scripts/api_contract.py            (scripts/test runs it)
    VOUCHER_CONTRACT_EXAMPLES=200 …                     more examples per operation
    VOUCHER_CONTRACT_SEED=7 …                           another seed (default: fixed)
    VOUCHER_TEST_COUNTS=FILE …                          write the counts (scripts/test does)

The counts for scripts/test's summary line come from schemathesis' JUnit report: one test per
API operation checked, and one for the stateful phase (the operations chained by their links);
a test case with a failure or an error counts as failed, a skipped one as skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Checks that need a second user or a "delete" operation, which this API does not have.
EXCLUDED_CHECKS = ["ignored_auth", "use_after_free", "ensure_resource_availability",
                   "object_level_authorization", "positive_data_acceptance"]


def _prepare(workdir: Path):
    from werkzeug.serving import make_server

    from voucher import create_app, db
    from voucher.accounts.models import User
    from voucher.api.tokens import create_token
    from voucher.audit.services import Actor
    from voucher.demo import load_demo
    from voucher.migrations import upgrade

    url = f"sqlite:///{workdir / 'contract.sqlite3'}"
    upgrade(url)
    app = create_app({"VOUCHER_ENV": "test", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(workdir),
                      "API_RATE_LIMIT": "100000 per minute", "LOG_JSON": False})
    app.logger.disabled = True
    import logging

    logging.getLogger("voucher").setLevel(logging.WARNING)
    with app.test_request_context(), db.command_session() as session:
        load_demo(session)
        user = session.query(User).filter_by(email="provider@example.fi").one()
        _row, token = create_token(session, provider_id=user.provider_id, name="contract",
                                   actor=Actor.system("contract"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, token


def write_counts(junit: Path, exitstatus: int, counts_file: Path) -> None:
    """The JUnit report's test cases as counts (tests/_counts.py's format); none if no report."""
    try:
        cases = list(ET.parse(junit).getroot().iter("testcase"))  # noqa: S314 (our own tool's)
    except (OSError, ET.ParseError):
        cases = []
    if not cases:
        return  # scripts/test_summary.py counts a run without counts as failed
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    counts = {"passed": len(cases) - failed - skipped, "failed": failed, "skipped": skipped,
              "exitstatus": exitstatus}
    counts_file.write_text(json.dumps(counts))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="voucher-contract-") as tmp:
        server, token = _prepare(Path(tmp))
        base = f"http://127.0.0.1:{server.server_port}"
        command = [
            str(ROOT / ".venv/bin/schemathesis"), "run", f"{base}/api/v1/openapi.json",
            "--header", f"Authorization: Bearer {token}",
            "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
            "--max-examples", os.environ.get("VOUCHER_CONTRACT_EXAMPLES", "40"),
            "--seed", os.environ.get("VOUCHER_CONTRACT_SEED", "20261124"),
            # One worker: with two, Hypothesis parses lambda sources with ast in both threads,
            # which CPython 3.11 does not make thread-safe ("AST constructor recursion depth
            # mismatch", an error of the tool, not of the API).
            "--generation-database", "none", "--workers", "1", "--no-color",
            "--request-timeout", "30",
            "--report", "junit", "--report-junit-path", str(Path(tmp) / "junit.xml"),
        ]
        try:
            status = subprocess.call(command, cwd=tmp)
        finally:
            server.shutdown()
        if os.environ.get("VOUCHER_TEST_COUNTS"):
            write_counts(Path(tmp) / "junit.xml", status, Path(os.environ["VOUCHER_TEST_COUNTS"]))
        return status


if __name__ == "__main__":
    sys.exit(main())
