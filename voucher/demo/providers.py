"""Demo step: providers in every state of the procedure, with realistic Finnish names, business
IDs that pass the checksum, prices in the real range (home care 35–45 €/h, cleaning 30–38 €/h),
sites, documents and a history of decisions; one application waits in the review queue."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fpdf import FPDF
from sqlalchemy.orm import Session
from stdnum.fi import ytunnus

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.accounts.passwords import hash_password
from voucher.catalogue.models import ServiceType
from voucher.municipalities.models import Municipality
from voucher.providers.documents import add_document
from voucher.providers.models import (
    DecisionAction,
    DocumentKind,
    PriceStatus,
    Provider,
    ProviderDecision,
    ProviderLanguage,
    ProviderPrice,
    ProviderService,
    ProviderSite,
    ProviderStatus,
    ServiceStatus,
)

PRICES_FROM = dt.date(2026, 1, 1)


def business_id(base: str) -> str:
    """A checksum-valid Y-tunnus from seven digits (weights 7, 9, 10, 5, 8, 4, 2, mod 11)."""
    remainder = sum(int(d) * w for d, w in zip(base, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    if remainder == 1:
        raise ValueError(f"no valid business ID starts with {base}")
    result = f"{base}-{0 if remainder == 0 else 11 - remainder}"
    return ytunnus.format(ytunnus.validate(result))


#: The provider of the demo user provider@example.fi.
DEMO_PROVIDER_BUSINESS_ID = business_id("3141593")

_APPROVED = dict(status=ProviderStatus.APPROVED)
PROVIDERS = [
    dict(business_id=DEMO_PROVIDER_BUSINESS_ID, legal_name="Hoivapalvelu Aurinko Oy",
         marketing_name="Aurinkohoiva", street_address="Kauppatie 12", postal_code="84100",
         city="Ylivieska", contact_person="Sari Aurinko", email="info@aurinkohoiva.example.fi",
         phone="+358 40 123 4567", iban="FI2112345600000785", bic="NDEAFIHH", **_APPROVED,
         languages=["fi", "sv"], municipalities=["009", "535", "746", "977"],
         services={"HOME_CARE": 3900, "CLEANING": 3300, "FAMILY_HOME_HELP": 3800}),
    dict(business_id=business_id("2236067"), legal_name="Siivouspalvelu Kuura Oy",
         marketing_name="Kuuran Siivous", street_address="Asematie 3", postal_code="85500",
         city="Nivala", contact_person="Jukka Kuura", email="asiakaspalvelu@kuura.example.fi",
         phone="+358 44 765 4321", iban="FI5810171000000122", bic="NDEAFIHH", **_APPROVED,
         languages=["fi"], municipalities=["535", "977"], services={"CLEANING": 3100}),
    dict(business_id=business_id("1618033"), legal_name="Kotihoito Pohjola Oy",
         marketing_name=None, street_address="Rautatienkatu 8", postal_code="84100",
         city="Ylivieska", contact_person="Maria Pohjola", email="maria@pohjolahoiva.example.fi",
         phone="+358 50 222 3344", iban="FI7944052020036082", bic="DABAFIHH", **_APPROVED,
         languages=["fi", "en"], municipalities=["009", "746", "977"],
         services={"HOME_CARE": 4200, "CAREGIVER_RELIEF": 15500}),
    dict(business_id=business_id("2718282"), legal_name="Nivalan Kotipalvelu Oy",
         marketing_name=None, street_address="Kalliontie 21", postal_code="85500",
         city="Nivala", contact_person="Eeva Mäkelä", email="eeva@nivalankotipalvelu.example.fi",
         phone="+358 40 818 2020", iban="FI4250001510000023", bic="OKOYFIHH", **_APPROVED,
         languages=["fi"], municipalities=["535", "746"],
         services={"HOME_CARE": 3650, "CLEANING": 3000},
         # A price increase waiting for the administrator (the old price stays in force).
         pending={"CLEANING": 3450}, waiting_days=1),
    dict(business_id=business_id("1414213"), legal_name="Sievin Siivouspiste Oy",
         marketing_name="Siivouspiste", street_address="Jokikyläntie 4", postal_code="85410",
         city="Sievi", contact_person="Timo Rautio", email="timo@siivouspiste.example.fi",
         phone="+358 45 131 4141", iban="FI1410093000123458", bic="NDEAFIHH", **_APPROVED,
         languages=["fi", "sv"], municipalities=["746", "977", "009"],
         services={"CLEANING": 3450}, insurance_in_days=20),
    dict(business_id=business_id("1732050"), legal_name="Hyvän Mielen Kotihoito Oy",
         marketing_name="Hyvä Mieli", street_address="Ojalankatu 7", postal_code="84100",
         city="Ylivieska", contact_person="Liisa Korhonen",
         email="liisa@hyvamieli.example.fi", phone="+358 50 173 2050",
         iban="FI3715903000000776", bic="NDEAFIHH", status=ProviderStatus.SUBMITTED,
         languages=["fi", "sv"], municipalities=["977", "009"],
         services={"HOME_CARE": 4100, "CLEANING": 3400}, waiting_days=3),
    dict(business_id=business_id("2449489"), legal_name="Puhdas Koti Ylivieska Oy",
         marketing_name="Puhdas Koti", street_address="Torikatu 2", postal_code="84100",
         city="Ylivieska", contact_person="Anne Salo", email="anne@puhdaskoti.example.fi",
         phone="+358 44 244 9489", iban="FI9780002707012345", bic="NDEAFIHH",
         status=ProviderStatus.CHANGES_REQUESTED, languages=["fi"], municipalities=["977"],
         services={"CLEANING": 3250},
         reason="Liittäkää voimassa oleva vastuuvakuutustodistus ja tarkentakaa palvelukuvausta: "
                "kuuluvatko ikkunanpesut hintaan?"),
    dict(business_id=business_id("1123581"), legal_name="Kotiapu Helmi Oy",
         marketing_name=None, street_address=None, postal_code=None, city="Sievi",
         contact_person="Helmi Niskanen", email="helmi@kotiapuhelmi.example.fi",
         phone=None, iban=None, bic=None, status=ProviderStatus.DRAFT, languages=["fi"],
         municipalities=["746"], services={"CLEANING": 3300}),
    dict(business_id=business_id("3316624"), legal_name="Pikasiivous Laine Oy",
         marketing_name=None, street_address="Teollisuustie 9", postal_code="84100",
         city="Ylivieska", contact_person="Kari Laine", email="kari@pikasiivous.example.fi",
         phone="+358 40 331 6624", iban="FI6550001520000014", bic="OKOYFIHH",
         status=ProviderStatus.REJECTED, languages=["fi"], municipalities=["977"],
         services={"CLEANING": 3700},
         reason="Yritys ei ole ennakkoperintärekisterissä, eikä omavalvontasuunnitelma täytä "
                "hyväksymisperusteita."),
    dict(business_id=business_id("2645751"), legal_name="Hoivapalvelu Lumo Oy",
         marketing_name="Lumohoiva", street_address="Kirkkotie 15", postal_code="84880",
         city="Ylivieska", contact_person="Pirjo Lumme", email="pirjo@lumohoiva.example.fi",
         phone="+358 50 264 5751", iban="FI0580001270037431", bic="DABAFIHH",
         status=ProviderStatus.SUSPENDED, languages=["fi"], municipalities=["977", "535"],
         services={"HOME_CARE": 4400}, insurance_valid_until=dt.date(2026, 10, 31),
         reason="Vastuuvakuutus on päättynyt 31.10.2026. Hyväksyntä on keskeytetty, kunnes "
                "voimassa oleva vakuutustodistus toimitetaan."),
    dict(business_id=business_id("1259921"), legal_name="Kotihoiva Tuulia Oy",
         marketing_name=None, street_address="Myllytie 3", postal_code="85500", city="Nivala",
         contact_person="Tuulia Rantala", email="tuulia@kotihoiva.example.fi",
         phone="+358 40 125 9921", iban="FI2350001520000030", bic="OKOYFIHH",
         status=ProviderStatus.REVOKED, languages=["fi"], municipalities=["535"],
         services={"HOME_CARE": 3800},
         reason="Valvontakäynnillä todettiin vakavia puutteita asiakasturvallisuudessa, eikä "
                "niitä korjattu määräajassa."),
]

#: Provider users besides provider@example.fi (people.py), to follow other states.
PROVIDER_USERS = [
    ("puhdaskoti@example.fi", "Anne Salo", business_id("2449489"),
     "provider user of Puhdas Koti Ylivieska Oy (changes requested)"),
    ("hyvamieli@example.fi", "Liisa Korhonen", business_id("1732050"),
     "provider user of Hyvän Mielen Kotihoito Oy (waiting for review)"),
]

#: How the services and their prices stand in each state of the provider.
_SERVICE_STATE = {
    ProviderStatus.APPROVED: (ServiceStatus.APPROVED, PriceStatus.APPROVED),
    ProviderStatus.SUSPENDED: (ServiceStatus.APPROVED, PriceStatus.APPROVED),
    ProviderStatus.REVOKED: (ServiceStatus.APPROVED, PriceStatus.APPROVED),
    ProviderStatus.SUBMITTED: (ServiceStatus.SUBMITTED, PriceStatus.PENDING),
    ProviderStatus.CHANGES_REQUESTED: (ServiceStatus.CHANGES_REQUESTED, PriceStatus.PENDING),
    ProviderStatus.REJECTED: (ServiceStatus.REJECTED, PriceStatus.REJECTED),
    ProviderStatus.DRAFT: (ServiceStatus.DRAFT, PriceStatus.PENDING),
}
_DECISION = {ProviderStatus.APPROVED: DecisionAction.APPROVED,
             ProviderStatus.SUSPENDED: DecisionAction.SUSPENDED,
             ProviderStatus.REVOKED: DecisionAction.REVOKED,
             ProviderStatus.CHANGES_REQUESTED: DecisionAction.CHANGES_REQUESTED,
             ProviderStatus.REJECTED: DecisionAction.REJECTED}


def _demo_pdf(title: str, company: str) -> bytes:
    """A small, real PDF (core font, no embedding) standing for an uploaded document."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, f"{company}\nDemoaineisto - ei oikea asiakirja.")
    return bytes(pdf.output())


def _add_document(session: Session, provider: Provider, kind: DocumentKind, title: str,
                  valid_until: dt.date | None) -> None:
    add_document(session, provider, kind=kind, valid_until=valid_until,
                 filename=f"{title.lower()}.pdf", data=_demo_pdf(title, provider.legal_name),
                 uploaded_at=clock.now() - dt.timedelta(days=5), uploaded_by_user_id=None)


def _add_services(session, provider, spec, service_types, decided_at) -> None:
    service_status, price_status = _SERVICE_STATE[spec["status"]]
    for code, price in spec["services"].items():
        approved = service_status == ServiceStatus.APPROVED
        offer = ProviderService(
            provider_id=provider.id, service_type_id=service_types[code].id,
            description=f"{service_types[code].name_fi} {provider.city}n alueella arkisin "
                        "klo 7–21, myös viikonloppuisin sopimuksen mukaan.",
            criteria_confirmed=True, status=service_status,
            decision_reason=spec.get("reason") if service_status in (
                ServiceStatus.REJECTED, ServiceStatus.CHANGES_REQUESTED) else None,
            current_price_cents=price if approved else None,
            decided_at=decided_at if spec["status"] != ProviderStatus.SUBMITTED else None)
        session.add(offer)
        session.flush()
        session.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=price,
                                  valid_from=PRICES_FROM, status=price_status,
                                  decided_at=decided_at if approved else None))
        if code in spec.get("pending", {}):
            session.add(ProviderPrice(provider_service_id=offer.id,
                                      unit_price_cents=spec["pending"][code],
                                      valid_from=clock.today(), status=PriceStatus.PENDING,
                                      requested_at=clock.now() - dt.timedelta(days=1)))
        if approved:
            session.add(ProviderDecision(provider_id=provider.id, provider_service_id=offer.id,
                                         action=DecisionAction.SERVICE_APPROVED.value,
                                         at=decided_at))


def _add_provider(session, spec, municipalities, service_types) -> Provider:
    spec = dict(spec)
    languages, area = spec.pop("languages"), spec.pop("municipalities")
    now = clock.now()
    submitted_at = now - dt.timedelta(days=spec.pop("waiting_days", 60))
    decided_at = now - dt.timedelta(days=30)
    state = {k: spec.pop(k) for k in ("services", "pending", "reason") if k in spec}
    complete = spec["status"] != ProviderStatus.DRAFT
    insured_until = clock.today() + dt.timedelta(days=spec.pop("insurance_in_days")) \
        if "insurance_in_days" in spec else dt.date(2027, 6, 30)
    provider = Provider(
        **{"insurance_valid_until": insured_until if complete else None, **spec},
        in_prepayment_register=complete and spec["status"] != ProviderStatus.REJECTED,
        in_trade_register=complete, soteri_registered=complete,
        soteri_registration_number=f"SOTERI-{spec['business_id'][:7]}" if complete else None,
        criminal_record_checks=complete, insurer="LähiTapiola" if complete else None,
        insurance_policy_number="VA-" + spec["business_id"][:7] if complete else None,
        status_reason=state.get("reason"),
        submitted_at=submitted_at if complete else None,
        decided_at=decided_at if spec["status"] not in (
            ProviderStatus.DRAFT, ProviderStatus.SUBMITTED) else None,
        review_requested_at=submitted_at if spec["status"] == ProviderStatus.SUBMITTED or
        state.get("pending") else None)
    provider.languages = [ProviderLanguage(language=code) for code in languages]
    provider.municipalities = [municipalities[code] for code in area]
    if complete:
        provider.sites = [ProviderSite(name="Toimisto", street_address=spec["street_address"],
                                       postal_code=spec["postal_code"], city=spec["city"],
                                       municipality_id=municipalities[area[0]].id)]
    session.add(provider)
    session.flush()
    _add_services(session, provider, {**spec, **state}, service_types, decided_at)
    if complete:
        _add_document(session, provider, DocumentKind.SELF_MONITORING_PLAN,
                      "Omavalvontasuunnitelma", None)
        _add_document(session, provider, DocumentKind.INSURANCE_CERTIFICATE,
                      "Vastuuvakuutustodistus", provider.insurance_valid_until)
        session.add(ProviderDecision(provider_id=provider.id, at=submitted_at,
                                     action=DecisionAction.SUBMITTED.value))
    if spec["status"] in _DECISION:
        session.add(ProviderDecision(provider_id=provider.id, at=decided_at,
                                     action=_DECISION[spec["status"]].value,
                                     reason=state.get("reason")))
    return provider


def load_providers(
    session: Session, municipalities: dict[str, Municipality], service_types: dict[str, ServiceType]
) -> dict[str, Provider]:
    """The demo providers, keyed by business ID; an existing provider is left as it is."""
    existing = {p.business_id: p for p in session.execute(sa.select(Provider)).scalars()}
    for spec in PROVIDERS:
        if spec["business_id"] not in existing:
            existing[spec["business_id"]] = _add_provider(session, spec, municipalities,
                                                          service_types)
    session.flush()
    return existing


def load_provider_users(session: Session, providers: dict[str, Provider],
                        password: str) -> list[tuple[str, str]]:
    """Users of providers in other states than approved; returns (e-mail, description)."""
    password_hash = hash_password(password)
    for email, name, business, _description in PROVIDER_USERS:
        if session.execute(sa.select(User.id).where(User.email == email)).first() is None:
            session.add(User(email=email, role=Role.PROVIDER, display_name=name, language="fi",
                             provider_id=providers[business].id, password_hash=password_hash))
    session.flush()
    return [(email, description) for email, _name, _business, description in PROVIDER_USERS]
