"""Accounting dimensions (dated), supplier numbers (dated) and stored posting files.

A change never rewrites history: it is a new row from a date on, and the value in force on a
date is the row of that key with the latest ``valid_from`` on or before it. The database keeps
one row per key and date (unique constraints), so "in force on" always has one answer.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.db import Base, enum_type
from voucher.municipalities.models import Municipality

#: The dimensions of one posting, in the order the files and pages show them. ``account`` is
#: always required; a municipality × service type also needs a ``cost_centre``.
DIMENSION_FIELDS = ("account", "cost_centre", "project", "internal_order", "vat_code")


class AuthorityAccount(enum.StrEnum):
    """The authority's own accounts in a posting file."""

    #: The bank account the payments leave from: the bank-side line of each payment.
    BANK = "bank"
    #: The clearing account of self-shares clients paid online (collected for the providers,
    #: passed on with their payments; refunds recovered from them are credited back).
    SELF_SHARES = "self_shares"


class AccountingDimensions(Base):
    """The dimensions of one key from ``valid_from`` on: either a municipality × service type
    (where its vouchers' spending is posted) or one of the authority's own accounts."""

    __tablename__ = "accounting_dimensions"
    __table_args__ = (
        sa.CheckConstraint(
            "(municipality_id IS NOT NULL AND service_type_id IS NOT NULL "
            "AND authority_account IS NULL) OR (municipality_id IS NULL "
            "AND service_type_id IS NULL AND authority_account IS NOT NULL)",
            name="one_key"),
        sa.CheckConstraint("municipality_id IS NULL OR cost_centre IS NOT NULL",
                           name="cost_centre_for_services"),
        sa.UniqueConstraint("municipality_id", "service_type_id", "valid_from"),
        sa.UniqueConstraint("authority_account", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipalities.id"))
    service_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_types.id"))
    authority_account: Mapped[AuthorityAccount | None] = mapped_column(
        enum_type(AuthorityAccount, "authority_account"))
    valid_from: Mapped[dt.date]
    #: The ledger account (kirjanpitotili).
    account: Mapped[str] = mapped_column(sa.String(20))
    #: The cost centre (kustannuspaikka).
    cost_centre: Mapped[str | None] = mapped_column(sa.String(20))
    project: Mapped[str | None] = mapped_column(sa.String(20))
    internal_order: Mapped[str | None] = mapped_column(sa.String(20))
    #: The VAT code of the ERP (social services are exempt: e.g. the code of "0 %, exempt").
    vat_code: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    municipality: Mapped[Municipality | None] = relationship()
    service_type: Mapped[ServiceType | None] = relationship()

    def values(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DIMENSION_FIELDS}


class SupplierNumber(Base):
    """A provider's supplier number in the authority's purchase ledger, from a date on."""

    __tablename__ = "supplier_numbers"
    __table_args__ = (sa.UniqueConstraint("provider_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    valid_from: Mapped[dt.date]
    supplier_number: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class PostingFile(Base):
    """A payment batch's posting file, CSV and JSON, as made with the batch: downloads give
    these bytes, so the ERP gets the same file however often it is fetched."""

    __tablename__ = "posting_files"

    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_batches.id"), primary_key=True)
    #: The date whose dimensions the file uses (the batch's day in Finland).
    posted_on: Mapped[dt.date]
    csv_content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    json_content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: Hex SHA-256 of each content when it was stored; the reconciliation checks them.
    csv_sha256: Mapped[str] = mapped_column(sa.String(64))
    json_sha256: Mapped[str] = mapped_column(sa.String(64))
    line_count: Mapped[int]
    #: Sum of the debits (equal to the credits) in cents.
    total_cents: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
