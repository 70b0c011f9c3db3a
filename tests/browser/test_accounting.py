"""The administrator changes a municipality's accounting dimensions (a refused value first),
runs settlement and downloads the batch's posting file, which carries the new dimensions and
is the file stored with the batch."""

import csv
import io
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from voucher.accounting.models import PostingFile
from voucher.settlement.models import PaymentBatch


def test_admin_edits_dimensions_and_downloads_the_posting_file(page, demo, tmp_path):
    login(page, "admin@example.fi")
    check_page(page)
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Kirjanpito", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirjanpito")
    check_page(page)
    page.get_by_role("table", name=re.compile("kunnittain ja palveluittain")).get_by_role(
        "row").filter(has_text="Ylivieska").filter(has_text="Kotihoito").get_by_role(
        "link", name=re.compile("^Muuta")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ylivieska, Kotihoito")
    check_page(page)
    page.get_by_label("Kirjanpitotili").fill("43 41")
    page.get_by_label("Kustannuspaikka").fill("")
    page.get_by_role("button", name="Tallenna muutos").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Anna kustannuspaikka.")
    expect(summary).to_contain_text("Käytä 1–20 kirjainta")
    check_page(page)
    page.get_by_label("Kirjanpitotili").fill("4345")
    page.get_by_label("Kustannuspaikka").fill("397711")
    page.get_by_label("Projekti").fill("KOTI26")
    page.get_by_role("button", name="Tallenna muutos").click()
    expect(page.get_by_text(re.compile("Uudet tiliöintitiedot ovat voimassa"))).to_be_visible()
    expect(page.get_by_role("table", name="Tiliöintitiedot ja niiden muutokset")
           ).to_contain_text("397711")
    check_page(page)

    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Tilitys", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tilitys")
    check_page(page)
    page.get_by_role("button", name=re.compile("Suorita tilitys: maksa")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maksuerä")
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Lataa tiliöintitiedosto (CSV)").click()
    path = tmp_path / "postings.csv"
    download.value.save_as(path)
    demo.rollback()
    batch = demo.execute(sa.select(PaymentBatch).order_by(PaymentBatch.id.desc())).scalars() \
        .first()
    assert path.read_bytes() == demo.get(PostingFile, batch.id).csv_content
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    ylivieska = [r for r in rows if r["municipality"] == "977" and r["service"] == "HOME_CARE"]
    assert ylivieska and {(r["account"], r["cost_centre"], r["project"]) for r in ylivieska} \
        == {("4345", "397711", "KOTI26")}
    debit = sum(float(r["debit"]) for r in rows)
    assert round(debit, 2) == round(sum(float(r["credit"]) for r in rows), 2)
