"""Providers' monthly invoices and their approval."""
