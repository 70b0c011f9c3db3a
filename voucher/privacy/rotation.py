"""Re-encrypting personal data with the newest key.

To rotate: put a new Fernet key first in VOUCHER_IDENTITY_KEYS (keep the old ones after it),
restart, and run ``flask --app voucher keys rotate``. It re-encrypts in batches, committing
each, so it can be stopped and run again: values already under the newest key are skipped.
When it reports nothing left, the old keys can be removed from the setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.accounts.models import User
from voucher.clients.models import Client
from voucher.crypto import DataCipher
from voucher.mandates.models import Mandate

#: (model, encrypted column) pairs holding data under VOUCHER_IDENTITY_KEYS.
ENCRYPTED_COLUMNS = [
    (Client, Client.identity_code_encrypted),
    (User, User.totp_secret_encrypted),
    (Mandate, Mandate.representative_code_encrypted),
]


@dataclass
class RotationReport:
    rotated: dict[str, int] = field(default_factory=dict)
    already_current: dict[str, int] = field(default_factory=dict)


def rotate_keys(
    session: Session, data_cipher: DataCipher, *, batch_size: int = 500,
    progress: Callable[[str], None] = lambda _line: None,
) -> RotationReport:
    """Re-encrypt every encrypted value that is not under the newest key; commit per batch."""
    report = RotationReport()
    for model, column in ENCRYPTED_COLUMNS:
        name = f"{model.__tablename__}.{column.key}"
        rotated = current = 0
        last_id = 0
        while True:
            rows = session.execute(
                sa.select(model.id, column).where(model.id > last_id, column.is_not(None))
                .order_by(model.id).limit(batch_size)
            ).all()
            if not rows:
                break
            for row_id, token in rows:
                if data_cipher.is_current(token):
                    current += 1
                    continue
                session.execute(sa.update(model).where(model.id == row_id)
                                .values({column.key: data_cipher.rotate(token)}))
                rotated += 1
            last_id = rows[-1][0]
            session.commit()
            progress(f"{name}: {rotated} re-encrypted, {current} already current")
        report.rotated[name] = rotated
        report.already_current[name] = current
    return report
