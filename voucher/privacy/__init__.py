"""Data protection: encryption key rotation, a client's data export, retention."""
