"""Mandates: who may act for which client (a guardian appointed by the court, or a relative
with the client's consent), with what scope and until when. A representative is identified
by their personal identity code (strong identification), kept like a client's: encrypted, a
blind index to find them, a mask to show."""
