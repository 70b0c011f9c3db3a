"""Demo step: the member municipalities of Peruspalvelukuntayhtymä Kallio."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.municipalities.models import Municipality

#: Statistics Finland's municipality numbers. All four are monolingually Finnish, so their
#: official Swedish names are the same as the Finnish ones.
MUNICIPALITIES = [
    ("009", "Alavieska", "Alavieska"),
    ("535", "Nivala", "Nivala"),
    ("746", "Sievi", "Sievi"),
    ("977", "Ylivieska", "Ylivieska"),
]


def load_municipalities(session: Session) -> dict[str, Municipality]:
    """The four members, keyed by municipality number."""
    existing = {m.code: m for m in session.execute(sa.select(Municipality)).scalars()}
    for code, name_fi, name_sv in MUNICIPALITIES:
        if code not in existing:
            existing[code] = Municipality(code=code, name_fi=name_fi, name_sv=name_sv)
            session.add(existing[code])
    session.flush()
    return existing
