"""Settlement: approved invoices become budget spending and one SEPA payment batch."""
