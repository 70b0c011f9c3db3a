"""Append-only, hash-chained audit trail of every state change and every view of personal data."""
