"""Changing a decision (muutospäätös): a case manager proposes new units, value, validity or
service for an issued voucher from a start date; a second case manager approves it; the
commitment moves by the difference, services already recorded from the start date are
corrected, and the change is a decision of its own that supersedes the one it changes."""
