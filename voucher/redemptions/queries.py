"""What a provider sees of its vouchers and service events (portal and API).

Every query is scoped to the provider: another provider's vouchers and events never appear.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher, VoucherStatus


def _page(session: Session, query: sa.Select, page: int, per_page: int) -> tuple[list, int]:
    total = session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = session.execute(
        query.limit(per_page).offset((page - 1) * per_page)
    ).unique().scalars().all()
    return list(items), total


def provider_vouchers(session: Session, *, provider_id: int, status: VoucherStatus | None = None,
                      page: int = 1, per_page: int = 50) -> tuple[list[Voucher], int]:
    """Vouchers whose chosen provider is the caller, newest validity first."""
    query = (sa.select(Voucher).where(Voucher.provider_id == provider_id)
             .options(joinedload(Voucher.service_type), joinedload(Voucher.client))
             .order_by(Voucher.valid_until.desc(), Voucher.id.desc()))
    if status is not None:
        query = query.where(Voucher.status == status)
    return _page(session, query, page, per_page)


def usable_vouchers(session: Session, *, provider_id: int) -> list[Voucher]:
    """The provider's assigned vouchers: those on which services can be recorded."""
    return list(session.execute(
        sa.select(Voucher)
        .where(Voucher.provider_id == provider_id, Voucher.status == VoucherStatus.ASSIGNED)
        .options(joinedload(Voucher.service_type), joinedload(Voucher.client))
        .order_by(Voucher.valid_until, Voucher.id)
    ).scalars().all())


def provider_redemptions(
    session: Session, *, provider_id: int, from_date: dt.date | None = None,
    to_date: dt.date | None = None, status: RedemptionStatus | None = None,
    page: int = 1, per_page: int = 50, newest_first: bool = False,
) -> tuple[list[Redemption], int]:
    """The provider's service events, filtered by service date and status."""
    query = (sa.select(Redemption).where(Redemption.provider_id == provider_id)
             .options(joinedload(Redemption.voucher).joinedload(Voucher.client),
                      joinedload(Redemption.voucher).joinedload(Voucher.service_type)))
    if from_date is not None:
        query = query.where(Redemption.service_date >= from_date)
    if to_date is not None:
        query = query.where(Redemption.service_date <= to_date)
    if status is not None:
        query = query.where(Redemption.status == status)
    if newest_first:
        query = query.order_by(Redemption.service_date.desc(), Redemption.id.desc())
    else:
        query = query.order_by(Redemption.service_date, Redemption.id)
    return _page(session, query, page, per_page)
