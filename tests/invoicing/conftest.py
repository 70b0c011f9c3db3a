"""The settlement tests' small world, for the invoices' e-invoice tests."""

from tests.settlement.conftest import settle, world  # noqa: F401
