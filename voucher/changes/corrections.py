"""The corrections a change of value makes to services already recorded from its start date.

Each such service event is replaced by one at the new value, with the house's own corrections:
an event not yet invoiced is voided, an invoiced or settled one is reversed by a correction
event (``redemptions.corrections.reversal_of``); the replacement, on the same day with the same
units and price, carries the new split into voucher share and self-share. The correction and
the replacement go on the provider's next invoice whatever their date, and the settlement of
that invoice pays the provider the difference, or recovers it. The units stay where they are:
the replacement holds what the replaced event held.

The client's self-share follows: one paid online is refunded to the card (``payments.refunds``,
made at Stripe by a job after the commit) and the new one is due; one the provider bills
itself stays the provider's to bill, at the new amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.money import split_payment
from voucher.payments.refunds import refund_self_share
from voucher.redemptions.corrections import reversal_of
from voucher.redemptions.models import (
    ClientShareStatus,
    Redemption,
    RedemptionStatus,
    not_corrected,
)


class CorrectedMeanwhile(DomainError):
    code = "corrected_meanwhile"
    status = 409
    message = _l("A service event of the voucher was corrected while the change was being "
                 "approved. Nothing was changed: approve the change again.")


@dataclass(frozen=True)
class PlannedCorrection:
    """A service event the change re-values, and its new split."""

    event: Redemption
    unit_value_cents: int
    voucher_pays_cents: int
    client_pays_cents: int

    @property
    def voucher_difference_cents(self) -> int:
        return self.voucher_pays_cents - self.event.voucher_pays_cents

    @property
    def client_difference_cents(self) -> int:
        return self.client_pays_cents - self.event.client_pays_cents


def live_events(session: Session, voucher_id: int, since: dt.date) -> list[Redemption]:
    """The voucher's service events from ``since`` on that stand as they are: not void, not a
    correction, not reversed by one."""
    return list(session.execute(
        sa.select(Redemption).where(
            Redemption.voucher_id == voucher_id, Redemption.service_date >= since,
            Redemption.status != RedemptionStatus.VOID, Redemption.corrects_id.is_(None),
            not_corrected())
        .order_by(Redemption.service_date, Redemption.id)).scalars())


def plan_corrections(session: Session, voucher_id: int, *, since: dt.date,
                     unit_value_cents: int) -> list[PlannedCorrection]:
    """The events from ``since`` whose split changes at the new value (an event priced at or
    below both values is paid the same and left alone)."""
    planned = []
    for event in live_events(session, voucher_id, since):
        voucher_pays, client_pays = split_payment(event.units, event.unit_price_cents,
                                                  unit_value_cents)
        if voucher_pays != event.voucher_pays_cents:
            planned.append(PlannedCorrection(event, unit_value_cents, voucher_pays,
                                             client_pays))
    return planned


def summarise(planned: list[PlannedCorrection]) -> dict:
    return {"events": len(planned),
            "voucher_cents": sum(p.voucher_difference_cents for p in planned),
            "client_cents": sum(p.client_difference_cents for p in planned),
            "invoiced": sum(1 for p in planned if p.event.status != RedemptionStatus.RECORDED),
            "paid_online_cents": sum(p.event.client_pays_cents for p in planned
                                     if p.event.client_share_status
                                     == ClientShareStatus.PAID_ONLINE)}


def _void_for_replacement(session: Session, event: Redemption, user_id: int | None) -> bool:
    """Void a not yet invoiced event (its units stay for the replacement); False when an
    invoice took it meanwhile."""
    voided = session.execute(
        sa.update(Redemption)
        .where(Redemption.id == event.id, Redemption.status == RedemptionStatus.RECORDED)
        .values(status=RedemptionStatus.VOID, voided_at=clock.now(), voided_by_user_id=user_id)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(event)
    return voided == 1


def make_corrections(session: Session, planned: list[PlannedCorrection], *, change_id: int,
                     decision_number: str, actor: Actor) -> dict:
    """Void or reverse each planned event and record its replacement at the new value, with
    the self-share refunds; returns the summary the change decision keeps."""
    summary = summarise(planned)
    refunded = 0
    for item in planned:
        event = item.event
        how = "void"
        if event.status != RedemptionStatus.RECORDED or \
                not _void_for_replacement(session, event, actor.user_id):
            how = "correction"
            correction = reversal_of(
                event, note=_("Correction of service event %(id)d: decision %(number)s "
                              "changed the value", id=event.id, number=decision_number),
                source=event.source, user_id=actor.user_id, voucher_change_id=change_id)
            try:
                with session.begin_nested():
                    session.add(correction)
                    session.flush()
            except sa.exc.IntegrityError as exc:  # the provider corrected it meanwhile
                raise CorrectedMeanwhile() from exc
        was = event.client_share_status
        refund = refund_self_share(session, redemption=event, reason=how, actor=actor)
        refunded += refund.amount_cents if refund is not None else 0
        status = None
        if item.client_pays_cents > 0:
            status = ClientShareStatus.BILLED_BY_PROVIDER \
                if was == ClientShareStatus.BILLED_BY_PROVIDER else ClientShareStatus.DUE
        replacement = Redemption(
            voucher_id=event.voucher_id, provider_id=event.provider_id,
            voucher_period_id=event.voucher_period_id, service_date=event.service_date,
            units=event.units, unit_price_cents=event.unit_price_cents,
            unit_value_cents=item.unit_value_cents, voucher_pays_cents=item.voucher_pays_cents,
            client_pays_cents=item.client_pays_cents, status=RedemptionStatus.RECORDED,
            replaces_id=event.id, voucher_change_id=change_id,
            caregiver_ref=event.caregiver_ref,
            note=_("Replaces service event %(id)d at the value of decision %(number)s",
                   id=event.id, number=decision_number),
            source=event.source, client_share_status=status, created_by_user_id=actor.user_id)
        session.add(replacement)
        session.flush()
        record_event(session, actor, "redemption.revalued", "redemption", replacement.id,
                     client_id=event.voucher.client_id, voucher_id=event.voucher_id,
                     provider_id=event.provider_id, replaces_id=event.id, how=how,
                     decision_number=decision_number,
                     voucher_difference_cents=item.voucher_difference_cents,
                     client_difference_cents=item.client_difference_cents)
    summary["refunded_cents"] = refunded
    return summary
