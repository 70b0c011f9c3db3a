"""Imports every model so that Base.metadata knows all tables (Alembic, tests)."""

from voucher.accounting.models import (  # noqa: F401
    AccountingDimensions,
    PostingFile,
    SupplierNumber,
)
from voucher.accounts.models import LoginAttempt, User, UserToken  # noqa: F401
from voucher.alerts.models import OperatorAlert  # noqa: F401
from voucher.api.models import ApiToken, IdempotencyRecord  # noqa: F401
from voucher.audit.models import AuditChainHead, AuditEvent, AuditText  # noqa: F401
from voucher.budgets.models import Budget, BudgetEntry  # noqa: F401
from voucher.catalogue.models import (  # noqa: F401
    IncomeTable,
    IncomeTableRow,
    ServiceType,
    ServiceTypeRate,
)
from voucher.changes.models import VoucherChange  # noqa: F401
from voucher.clients.models import Client  # noqa: F401
from voucher.feedback.models import Feedback  # noqa: F401
from voucher.identification.models import SamlRequest, SamlSeenMessage  # noqa: F401
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceNumberSequence  # noqa: F401
from voucher.mail.models import OutboxMessage  # noqa: F401
from voucher.mandates.models import Mandate  # noqa: F401
from voucher.municipalities.models import Municipality  # noqa: F401
from voucher.payments.models import (  # noqa: F401
    OnlinePayment,
    OnlinePaymentEvent,
    OnlineRefund,
    StripeJob,
    StripeWebhookEvent,
)
from voucher.providers.models import (  # noqa: F401
    Provider,
    ProviderDecision,
    ProviderDocument,
    ProviderDocumentContent,
    ProviderExpiryNotice,
    ProviderLanguage,
    ProviderPrice,
    ProviderService,
    ProviderSite,
)
from voucher.rate_limits import RateLimitCounter  # noqa: F401
from voucher.redemptions.models import CsvImport, Redemption  # noqa: F401
from voucher.reviews.models import ReviewRequest  # noqa: F401
from voucher.settlement.models import (  # noqa: F401
    BankFeedbackFile,
    Payment,
    PaymentBankStatusReport,
    PaymentBatch,
)
from voucher.vouchers.models import (  # noqa: F401
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
    VoucherPolicy,
    VoucherValue,
)
