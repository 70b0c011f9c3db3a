"""Continuity of care: different caregivers per client per month, once enough data exists."""

import datetime as dt

from tests import factories
from voucher.audit.services import Actor
from voucher.redemptions.continuity import MIN_CLIENT_MONTHS, MIN_CLIENTS, caregiver_continuity
from voucher.redemptions.corrections import void_redemption


def _client_months(db, seller, service, clients: int, months: list[int], carers: list[str]):
    for _i in range(clients):
        voucher = factories.voucher(db, service=service, assigned_to=seller,
                                    valid_from=dt.date(2026, 1, 1), units=2000)
        for month in months:
            for day, carer in enumerate(carers, start=1):
                factories.service_event(db, voucher, service_date=dt.date(2026, month, day),
                                     caregiver_ref=carer)


def test_the_average_of_different_caregivers_per_client_month(db):
    service = factories.service_type(db)
    seller = factories.provider(db, services={service: 3900})
    # 5 clients × 2 months with carers A, B, A (2 different) …
    _client_months(db, seller, service, MIN_CLIENTS, [9, 10], ["HO-1", "HO-2", "HO-1"])
    assert MIN_CLIENTS * 2 >= MIN_CLIENT_MONTHS
    # … and one client with 4 different carers in one month: (10 × 2 + 4) / 11.
    _client_months(db, seller, service, 1, [11], ["HO-1", "HO-2", "HO-3", "HO-4"])
    figures = caregiver_continuity(db)
    assert figures[(seller.id, service.id)].caregivers_per_client_month == round(24 / 11, 1)
    assert figures[(seller.id, service.id)].clients == MIN_CLIENTS + 1


def test_too_little_data_gives_no_figure(db):
    service = factories.service_type(db)
    seller = factories.provider(db, services={service: 3900})
    _client_months(db, seller, service, MIN_CLIENTS - 1, [8, 9, 10], ["HO-1"])
    assert caregiver_continuity(db) == {}


def test_void_events_and_events_without_a_caregiver_do_not_count(db):
    service = factories.service_type(db)
    seller = factories.provider(db, services={service: 3900})
    _client_months(db, seller, service, MIN_CLIENTS, [9, 10], ["HO-1"])
    voucher = factories.voucher(db, service=service, assigned_to=seller,
                                valid_from=dt.date(2026, 1, 1))
    extra = factories.service_event(db, voucher, service_date=dt.date(2026, 9, 3),
                                 caregiver_ref="HO-9")
    factories.service_event(db, voucher, service_date=dt.date(2026, 9, 4))
    void_redemption(db, provider_id=seller.id, redemption_id=extra.id,
                    actor=Actor.system("test"))
    figure = caregiver_continuity(db, provider_ids=[seller.id])[(seller.id, service.id)]
    assert (figure.caregivers_per_client_month, figure.clients, figure.client_months) == (
        1.0, MIN_CLIENTS, MIN_CLIENTS * 2)
