"""Client: a resident of a member municipality."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base
from voucher.municipalities.models import Municipality


class Client(Base):
    """A voucher holder. The personal identity code is stored only encrypted, with a keyed
    hash for uniqueness and a masked form for display; every view of it is audited."""

    __tablename__ = "clients"
    __table_args__ = (
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.CheckConstraint("household_size IS NULL OR household_size >= 1",
                           name="household_size_positive"),
        sa.CheckConstraint("gross_monthly_income_cents IS NULL OR gross_monthly_income_cents >= 0",
                           name="income_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Fernet token of the henkilötunnus (NULL once pseudonymised).
    identity_code_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    #: HMAC of the normalised henkilötunnus: finds duplicates without decrypting.
    identity_code_index: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Shown instead of the code, e.g. "131052-****".
    identity_code_masked: Mapped[str] = mapped_column(sa.String(11))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    street_address: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(10))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    #: Needed only for income-related vouchers.
    household_size: Mapped[int | None]
    gross_monthly_income_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: use_alter: users and clients refer to each other (a client user belongs to a client).
    created_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True))
    #: Set when retention replaced the personal data with a pseudonym.
    pseudonymised_at: Mapped[dt.datetime | None]

    municipality: Mapped[Municipality] = relationship()

    @property
    def is_pseudonymised(self) -> bool:
        return self.pseudonymised_at is not None

    @property
    def full_name(self) -> str:
        if self.is_pseudonymised:
            return self.pseudonymised_label
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self) -> str:
        """What a provider sees: first name and the initial of the last name."""
        if self.is_pseudonymised:
            return self.pseudonymised_label
        initial = self.last_name[:1]
        return f"{self.first_name} {initial}." if initial else self.first_name

    @property
    def pseudonymised_label(self) -> str:
        """How staff pages, invoices and mail name a client whose data retention removed."""
        return gettext("Pseudonymised client #%(id)s", id=self.id)

    def __repr__(self) -> str:
        return f"<Client {self.id}>"
