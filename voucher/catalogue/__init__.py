"""The service catalogue: service types, their voucher values, price caps and income tables."""
