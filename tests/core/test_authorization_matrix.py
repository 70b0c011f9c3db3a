"""The authorization matrix: every route of the app's URL map, asked by every persona.

One world (the demo data and a few more users) holds real objects owned by specific people:
client A's voucher, service events and letter; provider P's invoice, documents, sites, API key
and the request waiting for its answer. Every rule of ``app.url_map`` is filled with the ids of
those objects (``PARAMETERS``, and ``QUERY`` where a query string chooses the object) and
asked by each persona with its own login session (or API token); the answer must be the one
``ACCESS`` declares for the endpoint:

* allowed personas are not refused (GET: a page or a redirect that is not the login; POST with
  an empty form: anything but 401/403/404/405 and 5xx);
* anonymous users are sent to the login (the provider API answers 401);
* a logged-in user of a wrong role gets 403;
* a user of the right role asking for another owner's object gets 404, never 403.

Every request is a real request through the test client; each one runs with the request's
transaction rolled back at its end (``_dry_run``), so that an allowed POST (approve an invoice,
revoke a key, suspend a provider) cannot change the world the next combination sees. Session
cookies are restored before every request, so a logout or a language switch does not leak
either. A new route fails this file until it has an entry in ``ACCESS`` and ``PARAMETERS`` can
fill its arguments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import g

from tests import factories
from tests.conftest import DEMO_PASSWORD, csrf_token_from
from tests.saml_idp import in_process_idp, saml_keys  # noqa: F401
from tests.stripe_fake import localstripe_url, stripe_config, stripe_fake  # noqa: F401
from voucher.accounting.models import AccountingDimensions, SupplierNumber
from voucher.accounts.models import Role, TokenPurpose, User
from voucher.accounts.services import issue_token
from voucher.alerts.models import OperatorAlert
from voucher.alerts.services import raise_alert
from voucher.api.models import ApiToken
from voucher.audit.models import AuditEvent
from voucher.budgets.models import Budget
from voucher.catalogue.models import IncomeTable, ServiceTypeRate
from voucher.changes.models import VoucherChange
from voucher.clients.models import Client
from voucher.invoicing.models import Invoice
from voucher.mail.models import OutboxMessage
from voucher.municipalities.models import Municipality
from voucher.payments.models import OnlinePayment
from voucher.payments.webhooks import UNKNOWN_INTENT
from voucher.providers.bank_accounts import request_bank_account_change
from voucher.providers.models import (
    BankAccountChange,
    Provider,
    ProviderDocument,
    ProviderSite,
)
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.reviews.models import ReviewRequest
from voucher.settlement.models import BankFeedbackFile, PaymentBatch
from voucher.vouchers.models import (
    AssignmentStatus,
    DecisionDelivery,
    DeliveryMethod,
    Voucher,
    VoucherAssignment,
)


def _bank_file(db, batch: PaymentBatch) -> BankFeedbackFile:
    """The bank's status report on the batch, imported."""
    from voucher import clock
    from voucher.audit.services import Actor
    from voucher.demo import bank_files
    from voucher.settlement.bank_feedback import import_bank_file

    sent = bank_files.read_payment_file(batch.sepa_xml)
    content = bank_files.status_report(sent, message_id="MATRIX-1", created_at=clock.now(),
                                       group_status="ACTC")
    return import_bank_file(db, content=content, filename="pain002.xml",
                            actor=Actor.system("test"), source="upload",
                            max_bytes=10_000_000).file


# --- Personas -------------------------------------------------------------------------------

ANON = "anonymous"
CLIENT_A = "client A"
CLIENT_B = "client B"
CM_HOME = "case manager of A's municipality"
CM_OTHER = "case manager of another municipality"
PROVIDER_P = "user of provider P"
PROVIDER_Q = "user of provider Q"
ADMIN = "admin"
TOKEN_P = "API token of P"
TOKEN_Q = "API token of Q"

#: Representatives of client A, each under a mandate with one scope (or none): they are asked
#: every route too, and expected to get what A gets, less what their mandate does not allow
#: (``_representative_answer``).
REP_VIEW = "representative of A (view only)"
REP_CHOOSE = "representative of A (choose a provider)"
REP_PAY = "representative of A (pay self-shares)"
REP_FEEDBACK = "representative of A (give feedback)"
REPRESENTATIVES = (REP_VIEW, REP_CHOOSE, REP_PAY, REP_FEEDBACK)

#: Who logs in to the web pages (anonymous has a session too, for its CSRF token).
WEB = (ANON, CLIENT_A, CLIENT_B, CM_HOME, CM_OTHER, PROVIDER_P, PROVIDER_Q, ADMIN)
LOGGED_IN_PERSONAS = WEB[1:]
EVERYONE = (*WEB, TOKEN_P, TOKEN_Q)

@pytest.fixture
def app_config(app_config, stripe_fake, saml_keys, tmp_path):  # noqa: F811
    """Online payment switched on (against the local fake), and strong identification (with
    the test IdP's metadata), so that their pages answer."""
    return {**app_config, **stripe_config(stripe_fake),
            **in_process_idp(saml_keys, tmp_path)[1]}


# --- Answers --------------------------------------------------------------------------------

OK = "allowed"
LOGIN = "login"
FORBIDDEN = "403"
NOT_FOUND = "404"
UNAUTHORIZED = "401"


def public() -> dict[str, str]:
    """Anyone, logged in or not."""
    return dict.fromkeys(EVERYONE, OK)


def logged_in() -> dict[str, str]:
    """Any logged-in user."""
    return allow(*LOGGED_IN_PERSONAS)


def allow(*allowed: str, hidden=()) -> dict[str, str]:
    """Only ``allowed``; ``hidden`` have the right role but the object is another owner's (404);
    anonymous users are sent to the login, every other logged-in user gets 403. A token alone
    does not log anyone in to the web pages."""
    answers = dict.fromkeys(LOGGED_IN_PERSONAS, FORBIDDEN)
    answers.update(dict.fromkeys(allowed, OK))
    answers.update(dict.fromkeys(hidden, NOT_FOUND))
    answers.update({ANON: LOGIN, TOKEN_P: LOGIN, TOKEN_Q: LOGIN})
    return answers


def api(*, scoped: bool) -> dict[str, str]:
    """The provider API: P's token; Q's token gets 404 for P's objects (``scoped``) and its own
    lists otherwise. Without a token (a web login is not enough) the answer is 401."""
    answers = dict.fromkeys(WEB, UNAUTHORIZED)
    answers.update({TOKEN_P: OK, TOKEN_Q: NOT_FOUND if scoped else OK})
    return answers


CASE_MANAGERS = (CM_HOME, CM_OTHER)
STAFF = (CM_HOME, CM_OTHER, ADMIN)

#: Who may use each endpoint, with the objects ``PARAMETERS`` fills in (A's, P's).
ACCESS: dict[str, dict[str, str]] = {
    # Public pages and accounts
    "home.index": public(),
    "home.accessibility": public(),
    "health.healthz": public(),
    "health.readyz": public(),
    "language.switch": public(),
    "accounts.login": public(),
    "two_factor.login_code": public(),
    "accounts.request_reset": public(),
    "accounts.reset_password": public(),
    "accounts.accept_invitation": public(),
    "accounts.logout": logged_in(),
    # Strong identification: the ACS and the single-logout answer refuse an empty message
    # with a page (400) whoever sends it; logging out through it needs a session.
    "identification.metadata": public(),
    "identification.login": public(),
    "identification.acs": dict.fromkeys(EVERYONE, "400"),
    "identification.single_logout": dict.fromkeys(EVERYONE, "400"),
    "identification.logout": logged_in(),
    # Without an identified representative waiting, the choice sends back to the login page.
    "identification.act_for": public(),
    # Mandates: A's case manager records and revokes them; A sees and revokes A's own.
    "mandates.client_mandates": allow(CM_HOME, hidden=(CM_OTHER,)),
    "mandates.revoke": allow(CM_HOME, hidden=(CM_OTHER,)),
    "mandates.mine": allow(CLIENT_A, CLIENT_B),
    "mandates.revoke_mine": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "accounts.change_password": logged_in(),
    "two_factor.setup": logged_in(),
    "register.search": public(),
    "register.provider": public(),
    "providers.register": public(),
    # The public API and the provider API
    "api.openapi_json": public(),
    "api.service_types": public(),
    "api.providers": public(),
    "api.list_vouchers": api(scoped=False),
    "api.get_voucher": api(scoped=True),
    "api.create_redemption": api(scoped=True),
    "api.list_redemptions": api(scoped=False),
    "api.get_redemption": api(scoped=True),
    "api.void_redemption": api(scoped=True),
    "api.list_invoices": api(scoped=False),
    "api.create_invoice": api(scoped=False),
    "api.get_invoice": api(scoped=True),
    "api.get_invoice_finvoice": api(scoped=True),
    # Administration
    "audit.search": allow(ADMIN),
    "audit.submit_search": allow(ADMIN),
    "budgets.index": allow(ADMIN),
    "budgets.new": allow(ADMIN),
    "budgets.detail": allow(ADMIN),
    "budgets.change_amount": allow(ADMIN),
    "catalogue.index": allow(ADMIN),
    "catalogue.new": allow(ADMIN),
    "catalogue.edit": allow(ADMIN),
    "catalogue.rates": allow(ADMIN),
    "catalogue.cancel_rate": allow(ADMIN),
    "income_tables.index": allow(ADMIN),
    "income_tables.service": allow(ADMIN),
    "income_tables.new": allow(ADMIN),
    "invoicing.admin_invoices": allow(ADMIN),
    "invoicing.admin_invoice": allow(ADMIN),
    "invoicing.admin_invoice_pdf": allow(ADMIN),
    "invoicing.admin_invoice_finvoice": allow(ADMIN),
    "invoicing.approve": allow(ADMIN),
    "invoicing.reject": allow(ADMIN),
    "mail.outbox": allow(ADMIN),
    "alerts.index": allow(ADMIN),
    "alerts.resolve": allow(ADMIN),
    "users.index": allow(ADMIN),
    "users.lock": allow(ADMIN),
    "users.unlock": allow(ADMIN),
    "mail.message": allow(ADMIN),
    "providers.review_queue": allow(ADMIN),
    "providers.all_providers": allow(ADMIN),
    "providers.admin_provider": allow(ADMIN),
    "providers.review_application": allow(ADMIN),
    "providers.change_standing": allow(ADMIN),
    "providers.decide_bank_account_change": allow(ADMIN),
    "settlement.index": allow(ADMIN),
    "settlement.run": allow(ADMIN),
    "settlement.batch": allow(ADMIN),
    "settlement.download": allow(ADMIN),
    "settlement.mark_sent": allow(ADMIN),
    "settlement.posting_file": allow(ADMIN),
    "accounting.index": allow(ADMIN),
    "accounting.service": allow(ADMIN),
    "accounting.authority": allow(ADMIN),
    "accounting.cancel": allow(ADMIN),
    "accounting.supplier": allow(ADMIN),
    "accounting.cancel_supplier": allow(ADMIN),
    "settlement.import_bank_file": allow(ADMIN),
    "settlement.bank_file": allow(ADMIN),
    "settlement.approve_retry": allow(ADMIN),
    "vouchers.policy": allow(ADMIN),
    "reports.reconciliation": allow(ADMIN),
    # Reports: every case manager sees the figures of their own municipalities; these three are
    # asked for A's municipality (QUERY)
    "reports.index": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "reports.monthly": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "reports.quarterly": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "reports.providers": allow(*STAFF),
    "reports.allocation": allow(*STAFF),
    # Case managers: clients and decisions of their municipalities
    "clients.index": allow(*CASE_MANAGERS),
    # Self-shares paid online: the client's own payments, the provider's statement, and
    # Stripe's webhook (public; its signature is the authorization)
    "payments.self_shares": allow(CLIENT_A, CLIENT_B),
    "payments.pay": allow(CLIENT_A, CLIENT_B),
    "payments.payment": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "payments.confirm": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "payments.status": allow(CLIENT_A, hidden=(CLIENT_B,)),
    # Anyone may call the webhook; without Stripe's signature every caller gets 400.
    "payments.stripe_webhook": dict.fromkeys(EVERYONE, "400"),
    "payments.provider_self_shares": allow(PROVIDER_P, PROVIDER_Q),
    "payments.bill_myself": allow(PROVIDER_P, PROVIDER_Q),
    "clients.submit_search": allow(*CASE_MANAGERS),
    "privacy.client_export": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "privacy.my_export": allow(CLIENT_A, CLIENT_B),
    "clients.register": allow(*CASE_MANAGERS),
    "clients.detail": allow(CM_HOME, hidden=(CM_OTHER,)),
    "clients.edit": allow(CM_HOME, hidden=(CM_OTHER,)),
    "clients.reveal_identity_code": allow(CM_HOME, hidden=(CM_OTHER,)),
    "clients.invite": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.index": allow(*STAFF),
    "vouchers.new": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.edit": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.detail": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "vouchers.approve": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.reject": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.cancel": allow(CM_HOME, hidden=(CM_OTHER,)),
    "vouchers.record_refusal": allow(CM_HOME, hidden=(CM_OTHER,)),
    # The client's pages (and the choice and the letter, shared with case managers)
    "vouchers.my_vouchers": allow(CLIENT_A, CLIENT_B),
    "vouchers.my_voucher": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "vouchers.refuse": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "vouchers.post_room": allow(CM_HOME, CM_OTHER, ADMIN),
    "vouchers.post_room_batch": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "reviews.file_online": allow(CLIENT_A, hidden=(CLIENT_B,)),
    "reviews.record_paper": allow(CM_HOME, hidden=(CM_OTHER,)),
    "reviews.index": allow(CM_HOME, CM_OTHER, ADMIN),
    "reviews.detail": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "reviews.letter": allow(CLIENT_A, CM_HOME, ADMIN, hidden=(CLIENT_B, CM_OTHER)),
    "vouchers.choose_provider": allow(CLIENT_A, CM_HOME, hidden=(CLIENT_B, CM_OTHER)),
    # Changes of decisions: case managers of the client's municipality propose and decide;
    # the change decision's letter is the client's too
    "changes.propose": allow(CM_HOME, hidden=(CM_OTHER,)),
    "changes.detail": allow(CM_HOME, ADMIN, hidden=(CM_OTHER,)),
    "changes.approve": allow(CM_HOME, hidden=(CM_OTHER,)),
    "changes.reject": allow(CM_HOME, hidden=(CM_OTHER,)),
    "changes.withdraw": allow(CM_HOME, hidden=(CM_OTHER,)),
    "changes.letter": allow(CLIENT_A, CM_HOME, ADMIN, hidden=(CLIENT_B, CM_OTHER)),
    "changes.letter_as_pdf": allow(CLIENT_A, CM_HOME, ADMIN, hidden=(CLIENT_B, CM_OTHER)),
    "vouchers.letter": allow(CLIENT_A, CM_HOME, ADMIN, hidden=(CLIENT_B, CM_OTHER)),
    "vouchers.letter_as_pdf": allow(CLIENT_A, CM_HOME, ADMIN, hidden=(CLIENT_B, CM_OTHER)),
    "feedback.index": allow(CLIENT_A, CLIENT_B),
    "feedback.rate": allow(CLIENT_A, hidden=(CLIENT_B,)),
    # The provider portal
    "providers.my_application": allow(PROVIDER_P, PROVIDER_Q),
    "providers.edit_application": allow(PROVIDER_P, PROVIDER_Q),
    "providers.submit_application": allow(PROVIDER_P, PROVIDER_Q),
    "providers.sites_page": allow(PROVIDER_P, PROVIDER_Q),
    "providers.remove_site": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "providers.documents_page": allow(PROVIDER_P, PROVIDER_Q),
    "providers.remove_document": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "providers.document": allow(PROVIDER_P, ADMIN, hidden=(PROVIDER_Q,)),
    "vouchers.provider_vouchers": allow(PROVIDER_P, PROVIDER_Q),
    "vouchers.activate": allow(PROVIDER_P, PROVIDER_Q),
    "vouchers.accept": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "vouchers.decline": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "vouchers.provider_voucher": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "redemptions.index": allow(PROVIDER_P, PROVIDER_Q),
    "redemptions.record": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "redemptions.void": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "redemptions.correct": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "redemptions.upload": allow(PROVIDER_P, PROVIDER_Q),
    "redemptions.template": allow(PROVIDER_P, PROVIDER_Q),
    "invoicing.provider_invoices": allow(PROVIDER_P, PROVIDER_Q),
    "invoicing.create_invoice": allow(PROVIDER_P, PROVIDER_Q),
    "invoicing.provider_invoice": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "invoicing.provider_invoice_pdf": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "invoicing.provider_invoice_finvoice": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
    "api_tokens.index": allow(PROVIDER_P, PROVIDER_Q),
    "api_tokens.create": allow(PROVIDER_P, PROVIDER_Q),
    "api_tokens.revoke": allow(PROVIDER_P, hidden=(PROVIDER_Q,)),
}


# --- The world ------------------------------------------------------------------------------


@dataclass
class World:
    """The objects the URLs point at, all owned by client A, A's municipality or provider P."""

    client_a: Client
    voucher_a: Voucher  # A's voucher, assigned to P
    recorded_event: Redemption  # P's service event on A's voucher, not yet invoiced
    invoiced_event: Redemption  # P's service event on A's voucher, on an invoice
    request_to_p: VoucherAssignment  # a client's request waiting for P's answer
    invoice_p: Invoice
    document_p: ProviderDocument
    site_p: ProviderSite
    token_row_p: ApiToken
    provider_p: Provider
    budget: Budget
    rate: ServiceTypeRate
    income_table: IncomeTable
    message: OutboxMessage
    batch: PaymentBatch
    dimensions: AccountingDimensions
    supplier_number: SupplierNumber
    bank_file: BankFeedbackFile
    online_payment_a: OnlinePayment  # A's card payment, waiting for the bank
    alert: OperatorAlert
    bank_change_p: BankAccountChange  # P's change of bank account, waiting for approval
    letter_to_post: DecisionDelivery  # a decision letter of A's municipality, to be posted
    review_a: ReviewRequest  # A's request for review of voucher A's decision, waiting
    voucher_change_a: VoucherChange  # an approved change of voucher A's decision
    reset_token: str
    invitation_token: str
    api_tokens: dict[str, str]
    logins: dict[str, str]  # persona -> e-mail
    user_b: int = 0  # client B's login (an administrator may lock it)
    mandate_a: object = None  # a relative's mandate for A, given with A's consent
    rep_mandates: dict = field(default_factory=dict)  # representative persona -> mandate id


def _one(db, query):
    found = db.execute(query.limit(1)).scalars().first()
    assert found is not None, f"the demo data has no row for {query}"
    return found


def _pending_payment(db, client: Client) -> OnlinePayment:
    """A's card payment of the oldest month of due self-shares, waiting for the bank (made
    through the service and the local fake Stripe, so that the money reconciles)."""

    from voucher.audit.services import Actor
    from voucher.payments import services

    due = services.due_self_shares(db, client.id)[0]
    return services.start_payment(db, client_id=client.id, provider_id=due.provider.id,
                                  period=due.period, actor=Actor.system("test"))


def _bank_change(db, provider: Provider) -> BankAccountChange:
    """P asks to be paid to another account (made through the service)."""
    from voucher.audit.services import Actor

    return request_bank_account_change(db, provider, iban="FI5810171000000122", bic="NDEAFIHH",
                                       actor=Actor.system("test"))


def _review(db, voucher: Voucher) -> ReviewRequest:
    """A's request for review of the voucher's decision (made through the service)."""
    from voucher import clock
    from voucher.audit.services import Actor
    from voucher.reviews.models import ReviewChannel
    from voucher.reviews.services import file_request

    return file_request(db, voucher, channel=ReviewChannel.ONLINE,
                        received_on=clock.today(),
                        text="Tarvitsen enemmän tunteja.", actor=Actor.system("test"))


def _voucher_change(db, voucher: Voucher) -> VoucherChange:
    """A change of the voucher's decision, proposed and approved by two case managers of its
    municipality other than the matrix's (made through the services)."""
    from voucher import clock
    from voucher.audit.services import Actor
    from voucher.changes.services import ChangeInput, approve_change, propose_change

    home = db.get(Municipality, voucher.municipality_id)
    a, b = (factories.user(db, role=Role.CASE_MANAGER, municipalities=[home]) for _ in "ab")
    change = propose_change(db, voucher, ChangeInput(
        starts_on=clock.today(), reason="Tarve kasvoi arvioinnin mukaan.",
        units_per_period=voucher.units_per_period + 100), actor=Actor.of_user(a))
    return approve_change(db, change, actor=Actor.of_user(b))


def build_world(db) -> World:
    """The demo data, and the users it lacks: client B, a case manager of another municipality
    and a user of another approved provider, and an API key for both providers."""
    from voucher.demo import load_demo

    load_demo(db)
    aino = _one(db, sa.select(Client).where(Client.email == "client@example.fi"))
    provider_p = _one(db, sa.select(Provider).where(Provider.legal_name ==
                                                    "Hoivapalvelu Aurinko Oy"))
    provider_q = _one(db, sa.select(Provider).where(Provider.legal_name ==
                                                    "Siivouspalvelu Kuura Oy"))
    client_b = _one(db, sa.select(Client).join(Voucher, Voucher.client_id == Client.id).where(
        Client.municipality_id == aino.municipality_id, Client.id != aino.id))
    client_b_user = factories.user(db, role=Role.CLIENT, client_id=client_b.id,
                                   email="client-b@example.fi", password=DEMO_PASSWORD)
    sievi = _one(db, sa.select(Municipality).where(Municipality.code == "746"))
    factories.user(db, role=Role.CASE_MANAGER, municipalities=[sievi],
                   email="sievi@example.fi", password=DEMO_PASSWORD)
    factories.user(db, role=Role.PROVIDER, provider_id=provider_q.id,
                   email="kuura@example.fi", password=DEMO_PASSWORD)
    voucher_a = _one(db, sa.select(Voucher).where(Voucher.client_id == aino.id,
                                                  Voucher.provider_id == provider_p.id)
                     .order_by(Voucher.id))

    def event(status):
        return _one(db, sa.select(Redemption).where(
            Redemption.voucher_id == voucher_a.id, Redemption.provider_id == provider_p.id,
            Redemption.status == status, Redemption.corrects_id.is_(None))
            .order_by(Redemption.id.desc()))

    tokens = {TOKEN_P: factories.api_token(db, provider_p), TOKEN_Q: factories.api_token(
        db, provider_q)}
    world = World(
        client_a=aino, voucher_a=voucher_a,
        recorded_event=event(RedemptionStatus.RECORDED),
        invoiced_event=event(RedemptionStatus.INVOICED),
        request_to_p=_one(db, sa.select(VoucherAssignment).where(
            VoucherAssignment.provider_id == provider_p.id,
            VoucherAssignment.status == AssignmentStatus.PROPOSED)),
        invoice_p=_one(db, sa.select(Invoice).where(Invoice.provider_id == provider_p.id)
                       .order_by(Invoice.id.desc())),
        document_p=_one(db, sa.select(ProviderDocument).where(
            ProviderDocument.provider_id == provider_p.id, ProviderDocument.removed_at.is_(None))),
        site_p=_one(db, sa.select(ProviderSite).where(ProviderSite.provider_id == provider_p.id)),
        token_row_p=_one(db, sa.select(ApiToken).where(ApiToken.provider_id == provider_p.id)),
        provider_p=provider_p,
        budget=_one(db, sa.select(Budget).where(Budget.municipality_id == aino.municipality_id)),
        rate=_one(db, sa.select(ServiceTypeRate).order_by(ServiceTypeRate.id)),
        income_table=_one(db, sa.select(IncomeTable)),
        message=_one(db, sa.select(OutboxMessage)),
        batch=_one(db, sa.select(PaymentBatch)),
        dimensions=_one(db, sa.select(AccountingDimensions).order_by(AccountingDimensions.id)),
        supplier_number=_one(db, sa.select(SupplierNumber).where(
            SupplierNumber.provider_id == provider_p.id)),
        bank_file=_bank_file(db, _one(db, sa.select(PaymentBatch))),
        online_payment_a=_pending_payment(db, aino),
        alert=raise_alert(db, kind=UNKNOWN_INTENT, key="matrix:unknown", type="x",
                          event_id="evt_matrix", intent_id="pi_matrix"),
        bank_change_p=_bank_change(db, provider_p),
        review_a=_review(db, voucher_a),
        voucher_change_a=_voucher_change(db, voucher_a),
        letter_to_post=_one(db, sa.select(DecisionDelivery).join(Voucher).where(
            Voucher.municipality_id == aino.municipality_id,
            DecisionDelivery.method == DeliveryMethod.POST,
            DecisionDelivery.sent_on.is_(None))),
        reset_token=issue_token(db, client_b_user, TokenPurpose.PASSWORD_RESET,
                                dt.timedelta(hours=2)),
        invitation_token=issue_token(db, client_b_user, TokenPurpose.INVITATION,
                                     dt.timedelta(days=14)),
        api_tokens=tokens,
        logins={CLIENT_A: "client@example.fi", CLIENT_B: "client-b@example.fi",
                CM_HOME: "casemanager@example.fi", CM_OTHER: "sievi@example.fi",
                PROVIDER_P: "provider@example.fi", PROVIDER_Q: "kuura@example.fi",
                ADMIN: "admin@example.fi"},
        user_b=client_b_user.id,
    )
    world.mandate_a = _mandate(db, aino, choose=True)
    world.rep_mandates = {REP_VIEW: _mandate(db, aino).id,
                          REP_CHOOSE: world.mandate_a.id,
                          REP_PAY: _mandate(db, aino, pay=True).id,
                          REP_FEEDBACK: _mandate(db, aino, feedback=True).id}
    db.commit()
    return world


def _mandate(db, client: Client, *, choose=False, pay=False, feedback=False):
    """A relative acts for A with A's consent (recorded by A's case manager)."""
    from voucher.audit.services import Actor
    from voucher.mandates.models import MandateBasis
    from voucher.mandates.services import record_mandate

    case_manager = _one(db, sa.select(User).where(User.email == "casemanager@example.fi"))
    return record_mandate(
        db, client=client, representative_code="120375-906R", representative_name="Raili Niemi",
        basis=MandateBasis.CONSENT, may_choose_provider=choose, may_pay=pay,
        may_give_feedback=feedback, valid_from=dt.date(2026, 11, 1),
        valid_until=dt.date(2027, 12, 31), user=case_manager, actor=Actor.of_user(case_manager))


#: What a representative may never open: the client's own account and mandates.
REPRESENTATIVE_NEVER = {"accounts.change_password", "two_factor.setup", "mandates.mine",
                        "mandates.revoke_mine", "privacy.my_export"}
#: The posts of the client that a mandate's scope allows.
REPRESENTATIVE_POSTS = {"vouchers.choose_provider": REP_CHOOSE, "payments.pay": REP_PAY,
                        "payments.confirm": REP_PAY, "feedback.rate": REP_FEEDBACK}
#: Posts every logged-in person may make, representatives too.
REPRESENTATIVE_ALWAYS = {"accounts.logout", "identification.logout"}


def _representative_answer(app, endpoint: str, method: str, persona: str) -> str:
    """A's answer, less what the mandate does not allow: the client's own account pages are
    403; of the posts that act as A (login-only routes) only the scope's and logging out."""
    from voucher.access import ANYONE, API_TOKEN, rule_of

    answer = ACCESS[endpoint][CLIENT_A]
    if answer not in (OK, NOT_FOUND):
        return answer
    if endpoint in REPRESENTATIVE_NEVER:
        return FORBIDDEN
    if method == "POST" and endpoint not in REPRESENTATIVE_ALWAYS and \
            rule_of(app, endpoint) not in (ANYONE, API_TOKEN) and \
            REPRESENTATIVE_POSTS.get(endpoint) != persona:
        return FORBIDDEN
    return answer


#: URL arguments: first by (endpoint, argument), then by argument name alone.
PARAMETERS = {
    ("language.switch", "code"): lambda w: "sv",
    ("accounts.reset_password", "token"): lambda w: w.reset_token,
    ("accounts.accept_invitation", "token"): lambda w: w.invitation_token,
    ("redemptions.correct", "redemption_id"): lambda w: w.invoiced_event.id,
    ("income_tables.service", "service_type_id"): lambda w: w.income_table.service_type_id,
    ("income_tables.new", "service_type_id"): lambda w: w.income_table.service_type_id,
    ("catalogue.cancel_rate", "service_type_id"): lambda w: w.rate.service_type_id,
    **{(f"changes.{name}", "change_id"): (lambda w: w.voucher_change_a.id) for name in (
        "detail", "approve", "reject", "withdraw", "letter", "letter_as_pdf")},
    "code": lambda w: w.voucher_a.code,
    "voucher_id": lambda w: w.voucher_a.id,
    "request_id": lambda w: w.review_a.id,
    "client_id": lambda w: w.client_a.id,
    "redemption_id": lambda w: w.recorded_event.id,
    "assignment_id": lambda w: w.request_to_p.id,
    "invoice_id": lambda w: w.invoice_p.id,
    "document_id": lambda w: w.document_p.id,
    "site_id": lambda w: w.site_p.id,
    "token_id": lambda w: w.token_row_p.id,
    "provider_id": lambda w: w.provider_p.id,
    "action": lambda w: "suspend",
    "budget_id": lambda w: w.budget.id,
    "service_type_id": lambda w: w.rate.service_type_id,
    "rate_id": lambda w: w.rate.id,
    "message_id": lambda w: w.message.id,
    "batch_id": lambda w: w.batch.id,
    "file_id": lambda w: w.bank_file.id,
    "fmt": lambda w: "csv",
    "municipality_id": lambda w: w.client_a.municipality_id,
    ("accounting.service", "service_type_id"): lambda w: w.voucher_a.service_type_id,
    "account": lambda w: "bank",
    "dimensions_id": lambda w: w.dimensions.id,
    "supplier_number_id": lambda w: w.supplier_number.id,
    "file_format": lambda w: "json",
    "payment_id": lambda w: w.online_payment_a.id,
    "alert_id": lambda w: w.alert.id,
    "change_id": lambda w: w.bank_change_p.id,
    "mandate_id": lambda w: w.mandate_a.id,
    "user_id": lambda w: w.user_b,
}


#: What a POST sends besides the CSRF token, where an empty form would not reach the object
#: (the default is nothing at all).
POST_DATA = {
    "vouchers.choose_provider": lambda w: {"provider_id": str(w.provider_p.id)},
    "payments.pay": lambda w: {"provider_id": str(w.online_payment_a.provider_id),
                               "period": w.online_payment_a.period.isoformat()},
    "payments.bill_myself": lambda w: {"client_id": str(w.client_a.id),
                                       "period": w.online_payment_a.period.isoformat()},
    "api.create_redemption": lambda w: {"service_date": w.voucher_a.valid_from.isoformat(),
                                        "units": 1},
}


#: Query strings that point a page at an owner's object (the default is none).
QUERY = {
    "vouchers.post_room_batch": lambda w: {"id": w.letter_to_post.id},
    "reports.index": lambda w: {"municipality": w.client_a.municipality_id},
    "reports.monthly": lambda w: {"municipality": w.client_a.municipality_id},
    "reports.quarterly": lambda w: {"municipality": w.client_a.municipality_id},
}


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _filler(endpoint: str, argument: str):
    return PARAMETERS.get((endpoint, argument)) or PARAMETERS.get(argument)


# --- Every route is in the matrix -----------------------------------------------------------


def test_every_route_has_an_expected_answer_for_every_persona(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    missing = sorted(endpoints - ACCESS.keys())
    assert not missing, (
        "these endpoints are not in the authorization matrix; add each to ACCESS in "
        f"tests/core/test_authorization_matrix.py with who may use it: {missing}")
    stale = sorted(ACCESS.keys() - endpoints)
    assert not stale, f"ACCESS names endpoints the app no longer has: {stale}"
    incomplete = sorted(e for e, answers in ACCESS.items() if set(answers) != set(EVERYONE))
    assert not incomplete, f"ACCESS entries without an answer for every persona: {incomplete}"


def test_every_url_argument_can_be_filled(app):
    unfilled = sorted(f"{rule.rule} ({rule.endpoint}): <{argument}>" for rule in _rules(app)
                      for argument in rule.arguments if _filler(rule.endpoint, argument) is None)
    assert not unfilled, (
        "the authorization matrix cannot fill these URL arguments; add an object owned by "
        "client A / provider P to World and a PARAMETERS entry in "
        "tests/core/test_authorization_matrix.py:\n  " + "\n  ".join(unfilled))


# --- The matrix -----------------------------------------------------------------------------


@dataclass
class Session:
    cookie: str | None  # the session cookie's value after logging in
    csrf_token: str
    bearer: str | None = None


def _open_sessions(app, world: World) -> dict[str, Session]:
    name = app.config["SESSION_COOKIE_NAME"]
    sessions = {}
    for persona in WEB:
        client = app.test_client()
        if persona != ANON:
            page = client.get("/login")
            response = client.post("/login", data={
                "email": world.logins[persona], "password": DEMO_PASSWORD,
                "csrf_token": csrf_token_from(page)})
            assert response.status_code in (302, 303), f"{persona} could not log in"
            assert urlsplit(response.headers["Location"]).path != "/login/code"
        page = client.get("/login" if persona == ANON else "/account/password")
        assert page.status_code == 200, f"{persona}: {page.status_code}"
        token = csrf_token_from(page)
        cookie = client.get_cookie(name)
        sessions[persona] = Session(cookie.value if cookie else None, token)
    for persona in (TOKEN_P, TOKEN_Q):
        sessions[persona] = Session(sessions[ANON].cookie, sessions[ANON].csrf_token,
                                    bearer=world.api_tokens[persona])
    for persona in REPRESENTATIVES:  # A's login acting under the persona's mandate
        client = app.test_client()
        page = client.get("/login")
        client.post("/login", data={"email": world.logins[CLIENT_A], "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_token_from(page)})
        with client.session_transaction() as cookie_session:
            cookie_session["acting"] = {"mandate_id": world.rep_mandates[persona],
                                        "name": "Raili Niemi", "masked": "120375-****"}
        page = client.get("/vouchers/mine")
        assert page.status_code == 200 and "Raili Niemi" in page.get_data(as_text=True), persona
        sessions[persona] = Session(client.get_cookie(name).value, csrf_token_from(page))
    return sessions


def _install_dry_run(app) -> None:
    """Roll back each request's transaction however it answers. Flask runs the after-request
    functions in the reverse order of registration, so this one runs before the commit in
    voucher/db.py, which then finds no session to commit."""

    @app.after_request
    def _dry_run(response):
        if app.config.get("AUTHZ_MATRIX_DRY_RUN"):
            db_session = g.pop("db_session", None)
            if db_session is not None:
                db_session.rollback()
                db_session.close()
        return response


def _fingerprint(db) -> tuple:
    """What an allowed POST would change: every change is audited, every e-mail queued."""
    db.rollback()
    counts = tuple(db.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                   for table in (AuditEvent, OutboxMessage, Redemption, Invoice))
    db.rollback()
    return counts


def _answer(method: str, response, *, is_api: bool) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    target = urlsplit(location)
    if status in (301, 302, 303, 307, 308) and target.path == "/login" and \
            target.query.startswith("next="):
        return LOGIN  # the access check's answer; a plain /login is a page's own redirect
    if status in (401, 403, 404):
        return {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND}[status]
    if status >= 500 or status == 405:
        return f"{status}"
    if method in ("GET", "HEAD") and status >= 400:
        return f"{status}"
    if status == 400 and not is_api:
        return "400"  # a refused CSRF token: the request never reached the view
    return OK


def _describe(response) -> str:
    location = response.headers.get("Location")
    return f"{response.status_code}" + (f" → {location}" if location else "")


# About a minute alone; several times that while three other workers share the two cores.
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_authorization_matrix(app, db):
    _install_dry_run(app)
    world = build_world(db)
    sessions = _open_sessions(app, world)
    before = _fingerprint(db)
    app.config["AUTHZ_MATRIX_DRY_RUN"] = True
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    mismatches = []
    asked = 0
    for rule in sorted(_rules(app), key=lambda r: r.rule):
        values = {argument: _filler(rule.endpoint, argument)(world)
                  for argument in rule.arguments}
        _domain, url = rule.build(values, append_unknown=False)
        if rule.endpoint in QUERY:
            url += "?" + urlencode(QUERY[rule.endpoint](world))
        is_api = url.startswith("/api/")
        personas = (*(EVERYONE if is_api else WEB), *REPRESENTATIVES)
        methods = sorted(rule.methods & {"GET", "HEAD", "POST"})
        for method in methods:
            expected = {**ACCESS[rule.endpoint], **{
                persona: _representative_answer(app, rule.endpoint, method, persona)
                for persona in REPRESENTATIVES}}
            for persona in personas:
                if method == "HEAD" and expected[persona] == OK:
                    continue  # Flask answers HEAD with the GET view: only refusals are asked
                session = sessions[persona]
                client = app.test_client()
                if session.cookie is not None:
                    client.set_cookie(cookie_name, session.cookie)
                headers = {"Authorization": f"Bearer {session.bearer}"} if session.bearer else {}
                data = POST_DATA[rule.endpoint](world) if rule.endpoint in POST_DATA else {}
                if method in ("GET", "HEAD"):
                    response = client.open(url, method=method, headers=headers)
                elif is_api:
                    headers["Idempotency-Key"] = f"authorization-matrix-{asked}"
                    response = client.post(url, json=data, headers=headers)
                else:
                    response = client.post(url, data={**data, "csrf_token": session.csrf_token},
                                           headers=headers)
                asked += 1
                got = _answer(method, response, is_api=is_api)
                if got != expected[persona]:
                    mismatches.append((rule.endpoint, method, url, persona, expected[persona],
                                       _describe(response)))
    app.config["AUTHZ_MATRIX_DRY_RUN"] = False
    assert _fingerprint(db) == before, "a request of the matrix changed the world"

    if mismatches:
        lines = [f"{len(mismatches)} of {asked} answers differ from ACCESS:",
                 f"{'endpoint':32} {'method':6} {'persona':38} {'expected':9} got   url"]
        lines += [f"{endpoint:32} {method:6} {persona:38} {expected:9} {got:5} {url}"
                  for endpoint, method, url, persona, expected, got in mismatches]
        pytest.fail("\n".join(lines), pytrace=False)
