"""The front page and each role's home page."""
