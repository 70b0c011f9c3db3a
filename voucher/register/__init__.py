"""The public register of approved providers: search and each provider's page, no login."""
