"""Repairing providers' text stored before every input was cleaned (``voucher.text``).

Settlement holds a provider whose name holds a control character (the payment file cannot
carry it); ``flask --app voucher providers clean-text`` removes such characters from the
providers' stored text, so that the next run pays it. Each repaired provider gets an audit
event naming the fields (not their values).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.audit.services import Actor, record_event
from voucher.providers.models import Provider, ProviderSite
from voucher.text import repair_text

#: Text columns people typed: (model, columns).
_TEXT = (
    (Provider, ("legal_name", "marketing_name", "street_address", "postal_code", "city",
                "contact_person", "email", "phone", "website", "insurer",
                "insurance_policy_number", "soteri_registration_number", "status_reason")),
    (ProviderSite, ("name", "street_address", "postal_code", "city")),
)


def repair_provider_texts(session: Session, *, dry_run: bool = False,
                          actor: Actor | None = None) -> list[tuple[int, list[str]]]:
    """(provider id, repaired fields) for every provider whose stored text changes."""
    actor = actor or Actor.system("providers clean-text")
    repaired: dict[int, list[str]] = {}
    for model, columns in _TEXT:
        for row in session.execute(sa.select(model).order_by(model.id)).scalars():
            provider_id = row.id if model is Provider else row.provider_id
            for column in columns:
                value = getattr(row, column)
                fixed = repair_text(value, multiline=column == "status_reason")
                if fixed != value:
                    repaired.setdefault(provider_id, []).append(
                        column if model is Provider else f"site.{column}")
                    if not dry_run:
                        setattr(row, column, fixed)
    if not dry_run:
        session.flush()
        for provider_id, fields in sorted(repaired.items()):
            record_event(session, actor, "provider.text_repaired", "provider", provider_id,
                         fields=fields)
    return sorted(repaired.items())
