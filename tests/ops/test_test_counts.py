"""scripts/test's last line: each run's counts (tests/_counts.py) and their sum
(scripts/test_summary.py), failures counted even when a run never wrote its counts."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SAMPLE_TESTS = '''
import pytest

def test_passes(): pass
def test_fails(): assert False
@pytest.mark.skip(reason="sample")
def test_skipped(): pass
@pytest.mark.xfail(reason="sample")
def test_expected_to_fail(): assert False

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

def test_passes_but_its_teardown_fails(broken_teardown): pass

@pytest.mark.parametrize("n", [1, 2])
def test_each_parameter_counts(n): pass
'''


def _summary(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts/test_summary.py"), *arguments],
                          capture_output=True, text=True, check=False)


def _pytest_counts(folder: Path) -> dict:
    counts = folder / "counts.json"
    env = {**os.environ, "VOUCHER_TEST_COUNTS": str(counts), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests._counts",
                    "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(folder),
                    str(folder)], cwd=folder, env=env, capture_output=True, check=False)
    return json.loads(counts.read_text())


@pytest.mark.slow
def test_a_pytest_run_counts_each_test_once(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    # Failed: test_fails and the test whose teardown fails; skipped: the skip and the xfail.
    assert _pytest_counts(tmp_path) == {"passed": 3, "failed": 2, "skipped": 2, "exitstatus": 1}


@pytest.mark.slow
def test_a_module_that_cannot_be_collected_counts_as_failed(tmp_path):
    (tmp_path / "test_broken_module.py").write_text("import no_such_module_here\n")
    assert _pytest_counts(tmp_path) == {"passed": 0, "failed": 1, "skipped": 0, "exitstatus": 2}


def test_the_summary_sums_every_run_and_ends_with_the_plain_line(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        {"passed": 940, "failed": 0, "skipped": 12, "exitstatus": 0}))
    (tmp_path / "b.json").write_text(json.dumps(
        {"passed": 4, "failed": 0, "skipped": 0, "exitstatus": 0}))
    result = _summary(f"SQLite={tmp_path / 'a.json'}", f"contract={tmp_path / 'b.json'}")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "944 passed, 0 failed, 12 skipped"


def test_a_run_without_counts_or_with_a_bad_exit_counts_as_failed(tmp_path):
    (tmp_path / "ok.json").write_text(json.dumps(
        {"passed": 5, "failed": 0, "skipped": 0, "exitstatus": 0}))
    (tmp_path / "crashed.json").write_text(json.dumps(
        {"passed": 2, "failed": 0, "skipped": 0, "exitstatus": 3}))
    result = _summary(f"SQLite={tmp_path / 'ok.json'}", f"PostgreSQL={tmp_path / 'missing.json'}",
                      f"contract={tmp_path / 'crashed.json'}")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "7 passed, 2 failed"
    assert "PostgreSQL 0 passed 1 failed 0 skipped (no counts: it did not finish)" in lines[-2]


def test_the_contract_check_counts_one_test_per_operation_of_its_junit_report(tmp_path):
    spec = importlib.util.spec_from_file_location("api_contract", ROOT / "scripts/api_contract.py")
    api_contract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api_contract)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="schemathesis">'
        '<testcase name="GET /api/v1/vouchers" />'
        '<testcase name="POST /api/v1/invoices"><failure type="failure" message="500">a</failure>'
        '<failure type="failure" message="schema">b</failure></testcase>'
        '<testcase name="GET /api/v1/providers"><skipped message="no examples" /></testcase>'
        '<testcase name="Stateful tests" /></testsuite></testsuites>')
    counts = tmp_path / "contract.json"
    api_contract.write_counts(junit, 1, counts)
    assert json.loads(counts.read_text()) == {"passed": 2, "failed": 1, "skipped": 1,
                                              "exitstatus": 1}
    # No report (the tool crashed): no counts, which the summary counts as a failure.
    api_contract.write_counts(tmp_path / "missing.xml", 1, tmp_path / "none.json")
    assert not (tmp_path / "none.json").exists()
