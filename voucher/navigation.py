"""The main navigation: one list, filtered by role and by which views exist."""

from __future__ import annotations

from flask import current_app, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from voucher.accounts.models import Role

ANONYMOUS = "anonymous"
EVERYONE = frozenset({ANONYMOUS, *Role})
STAFF = frozenset({Role.ADMIN, Role.CASE_MANAGER})

#: (endpoint, label, who sees it). Endpoints that do not exist (yet) are left out.
NAV_ITEMS: list[tuple[str, object, frozenset]] = [
    ("home.index", _l("Front page"), EVERYONE),
    ("register.search", _l("Approved providers"), frozenset({ANONYMOUS, Role.CLIENT})),
    ("clients.index", _l("Clients"), frozenset({Role.CASE_MANAGER})),
    ("vouchers.index", _l("Vouchers"), STAFF),
    ("vouchers.my_vouchers", _l("My vouchers"), frozenset({Role.CLIENT})),
    ("payments.self_shares", _l("Self-shares"), frozenset({Role.CLIENT})),
    ("feedback.index", _l("Services received"), frozenset({Role.CLIENT})),
    ("mandates.mine", _l("Who may act for me"), frozenset({Role.CLIENT})),
    ("providers.my_application", _l("Company and services"), frozenset({Role.PROVIDER})),
    ("vouchers.provider_vouchers", _l("Clients' vouchers"), frozenset({Role.PROVIDER})),
    ("redemptions.index", _l("Service events"), frozenset({Role.PROVIDER})),
    ("invoicing.provider_invoices", _l("Invoices"), frozenset({Role.PROVIDER})),
    ("payments.provider_self_shares", _l("Self-shares"), frozenset({Role.PROVIDER})),
    ("api_tokens.index", _l("API keys"), frozenset({Role.PROVIDER})),
    ("providers.review_queue", _l("Applications"), frozenset({Role.ADMIN})),
    ("catalogue.index", _l("Service catalogue"), frozenset({Role.ADMIN})),
    ("budgets.index", _l("Budgets"), frozenset({Role.ADMIN})),
    ("invoicing.admin_invoices", _l("Invoices"), frozenset({Role.ADMIN})),
    ("settlement.index", _l("Settlement"), frozenset({Role.ADMIN})),
    ("accounting.index", _l("Accounting"), frozenset({Role.ADMIN})),
    ("reports.index", _l("Reports"), STAFF),
    ("audit.search", _l("Audit trail"), frozenset({Role.ADMIN})),
    ("alerts.index", _l("Alerts"), frozenset({Role.ADMIN})),
    ("users.index", _l("Users"), frozenset({Role.ADMIN})),
    ("mail.outbox", _l("Outbox"), frozenset({Role.ADMIN})),
]


#: The client's own pages that a representative acting for them does not get.
NOT_FOR_REPRESENTATIVES = frozenset({"mandates.mine"})


def nav_items() -> list[dict]:
    """The links the current person sees, with the current page marked."""
    who = current_user.role if current_user.is_authenticated else ANONYMOUS
    representative = bool(session.get("acting"))
    items = []
    for endpoint, label, audience in NAV_ITEMS:
        if who not in audience or endpoint not in current_app.view_functions:
            continue
        if representative and endpoint in NOT_FOR_REPRESENTATIVES:
            continue
        items.append({"url": url_for(endpoint), "label": label,
                      "current": request.endpoint == endpoint})
    return items
