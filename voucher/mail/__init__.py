"""E-mail through an outbox table: queued in the transaction that causes it, sent after commit."""
