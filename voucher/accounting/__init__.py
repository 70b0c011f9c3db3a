"""Accounting: the dimensions the authority posts each euro to (per municipality × service
type, the authority's own accounts, the providers' supplier numbers), dated and audited, and
the posting files of the payment batches."""
