"""The counts of one pytest run, for scripts/test's last line (scripts/test_summary.py).

Active only when VOUCHER_TEST_COUNTS names a file; at the end of the session it writes there
``{"passed": N, "failed": N, "skipped": N, "exitstatus": N}``. Each test counts once: failed
when any of its phases failed (an error in a fixture or a teardown included), otherwise skipped
when it was skipped (an expected failure too: it did not pass), otherwise passed. A module that
could not be collected counts as one failed test. Under pytest-xdist only the controller writes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_RANK = {"passed": 0, "skipped": 1, "failed": 2}


class _Counter:
    def __init__(self, path: Path):
        self.path = path
        self.outcomes: dict[str, str] = {}

    def _record(self, nodeid: str, outcome: str) -> None:
        if _RANK[outcome] >= _RANK.get(self.outcomes.get(nodeid, "passed"), 0):
            self.outcomes[nodeid] = outcome

    def pytest_collectreport(self, report):
        if report.failed:
            self._record(report.nodeid, "failed")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self._record(report.nodeid, "failed")
        elif report.skipped:
            self._record(report.nodeid, "skipped")
        elif report.when == "call":
            self._record(report.nodeid, "passed")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        counts = {outcome: 0 for outcome in _RANK}
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        counts["exitstatus"] = int(exitstatus)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(counts))
        partial.replace(self.path)


def pytest_configure(config):
    path = os.environ.get("VOUCHER_TEST_COUNTS")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Counter(Path(path)), "voucher-test-counts")
