"""ServiceType and its dated values: rates (unit value, price cap) and income tables."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type


class Unit(enum.StrEnum):
    HOUR = "hour"
    VISIT = "visit"
    DAY = "day"
    MONTH = "month"


class ServiceType(Base):
    """An item of the service catalogue (home care per hour, cleaning help per hour, …)."""

    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_fi: Mapped[str] = mapped_column(sa.String(200))
    name_sv: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[Unit] = mapped_column(enum_type(Unit, "unit"))
    #: Units may be given in hundredths (1.5 hours); otherwise only whole units.
    fractional_units: Mapped[bool] = mapped_column(default=False)
    #: The voucher value depends on household size and income (see IncomeTable).
    income_related: Mapped[bool] = mapped_column(default=False)
    #: The law makes this service free for the client: the voucher pays the chosen provider's
    #: approved price up to the price cap, there is no self-share, and the cap is committed.
    free_for_client: Mapped[bool] = mapped_column(default=False)
    #: Providers must be registered in Soteri (the national register of social and health care
    #: providers) to offer this service.
    requires_soteri: Mapped[bool] = mapped_column(default=False)
    #: A service to children: the provider confirms criminal-record checks of its staff.
    for_children: Mapped[bool] = mapped_column(default=False)
    description_fi: Mapped[str] = mapped_column(sa.Text, default="")
    description_sv: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    #: The published approval criteria a provider must meet and confirm.
    criteria_fi: Mapped[str] = mapped_column(sa.Text, default="")
    criteria_sv: Mapped[str] = mapped_column(sa.Text, default="")
    criteria_en: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    rates: Mapped[list[ServiceTypeRate]] = relationship(
        back_populates="service_type", order_by="ServiceTypeRate.valid_from"
    )

    def __repr__(self) -> str:
        return f"<ServiceType {self.code}>"


class ServiceTypeRate(Base):
    """The voucher unit value and price cap of a service type from a date on. Changes add a row;
    rows are never rewritten, so the value in force on any date stays answerable."""

    __tablename__ = "service_type_rates"
    __table_args__ = (
        sa.UniqueConstraint("service_type_id", "valid_from"),
        sa.CheckConstraint("unit_value_cents >= 0", name="unit_value_not_negative"),
        sa.CheckConstraint("price_cap_cents IS NULL OR price_cap_cents >= unit_value_cents",
                           name="cap_not_below_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"))
    valid_from: Mapped[dt.date]
    #: Default voucher value per unit (for income-related services: the maximum value).
    unit_value_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: Highest unit price a provider may be approved with; NULL = no cap.
    price_cap_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    service_type: Mapped[ServiceType] = relationship(back_populates="rates")


class IncomeTable(Base):
    """How an income-related voucher's value is computed, from a date on.

    value = maximum value − (gross monthly income − income limit of the household size) ×
    reduction percentage, never below zero; below ``minimum_value_cents`` no voucher is granted.
    The maximum value is the service type's unit value on the decision date.
    """

    __tablename__ = "income_tables"
    __table_args__ = (
        sa.UniqueConstraint("service_type_id", "valid_from"),
        sa.CheckConstraint("minimum_value_cents >= 0", name="minimum_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"))
    valid_from: Mapped[dt.date]
    minimum_value_cents: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    rows: Mapped[list[IncomeTableRow]] = relationship(
        order_by="IncomeTableRow.household_size", cascade="all, delete-orphan"
    )


class IncomeTableRow(Base):
    """Income limit and reduction percentage for one household size; the largest size listed
    also applies to larger households."""

    __tablename__ = "income_table_rows"
    __table_args__ = (
        sa.UniqueConstraint("income_table_id", "household_size"),
        sa.CheckConstraint("household_size >= 1", name="household_size_positive"),
        sa.CheckConstraint("income_limit_cents >= 0", name="limit_not_negative"),
        sa.CheckConstraint("reduction_basis_points BETWEEN 0 AND 10000",
                           name="reduction_is_percentage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    income_table_id: Mapped[int] = mapped_column(
        sa.ForeignKey("income_tables.id", ondelete="CASCADE"))
    household_size: Mapped[int]
    income_limit_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: Percentage of the income above the limit that reduces the value, in hundredths of a
    #: percent (1 % = 100).
    reduction_basis_points: Mapped[int]
