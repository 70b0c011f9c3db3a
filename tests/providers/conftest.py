"""Helpers for the provider tests: a catalogue, PDFs, provider users and complete applications
built through the same services the pages use."""

from __future__ import annotations

import datetime as dt
import functools
import itertools

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from fpdf import FPDF

from tests import factories
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.providers import application, documents, registration, sites
from voucher.providers.models import DocumentKind

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def business_id() -> str:
    """A fresh, checksum-valid business ID."""
    while True:
        base = f"{3_000_000 + next(_numbers) * 7_577:07d}"
        remainder = sum(int(d) * w for d, w in zip(base, (7, 9, 10, 5, 8, 4, 2),
                                                     strict=True)) % 11
        if remainder != 1:
            return f"{base}-{0 if remainder == 0 else 11 - remainder}"


@functools.cache
def pdf_bytes(text: str = "Omavalvontasuunnitelma") -> bytes:
    """A small PDF; the same text gives the same bytes (fpdf2 stamps the time into its id)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.fixture
def catalogue(db):
    """Home care (needs Soteri, cap 48 €) and cleaning help (cap 38 €), both per hour."""
    home_care = factories.service_type(db, "HOME_CARE", value=3200, cap=4800)
    home_care.name_fi, home_care.name_sv = "Kotihoito", "Hemvård"
    home_care.requires_soteri = True
    cleaning = factories.service_type(db, "CLEANING", value=2500, cap=3800)
    cleaning.name_fi, cleaning.name_sv = "Siivousapu", "Städhjälp"
    factories.municipality(db, "977", "Ylivieska")
    factories.municipality(db, "535", "Nivala")
    db.commit()
    return {"HOME_CARE": home_care, "CLEANING": cleaning}


COMPLETE_DETAILS = dict(
    marketing_name="Testihoiva", street_address="Kauppatie 1", postal_code="84100",
    city="Ylivieska", contact_person="Testi Henkilö", email="info@testihoiva.example.fi",
    phone="+358 40 111 2222", website="https://testihoiva.example.fi",
    iban="FI2112345600000785", bic="NDEAFIHH", in_prepayment_register=True,
    in_trade_register=True, soteri_registered=True, soteri_registration_number="S-1",
    criminal_record_checks=True, insurer="LähiTapiola", insurance_policy_number="VA-1",
    insurance_valid_until=dt.date(2027, 6, 30))


def draft(db, *, email: str | None = None, language: str = "fi", name: str = "Testihoiva Oy"):
    """A registered provider with an empty draft, and its user."""
    provider, user = registration.register_provider(
        db, business_id=business_id(), legal_name=name, contact_person="Testi Henkilö",
        email=email or f"hakija{next(_numbers)}@example.fi", password=PASSWORD,
        language=language, actor=Actor.system("test"))
    return provider, user


def complete_application(db, *, prices: dict, email: str | None = None,
                         language: str = "fi", submit: bool = False, name="Testihoiva Oy"):
    """A draft with everything a submission needs; ``prices`` maps codes to cents."""
    import sqlalchemy as sa

    from voucher.catalogue.models import ServiceType
    from voucher.municipalities.models import Municipality

    provider, user = draft(db, email=email, language=language, name=name)
    actor = Actor.of_user(user)
    types = {s.code: s for s in db.execute(sa.select(ServiceType)).scalars()}
    area = db.execute(sa.select(Municipality.id)).scalars().all()
    application.save_application(
        db, provider, actor=actor, details=COMPLETE_DETAILS, municipality_ids=area,
        languages=["fi", "sv"],
        offers=[application.OfferInput(types[code].id, True, cents, f"{code} kuvaus", True)
                for code, cents in prices.items()])
    sites.add_site(db, provider, actor=actor, name="Toimisto", street_address="Kauppatie 1",
                   postal_code="84100", city="Ylivieska", municipality_id=area[0])
    for kind in (DocumentKind.SELF_MONITORING_PLAN, DocumentKind.INSURANCE_CERTIFICATE):
        documents.store_document(db, provider, actor=actor, kind=kind,
                                 valid_until=dt.date(2027, 6, 30), filename=f"{kind}.pdf",
                                 data=pdf_bytes())
    if submit:
        application.submit_application(db, provider, actor=actor)
    db.commit()
    return provider, user


@pytest.fixture
def admin(db):
    user = factories.user(db, role=Role.ADMIN, email="kasittelija@example.fi")
    db.commit()
    return user


def login(auth, user) -> None:
    """Log the user in; the test's session is left without a transaction (on SQLite an open
    one would keep reading its old snapshot)."""
    response = auth.login(user.email, PASSWORD if user.role == Role.PROVIDER
                          else factories.PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    sa.orm.object_session(user).rollback()


def form_data(db, provider, **changes) -> dict:
    """The edit form as the browser would post it for the saved application, with changes."""
    from voucher.money import format_cents
    from voucher.providers.forms import application_data

    data = {}
    for name, value in application_data(db, provider).items():
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "y"
        elif name.endswith("_price"):
            data[name] = format_cents(value, "fi").replace("\u00a0€", "")
        elif isinstance(value, list):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data
