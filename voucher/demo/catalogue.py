"""Demo step: the service catalogue with values and caps near the real range."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.catalogue.models import ServiceType, ServiceTypeRate, Unit

RATES_FROM = dt.date(2026, 1, 1)

#: code, names fi/sv/en, unit, value, cap, income-related, free for client, flags
SERVICE_TYPES = [
    dict(code="HOME_CARE", name_fi="Kotihoito", name_sv="Hemvård", name_en="Home care",
         unit=Unit.HOUR, fractional_units=True, income_related=True, requires_soteri=True,
         value=3200, cap=4800,
         description_fi="Säännöllinen kotihoito: henkilökohtainen hoiva, lääkehoito ja "
                        "päivittäisissä toimissa avustaminen kotona.",
         description_sv="Regelbunden hemvård: personlig omsorg, läkemedelsbehandling och hjälp "
                        "med dagliga sysslor i hemmet.",
         description_en="Regular home care: personal care, medication and help with daily "
                        "activities at home.",
         criteria_fi="Palveluntuottaja on rekisteröity Soteri-rekisteriin, henkilöstöllä on "
                     "sosiaali- ja terveydenhuollon ammattipätevyys ja omavalvontasuunnitelma "
                     "on laadittu.",
         criteria_sv="Serviceproducenten är registrerad i Soteri, personalen har yrkesbehörighet "
                     "inom social- och hälsovården och en plan för egenkontroll finns.",
         criteria_en="The provider is registered in Soteri, the staff are qualified social and "
                     "health care professionals, and a self-monitoring plan exists."),
    dict(code="CLEANING", name_fi="Siivousapu", name_sv="Städhjälp", name_en="Cleaning help",
         unit=Unit.HOUR, fractional_units=True, income_related=False, value=2500, cap=3800,
         description_fi="Kodin ylläpitosiivous ikääntyneille ja vammaisille asiakkaille.",
         description_sv="Underhållsstädning av hemmet för äldre och personer med "
                        "funktionsnedsättning.",
         description_en="Regular cleaning of the home for elderly and disabled clients.",
         criteria_fi="Yritys on ennakkoperintärekisterissä ja sillä on vastuuvakuutus.",
         criteria_sv="Företaget finns i förskottsuppbördsregistret och har en "
                     "ansvarsförsäkring.",
         criteria_en="The company is in the prepayment register and has liability insurance."),
    dict(code="CAREGIVER_RELIEF", name_fi="Omaishoidon vapaa",
         name_sv="Ledighet för närståendevårdare", name_en="Caregiver's relief",
         unit=Unit.DAY, fractional_units=False, income_related=False, free_for_client=False,
         requires_soteri=True, value=12000, cap=18000,
         description_fi="Hoito omaishoitajan lakisääteisen vapaan ajaksi.",
         description_sv="Vård under närståendevårdarens lagstadgade ledighet.",
         description_en="Care during the family caregiver's statutory days off.",
         criteria_fi="Ympärivuorokautinen hoito ja Soteri-rekisteröinti.",
         criteria_sv="Vård dygnet runt och registrering i Soteri.",
         criteria_en="Round-the-clock care and registration in Soteri."),
    dict(code="FAMILY_HOME_HELP", name_fi="Lapsiperheiden kotipalvelu",
         name_sv="Hemservice för barnfamiljer", name_en="Family home help",
         unit=Unit.HOUR, fractional_units=True, income_related=False, free_for_client=True,
         for_children=True, value=4000, cap=4000,
         description_fi="Lapsiperheen arjen tuki: lastenhoito ja kodinhoito. Asiakkaalle "
                        "maksuton.",
         description_sv="Stöd i barnfamiljens vardag: barnskötsel och hemvård. Avgiftsfri för "
                        "klienten.",
         description_en="Support for families with children: childcare and housework. Free "
                        "for the client.",
         criteria_fi="Henkilöstön rikostaustaote on tarkastettu.",
         criteria_sv="Personalens straffregisterutdrag har kontrollerats.",
         criteria_en="The staff's criminal records have been checked."),
]


def load_service_types(session: Session) -> dict[str, ServiceType]:
    """The catalogue, keyed by code; each type with a rate from the start of 2026."""
    existing = {s.code: s for s in session.execute(sa.select(ServiceType)).scalars()}
    for spec in SERVICE_TYPES:
        spec = dict(spec)
        value, cap = spec.pop("value"), spec.pop("cap")
        if spec["code"] in existing:
            continue
        service_type = ServiceType(**spec)
        session.add(service_type)
        session.flush()
        session.add(ServiceTypeRate(service_type_id=service_type.id, valid_from=RATES_FROM,
                                    unit_value_cents=value, price_cap_cents=cap))
        existing[service_type.code] = service_type
    session.flush()
    return existing
