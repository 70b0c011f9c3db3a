"""Municipality: official number and names."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from voucher.db import Base


class Municipality(Base):
    """A member municipality. Its budgets pay for its own residents' vouchers."""

    __tablename__ = "municipalities"
    __table_args__ = (sa.CheckConstraint("length(code) = 3", name="code_three_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Statistics Finland's municipality number, three digits with leading zeros ("009").
    code: Mapped[str] = mapped_column(sa.String(3), unique=True)
    name_fi: Mapped[str] = mapped_column(sa.String(100))
    name_sv: Mapped[str] = mapped_column(sa.String(100))

    def name(self, language: str) -> str:
        """The name in a UI language; English uses the Finnish name."""
        return self.name_sv if language == "sv" else self.name_fi

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name_fi}>"
