"""Budgets per municipality × service type × year, with a ledger of commit, release and spend."""
