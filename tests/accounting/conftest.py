"""The settlement tests' small world, for the accounting tests."""

from tests.settlement.conftest import settle, world  # noqa: F401
