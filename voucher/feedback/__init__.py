"""Clients' ratings (0–10) of the service events they received."""
