"""Vouchers: need assessment, value, issuing with approval, commitment, and the client's choice."""
