"""A realistic demo: the joint authority Kallio with its four member municipalities.

``load_demo`` is idempotent: every step finds existing rows by their natural key (municipality
number, e-mail, business ID, …) before creating anything, so running it twice duplicates
nothing. Each domain adds its own step module here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from voucher.demo import (
    accounting,
    base,
    budgets,
    catalogue,
    history,
    people,
    providers,
    redemptions,
    vouchers,
)

DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed by the command; demo only)


def demo_users() -> list[tuple[str, str]]:
    """Every demo user as (e-mail, who they are); all log in with DEMO_PASSWORD."""
    return [*people.DEMO_USERS_SUMMARY,
            *[(email, description) for email, _name, _business, description
              in providers.PROVIDER_USERS]]


def load_demo(session: Session) -> list[str]:
    """Load every demo step in dependency order; return lines to print."""
    municipalities = base.load_municipalities(session)
    service_types = catalogue.load_service_types(session)
    demo_providers = providers.load_providers(session, municipalities, service_types)
    users = people.load_users(session, municipalities, demo_providers, DEMO_PASSWORD)
    providers.load_provider_users(session, demo_providers, DEMO_PASSWORD)
    budgets.load_budgets(session, municipalities, service_types)
    accounting.load_dimensions(session, municipalities, service_types, demo_providers)
    budgets.load_income_tables(session, service_types)
    vouchers.load_vouchers(session, municipalities, service_types, demo_providers, users)
    session.flush()
    redemptions.load_service_events(session)
    story = history.load_history(session, municipalities, service_types)
    return [
        "Demo data loaded: joint authority Kallio (Alavieska, Nivala, Sievi, Ylivieska).",
        *story,
        f"Demo users (password: {DEMO_PASSWORD}):",
        *[f"  {email:28} {role}" for email, role in demo_users()],
    ]
