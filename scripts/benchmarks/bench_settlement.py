"""Settlement benchmark: one run over N approved invoice lines, N = 100 000 and 1 000 000.

Each size runs in a child process of its own (so that its peak memory is its own) on a fresh
PostgreSQL database filled directly with INSERT … SELECT generate_series: 20 municipalities,
8 service types, 2 000 providers, N/10 vouchers with ten service events each, every event on
an approved invoice (one per provider and month). A tenth of the vouchers are used up and
cheaper than their value, so the run also releases unused commitment. The timed part is one
``settle_approved_invoices`` call and its commit; peak memory is the child's maximum resident
set size (getrusage; tracemalloc would slow the run several times over). Afterwards the
reconciliation check must find no difference (not timed).

Targets: 1 000 000 lines in under 60 s, peak memory under 500 MB, and the time for 1 000 000
at most 12 times the time for 100 000.

    scripts/bench settlement            both sizes
    .venv/bin/python scripts/benchmarks/bench_settlement.py --n 20000   one size, JSON out
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import sqlalchemy as sa
from common import ROOT, fresh_database, write_result
from stdnum.fi import ytunnus

from voucher.db import make_engine
from voucher.demo.providers import business_id

MUNICIPALITIES, SERVICES, PROVIDERS, EVENTS_PER_VOUCHER = 20, 8, 2000, 10


def _iban(n: int) -> str:
    bban = f"{10000000000000 + n:014d}"
    check = 98 - int(bban + "151800") % 97  # F=15, I=18, then "00"
    return f"FI{check:02d}{bban}"


def _business_id(n: int) -> str:
    for step in range(10):  # one base in eleven has no check digit
        try:
            return ytunnus.format(business_id(f"{3000000 + n * 11 + step:07d}"))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def generate(url: str, n: int) -> float:
    """Fill the database; returns the seconds it took."""
    started = time.perf_counter()
    vouchers = n // EVENTS_PER_VOUCHER
    engine = make_engine(url)
    with engine.begin() as db:
        db.execute(sa.text(
            "INSERT INTO municipalities (code, name_fi, name_sv) SELECT lpad(g::text, 3, '0'), "
            "'Kunta ' || g, 'Kommun ' || g FROM generate_series(1, :m) g"), {"m": MUNICIPALITIES})
        db.execute(sa.text(
            "INSERT INTO service_types (code, name_fi, name_sv, name_en, unit, fractional_units,"
            " income_related, free_for_client, requires_soteri, for_children, description_fi,"
            " description_sv, description_en, criteria_fi, criteria_sv, criteria_en, is_active,"
            " created_at) SELECT 'SERVICE_' || g, 'Palvelu ' || g, 'Tjänst ' || g,"
            " 'Service ' || g, 'hour', true, false, false, false, false, '', '', '', '', '', '',"
            " true, now() FROM generate_series(1, :s) g"), {"s": SERVICES})
        db.execute(sa.text(
            "INSERT INTO service_type_rates (service_type_id, valid_from, unit_value_cents,"
            " price_cap_cents, created_at) SELECT id, '2026-01-01', 3000, 4000, now()"
            " FROM service_types"))
        db.execute(sa.text(
            "INSERT INTO providers (business_id, legal_name, iban, bic, in_prepayment_register,"
            " in_trade_register, soteri_registered, criminal_record_checks, status, created_at,"
            " updated_at) VALUES (:business_id, :name, :iban, 'NDEAFIHH', true, true, true,"
            " true, 'approved', now(), now())"),
            [{"business_id": _business_id(p), "name": f"Palveluyritys {p} Oy", "iban": _iban(p)}
             for p in range(1, PROVIDERS + 1)])
        db.execute(sa.text(
            "INSERT INTO users (email, role, display_name, language, is_active, session_version,"
            " created_at) VALUES ('bench@example.fi', 'case_manager', 'Bench', 'fi', true, 1,"
            " now())"))
        db.execute(sa.text(
            "INSERT INTO clients (identity_code_masked, first_name, last_name, municipality_id,"
            " language, created_at) SELECT '010101-****', 'Asiakas', 'N' || g,"
            " (g % :m) + 1, 'fi', now() FROM generate_series(1, :v) g"),
            {"m": MUNICIPALITIES, "v": vouchers})
        # Every tenth voucher grants exactly the ten hours its events use (it ends up used up).
        db.execute(sa.text(
            "INSERT INTO vouchers (code, confirmation_code, client_id, service_type_id,"
            " municipality_id, value_basis, unit_value_cents, calculation, recurrence,"
            " units_per_period, units_granted, units_used, valid_from, valid_until,"
            " committed_cents, status, need_assessment, provider_id, created_by_user_id,"
            " created_at, issued_at)"
            " SELECT 'BENCH' || g, 'C' || g, g, (g / :m % :s) + 1, (g % :m) + 1, 'fixed', 3000,"
            " '{}', 'total', u, u, 1000, '2026-01-01', '2026-12-31', u * 30,"
            " CASE WHEN g % 10 = 0 THEN 'exhausted' ELSE 'assigned' END, 'bench',"
            " (g % :p) + 1, 1, now(), now()"
            " FROM generate_series(1, :v) g,"
            " LATERAL (SELECT CASE WHEN g % 10 = 0 THEN 1000 ELSE 2000 END AS u) units"),
            {"m": MUNICIPALITIES, "s": SERVICES, "p": PROVIDERS, "v": vouchers})
        db.execute(sa.text(
            "INSERT INTO voucher_periods (voucher_id, starts_on, ends_on, units_granted,"
            " units_used) SELECT id, valid_from, valid_until, units_granted, 1000 FROM vouchers"))
        db.execute(sa.text(
            "INSERT INTO budgets (municipality_id, service_type_id, year, amount_cents,"
            " committed_cents, released_cents, spent_cents, created_at)"
            " SELECT m.id, s.id, 2026, 0, 0, 0, 0, now() FROM municipalities m, service_types s"))
        db.execute(sa.text(
            "INSERT INTO budget_entries (budget_id, kind, amount_cents, voucher_id, reason,"
            " created_at) SELECT b.id, 'commit', v.committed_cents, v.id, 'issued', now()"
            " FROM vouchers v JOIN budgets b ON b.municipality_id = v.municipality_id"
            " AND b.service_type_id = v.service_type_id AND b.year = 2026"))
        db.execute(sa.text(
            "UPDATE budgets SET committed_cents = t.total, amount_cents = t.total * 2"
            " FROM (SELECT budget_id, sum(amount_cents) AS total FROM budget_entries"
            " GROUP BY budget_id) t WHERE t.budget_id = budgets.id"))
        # Prices 28–32 € against a 30 € value: some events have a self-share, some do not.
        db.execute(sa.text(
            "INSERT INTO redemptions (voucher_id, provider_id, voucher_period_id, service_date,"
            " units, unit_price_cents, unit_value_cents, voucher_pays_cents, client_pays_cents,"
            " status, source, client_share_status, created_at)"
            " SELECT v.id, v.provider_id, v.id, date '2026-01-01' + (e * 28 + v.id % 28),"
            " 100, price, 3000, least(price, 3000), greatest(price - 3000, 0), 'invoiced', 'api',"
            " CASE WHEN price > 3000 THEN 'billed_by_provider' END, now()"
            " FROM vouchers v, generate_series(0, :e - 1) e,"
            " LATERAL (SELECT 2800 + (v.provider_id % 5) * 100 AS price) p"),
            {"e": EVENTS_PER_VOUCHER})
        db.execute(sa.text(
            "INSERT INTO invoices (number, provider_id, period, status, business_id,"
            " provider_name, iban, bic, reference, voucher_total_cents, client_total_cents,"
            " line_count, created_at, decided_at)"
            " SELECT row_number() OVER (ORDER BY r.month, r.provider_id), r.provider_id, r.month,"
            " 'approved', p.business_id, p.legal_name, p.iban, p.bic,"
            " (10000 + row_number() OVER (ORDER BY r.month, r.provider_id))::text, r.voucher,"
            " r.client, r.lines, now(), now()"
            " FROM (SELECT provider_id, date_trunc('month', service_date)::date AS month,"
            " sum(voucher_pays_cents) AS voucher, sum(client_pays_cents) AS client,"
            " count(*) AS lines FROM redemptions GROUP BY 1, 2) r"
            " JOIN providers p ON p.id = r.provider_id"))
        db.execute(sa.text(
            "INSERT INTO invoice_lines (invoice_id, redemption_id, voucher_code, service_date,"
            " units, unit_price_cents, voucher_pays_cents, client_pays_cents)"
            " SELECT i.id, r.id, v.code, r.service_date, r.units, r.unit_price_cents,"
            " r.voucher_pays_cents, r.client_pays_cents FROM redemptions r"
            " JOIN vouchers v ON v.id = r.voucher_id JOIN invoices i"
            " ON i.provider_id = r.provider_id"
            " AND i.period = date_trunc('month', r.service_date)::date"))
        db.execute(sa.text(
            "UPDATE invoice_number_sequence SET last_number = (SELECT count(*) FROM invoices)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def run_one(n: int) -> dict:
    """Generate N lines and time one settlement run (in this process)."""
    with fresh_database("voucher_bench_settlement") as url:
        generated = generate(url, n)
        from voucher import create_app, db
        from voucher.audit.services import Actor
        from voucher.settlement.reconciliation import find_differences
        from voucher.settlement.run import Payer, settle_approved_invoices
        from voucher.settlement.sepa import _schema

        app = create_app({"VOUCHER_ENV": "development", "DATABASE_URL": url,
                          "LOG_JSON": False})
        with app.app_context():
            _schema()  # the XSD is parsed once per process, not per run
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            with db.command_session() as session:
                result = settle_approved_invoices(session, actor=Actor.system("bench"),
                                                  payer=Payer.from_config(app.config))
                batch = (result.batch.payment_count, result.batch.total_cents,
                         len(result.batch.sepa_xml), result.released_cents)
            seconds = time.perf_counter() - started
            rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            checked = time.perf_counter()
            with db.command_session() as session:
                settled = session.execute(sa.text(
                    "SELECT count(*) FROM redemptions WHERE status = 'settled'")).scalar()
                differences = [d.describe() for d in find_differences(session)]
            check_seconds = time.perf_counter() - checked
        app.extensions["voucher.engine"].dispose()
    return {"n": n, "generate_seconds": round(generated, 1), "settle_seconds": round(seconds, 2),
            "lines_settled": settled, "payments": batch[0], "total_cents": batch[1],
            "released_cents": batch[3], "sepa_bytes": batch[2],
            "peak_rss_mb": round(rss_peak / 1024, 1),
            "rss_before_run_mb": round(rss_before / 1024, 1),
            "reconciliation_differences": differences[:5],
            "reconciliation_seconds": round(check_seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, help="one size, in this process; prints JSON")
    args = parser.parse_args()
    if args.n:
        print(json.dumps(run_one(args.n)))
        return
    runs = {}
    for n in (100_000, 1_000_000):
        print(f"settling {n} lines ...", flush=True)
        output = subprocess.run([sys.executable, __file__, "--n", str(n)], cwd=ROOT,
                                check=True, capture_output=True, text=True).stdout
        runs[n] = json.loads(output.strip().splitlines()[-1])
        print(json.dumps(runs[n]), flush=True)
    small, large = runs[100_000], runs[1_000_000]
    ratio = large["settle_seconds"] / small["settle_seconds"]
    write_result("settlement", {
        "runs": [small, large],
        "ratio_1m_to_100k": round(ratio, 2),
        "targets": {"1m_under_60_s": large["settle_seconds"] < 60,
                    "peak_under_500_mb": large["peak_rss_mb"] < 500,
                    "ratio_at_most_12": ratio <= 12,
                    "reconciles": not small["reconciliation_differences"]
                    and not large["reconciliation_differences"]},
    })


if __name__ == "__main__":
    main()
