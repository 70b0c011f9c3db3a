"""Providers: continuous application, review, approval, prices and the public register."""
