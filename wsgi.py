"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from voucher import create_app

app = create_app()
