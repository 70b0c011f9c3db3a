"""Service events (redemptions) recorded against assigned vouchers."""
