"""Provider, its services and prices (kept with their validity), sites, documents, decisions."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.db import Base, enum_type
from voucher.municipalities.models import Municipality


class ProviderStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


provider_municipalities = sa.Table(
    "provider_municipalities",
    Base.metadata,
    sa.Column("provider_id", sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("municipality_id", sa.ForeignKey("municipalities.id"), primary_key=True),
    sa.Index("ix_provider_municipalities_municipality", "municipality_id", "provider_id"),
)


class Provider(Base):
    """A company that applies to sell services for vouchers, identified by its business ID."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Y-tunnus in the canonical form 1234567-8, checksum-validated. One provider per ID.
    business_id: Mapped[str] = mapped_column(sa.String(9), unique=True)
    legal_name: Mapped[str] = mapped_column(sa.String(200))
    marketing_name: Mapped[str | None] = mapped_column(sa.String(200))
    street_address: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(10))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    contact_person: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    #: The verified payout account: entered with the application (and reviewed with it); once
    #: the provider has been approved, changed only by an approved BankAccountChange. Settlement
    #: pays this account and no other.
    iban: Mapped[str | None] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    in_prepayment_register: Mapped[bool] = mapped_column(default=False)
    in_trade_register: Mapped[bool] = mapped_column(default=False)
    #: Registered in Soteri, the national register of social and health care providers.
    soteri_registered: Mapped[bool] = mapped_column(default=False)
    soteri_registration_number: Mapped[str | None] = mapped_column(sa.String(50))
    #: Criminal-record checks of staff done (required for services to children).
    criminal_record_checks: Mapped[bool] = mapped_column(default=False)
    insurer: Mapped[str | None] = mapped_column(sa.String(200))
    insurance_policy_number: Mapped[str | None] = mapped_column(sa.String(100))
    insurance_valid_until: Mapped[dt.date | None]
    status: Mapped[ProviderStatus] = mapped_column(
        enum_type(ProviderStatus, "status"), default=ProviderStatus.DRAFT, index=True)
    #: Why the provider is in its current state (suspension, revocation, requested changes).
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    #: Since when something of this provider waits for review (an application, a new service,
    #: a price increase); NULL when nothing waits. The review queue is ordered by it.
    review_requested_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=provider_municipalities, order_by=Municipality.code)
    languages: Mapped[list[ProviderLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderLanguage.language")
    sites: Mapped[list[ProviderSite]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderSite.id")
    documents: Mapped[list[ProviderDocument]] = relationship(order_by="ProviderDocument.id")
    services: Mapped[list[ProviderService]] = relationship(
        back_populates="provider", order_by="ProviderService.id")

    @property
    def name(self) -> str:
        """The name clients see: the marketing name when there is one."""
        return self.marketing_name or self.legal_name

    @property
    def language_codes(self) -> list[str]:
        return [lang.language for lang in self.languages]

    @property
    def is_listed(self) -> bool:
        """Shown in the public register and selectable by clients."""
        return self.status == ProviderStatus.APPROVED

    def __repr__(self) -> str:
        return f"<Provider {self.business_id} {self.status}>"


class ProviderLanguage(Base):
    """A language the provider serves clients in (fi, sv, en)."""

    __tablename__ = "provider_languages"
    __table_args__ = (
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.Index("ix_provider_languages_language", "language", "provider_id"),
    )

    provider_id: Mapped[int] = mapped_column(
        sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(2), primary_key=True)


class ProviderSite(Base):
    """An office or other place of business."""

    __tablename__ = "provider_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    street_address: Mapped[str] = mapped_column(sa.String(200))
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    city: Mapped[str] = mapped_column(sa.String(100))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipalities.id"))

    municipality: Mapped[Municipality | None] = relationship()


class DocumentKind(enum.StrEnum):
    SELF_MONITORING_PLAN = "self_monitoring_plan"
    INSURANCE_CERTIFICATE = "insurance_certificate"
    TRADE_REGISTER_EXTRACT = "trade_register_extract"
    PREPAYMENT_REGISTER_EXTRACT = "prepayment_register_extract"
    SOTERI_EXTRACT = "soteri_extract"
    OTHER = "other"


class ProviderDocument(Base):
    """An uploaded PDF's record; its bytes are in ProviderDocumentContent (in the database, so
    that every app server sees them and a backup is one database dump), apart from this row
    so that lists of documents never load them."""

    __tablename__ = "provider_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "kind"))
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    #: The random file name in UPLOAD_DIR of a document uploaded while documents were files
    #: (before migration 0009); ``documents import-files`` reads it. NULL for newer documents.
    stored_name: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    #: Hex SHA-256 of the uploaded bytes, taken while the upload was read.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: For documents that expire (insurance certificate, register extracts).
    valid_until: Mapped[dt.date | None]
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Replaced or removed by the provider; kept for the record of what was reviewed.
    removed_at: Mapped[dt.datetime | None]


class ProviderDocumentContent(Base):
    """The bytes of one provider document (bytea on PostgreSQL, BLOB on SQLite), written in
    the same transaction as its ProviderDocument: a refused or failed upload leaves nothing."""

    __tablename__ = "provider_document_contents"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    document_id: Mapped[int] = mapped_column(sa.ForeignKey("provider_documents.id"),
                                             primary_key=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    #: Hex SHA-256 of ``content`` when it was stored; checked on every download.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ServiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProviderService(Base):
    """A service type a provider offers; approved or rejected on its own."""

    __tablename__ = "provider_services"
    __table_args__ = (
        sa.UniqueConstraint("provider_id", "service_type_id"),
        sa.Index("ix_provider_services_search", "service_type_id", "status",
                 "current_price_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: The provider confirms it meets the service type's published criteria.
    criteria_confirmed: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ServiceStatus] = mapped_column(
        enum_type(ServiceStatus, "status"), default=ServiceStatus.DRAFT)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[dt.datetime | None]
    #: The approved unit price in force today (kept in step with ProviderPrice), for the
    #: register's search and sort. NULL until a price is approved.
    current_price_cents: Mapped[int | None] = mapped_column(sa.BigInteger)

    provider: Mapped[Provider] = relationship(back_populates="services")
    service_type: Mapped[ServiceType] = relationship()
    prices: Mapped[list[ProviderPrice]] = relationship(
        back_populates="provider_service", order_by="ProviderPrice.valid_from")


class PriceStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProviderPrice(Base):
    """A unit price from a date on. Increases wait for approval (the old price stays in force);
    decreases are approved at once. Rows are never rewritten."""

    __tablename__ = "provider_prices"
    __table_args__ = (
        sa.CheckConstraint("unit_price_cents > 0", name="price_positive"),
        sa.Index("ix_provider_prices_lookup", "provider_service_id", "status", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_service_id: Mapped[int] = mapped_column(sa.ForeignKey("provider_services.id"))
    unit_price_cents: Mapped[int] = mapped_column(sa.BigInteger)
    valid_from: Mapped[dt.date]
    status: Mapped[PriceStatus] = mapped_column(
        enum_type(PriceStatus, "status"), default=PriceStatus.PENDING)
    requested_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[dt.datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    provider_service: Mapped[ProviderService] = relationship(back_populates="prices")


class BankAccountChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: Replaced by a newer request, or taken back by the provider, before a decision.
    WITHDRAWN = "withdrawn"


class BankAccountChange(Base):
    """An approved provider's request to be paid to another account. Until an administrator
    (not the requester, not a user of the provider) approves it, payments go to the verified
    account on the provider (``Provider.iban``). Rows are never rewritten after the decision."""

    __tablename__ = "provider_bank_account_changes"
    __table_args__ = (
        sa.Index("ix_provider_bank_account_changes_one_pending", "provider_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"),
                 postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_provider_bank_account_changes_status", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    #: The verified account when the change was requested.
    old_iban: Mapped[str | None] = mapped_column(sa.String(34))
    old_bic: Mapped[str | None] = mapped_column(sa.String(11))
    iban: Mapped[str] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    status: Mapped[BankAccountChangeStatus] = mapped_column(
        enum_type(BankAccountChangeStatus, "status"), default=BankAccountChangeStatus.PENDING)
    requested_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    requested_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Why the change was rejected (or a note with the approval).
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    provider: Mapped[Provider] = relationship()


class DecisionAction(enum.StrEnum):
    """What a ProviderDecision records."""

    REGISTERED = "registered"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SERVICE_APPROVED = "service_approved"
    SERVICE_REJECTED = "service_rejected"
    SERVICE_CHANGES_REQUESTED = "service_changes_requested"
    PRICE_INCREASE_REQUESTED = "price_increase_requested"
    PRICE_APPROVED = "price_approved"
    PRICE_REJECTED = "price_rejected"
    PRICE_DECREASED = "price_decreased"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    BANK_ACCOUNT_CHANGE_REQUESTED = "bank_account_change_requested"
    BANK_ACCOUNT_CHANGE_APPROVED = "bank_account_change_approved"
    BANK_ACCOUNT_CHANGE_REJECTED = "bank_account_change_rejected"
    BANK_ACCOUNT_CHANGE_WITHDRAWN = "bank_account_change_withdrawn"
    #: A reviewer's message with decisions that did not change the provider's state.
    MESSAGE = "message"


class ProviderDecision(Base):
    """The history the provider and reviewers see: submissions, requests for changes,
    approvals, rejections, suspensions, with who, when and why."""

    __tablename__ = "provider_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    provider_service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("provider_services.id"))
    #: e.g. "submitted", "changes_requested", "service_approved", "suspended".
    action: Mapped[str] = mapped_column(sa.String(50))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    provider_service: Mapped[ProviderService | None] = relationship()

    @property
    def kind(self) -> DecisionAction:
        return DecisionAction(self.action)


class ExpiryNoticeKind(enum.StrEnum):
    REMINDER = "reminder"
    EXPIRED = "expired"


class ProviderExpiryNotice(Base):
    """A notice the expiry watch sent about an insurance policy or a document: a reminder
    before it expires, a notice after. One per item, expiry date and kind, so running the watch
    again sends nothing twice; a renewed date (a new insurance period) gets its own notices."""

    __tablename__ = "provider_expiry_notices"
    __table_args__ = (sa.UniqueConstraint("provider_id", "item", "valid_until", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    #: "insurance" (the liability insurance policy) or "document:<id>".
    item: Mapped[str] = mapped_column(sa.String(40))
    valid_until: Mapped[dt.date]
    kind: Mapped[ExpiryNoticeKind] = mapped_column(enum_type(ExpiryNoticeKind, "kind"))
    sent_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
