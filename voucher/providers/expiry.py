"""The expiry watch (run daily from cron): a reminder to the provider 30 days before its
insurance or a document expires, and a notice after it has expired, when the administrators'
flag also goes up. Each notice is sent once per item and expiry date, however often the watch
runs; a renewed date gets notices of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.providers.models import ExpiryNoticeKind, Provider, ProviderExpiryNotice
from voucher.providers.notices import notify_provider
from voucher.providers.supervision import ExpiringItem, dated_items, providers_ending_before

REMINDER_DAYS = 30


@dataclass
class WatchReport:
    reminders: int = 0
    expired: int = 0


def _claim(session: Session, provider_id: int, key: str, valid_until: dt.date,
           kind: ExpiryNoticeKind) -> bool:
    """Record the notice; False when it was already sent (by this or a concurrent run: the
    unique constraint decides, without an error)."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)(ProviderExpiryNotice)
    inserted = session.execute(insert.values(
        provider_id=provider_id, item=key, valid_until=valid_until, kind=kind,
        sent_at=clock.now()).on_conflict_do_nothing().returning(ProviderExpiryNotice.id))
    return inserted.scalar() is not None


def reminder_horizon(today: dt.date) -> dt.date:
    """Items ending before this day are reminded of (or have expired)."""
    return today + dt.timedelta(days=REMINDER_DAYS + 1)


def items_to_renew(provider: Provider, today: dt.date) -> list[ExpiringItem]:
    """The provider's insurance and documents that have expired or expire within
    REMINDER_DAYS: what the watch writes about, and the provider's home page counts."""
    horizon = reminder_horizon(today)
    return [item for item in dated_items(provider) if item.valid_until < horizon]


def check_expiry(session: Session, *, today: dt.date | None = None) -> WatchReport:
    """Send the due reminders and expiry notices; return how many went out."""
    today = today or clock.today()
    report = WatchReport()
    actor = Actor.system("expiry-watch")
    for provider in providers_ending_before(session, reminder_horizon(today)):
        for item in items_to_renew(provider, today):
            kind = ExpiryNoticeKind.EXPIRED if item.valid_until < today \
                else ExpiryNoticeKind.REMINDER
            if not _claim(session, provider.id, item.key, item.valid_until, kind):
                continue
            notify_provider(session, provider, f"expiry_{kind.value}", item=item,
                            days=(item.valid_until - today).days)
            record_event(session, actor, f"provider.expiry_{kind.value}", "provider",
                         provider.id, item=item.key, valid_until=item.valid_until.isoformat())
            if kind == ExpiryNoticeKind.EXPIRED:
                report.expired += 1
            else:
                report.reminders += 1
    return report
