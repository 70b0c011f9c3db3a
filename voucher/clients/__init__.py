"""Clients: residents who hold vouchers. Identity codes are encrypted, masked and audited."""
