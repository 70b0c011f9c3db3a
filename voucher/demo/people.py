"""Demo step: the demo users and the demo client."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.accounts.models import Role, User
from voucher.accounts.passwords import hash_password
from voucher.clients.identity import protect_identity_code
from voucher.clients.models import Client
from voucher.demo.providers import DEMO_PROVIDER_BUSINESS_ID
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider

DEMO_USERS_SUMMARY = [
    ("admin@example.fi", "administrator"),
    ("casemanager@example.fi", "case manager (Nivala, Ylivieska)"),
    ("casemanager2@example.fi", "case manager (Nivala, Ylivieska), second approver"),
    ("provider@example.fi", "provider user of Hoivapalvelu Aurinko Oy (approved)"),
    ("client@example.fi", "client Aino Virtanen (Ylivieska)"),
]

#: Fictitious identity codes: individual numbers 900–999 are never given to real people.
DEMO_CLIENTS = [
    dict(identity_code="150344-912V", first_name="Aino", last_name="Virtanen", municipality="977",
         language="fi", email="client@example.fi", phone="+358 40 555 0101",
         street_address="Koulukatu 5 A 3", postal_code="84100", city="Ylivieska",
         household_size=1, gross_monthly_income_cents=165000),
]


def _client(session: Session, spec: dict, municipalities: dict[str, Municipality]) -> Client:
    spec = dict(spec)
    protected = protect_identity_code(spec.pop("identity_code"))
    found = session.execute(
        sa.select(Client).where(Client.identity_code_index == protected.index)
    ).scalar_one_or_none()
    if found is not None:
        return found
    client = Client(identity_code_encrypted=protected.encrypted,
                    identity_code_index=protected.index, identity_code_masked=protected.masked,
                    municipality_id=municipalities[spec.pop("municipality")].id, **spec)
    session.add(client)
    session.flush()
    return client


def load_users(
    session: Session, municipalities: dict[str, Municipality], providers: dict[str, Provider],
    password: str,
) -> dict[str, User]:
    """The demo users, keyed by e-mail; an existing user is left as it is."""
    clients = [_client(session, spec, municipalities) for spec in DEMO_CLIENTS]
    password_hash = hash_password(password)
    case_manager_area = [municipalities["535"], municipalities["977"]]
    specs = [
        dict(email="admin@example.fi", role=Role.ADMIN, display_name="Anna Admin"),
        dict(email="casemanager@example.fi", role=Role.CASE_MANAGER,
             display_name="Kaisa Palveluohjaaja", municipalities=case_manager_area),
        dict(email="casemanager2@example.fi", role=Role.CASE_MANAGER,
             display_name="Pekka Hyväksyjä", municipalities=case_manager_area),
        dict(email="provider@example.fi", role=Role.PROVIDER, display_name="Sari Aurinko",
             provider_id=providers[DEMO_PROVIDER_BUSINESS_ID].id),
        dict(email="client@example.fi", role=Role.CLIENT, display_name="Aino Virtanen",
             client_id=clients[0].id),
    ]
    users = {u.email: u for u in session.execute(sa.select(User)).scalars()}
    for spec in specs:
        if spec["email"] in users:
            continue
        area = spec.pop("municipalities", [])
        user = User(password_hash=password_hash, language="fi", **spec)
        user.municipalities = area
        session.add(user)
        users[user.email] = user
    session.flush()
    return users
