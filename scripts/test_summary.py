"""The last line of scripts/test: the tests of all its runs added up.

    python3 scripts/test_summary.py LABEL=COUNTS.json ...

Each argument names a run scripts/test made (or meant to make) and the counts file it was to
write, ``{"passed": N, "failed": N, "skipped": N, "exitstatus": N}``: tests/_counts.py writes
one per pytest run (SQLite, PostgreSQL), scripts/api_contract.py one for the contract check.
A run whose file is missing or unreadable (it crashed, was interrupted or never started) counts
as one failed test, and so does a run that exited non-zero without counting a failure (a pytest
internal error, no test collected, a contract tool error).

Prints one line naming each run's counts, then the sum as the very last line, exactly
``N passed, N failed`` with ``, N skipped`` after it when something was skipped. Exits 1 when
anything failed. Only the standard library, so that any python3 can run it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def read_counts(path: Path) -> tuple[dict[str, int], str]:
    """One run's counts, and a note when the run itself is counted as a failure."""
    try:
        data = json.loads(path.read_text())
        counts = {key: int(data[key]) for key in ("passed", "failed", "skipped")}
        exitstatus = int(data["exitstatus"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"passed": 0, "failed": 1, "skipped": 0}, " (no counts: it did not finish)"
    if exitstatus != 0 and counts["failed"] == 0:
        counts["failed"] = 1
        return counts, f" (exit {exitstatus} without a failed test)"
    return counts, ""


def main(arguments: list[str]) -> int:
    total = {"passed": 0, "failed": 0, "skipped": 0}
    parts = []
    for argument in arguments:
        label, _, path = argument.partition("=")
        counts, note = read_counts(Path(path))
        for key in total:
            total[key] += counts[key]
        parts.append(f"{label} {counts['passed']} passed {counts['failed']} failed "
                     f"{counts['skipped']} skipped{note}")
    print("== counted: " + ("; ".join(parts) if parts else "no test run"))
    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    print(line, flush=True)
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
