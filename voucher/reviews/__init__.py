"""Requests for review (oikaisuvaatimus) of voucher decisions, and the decisions on them."""
