"""The invoice as a PDF document, in the reader's language."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from voucher.i18n import format_date
from voucher.invoicing.models import Invoice
from voucher.invoicing.reference import format_reference
from voucher.invoicing.services import period_label
from voucher.labels import label
from voucher.money import format_cents, format_units
from voucher.pdf import PdfDocument


def invoice_pdf(invoice: Invoice, language: str = "fi") -> bytes:
    """Seller, buyer, payment details, one row per service event, and the totals."""
    with force_locale(language):
        money = lambda cents: format_cents(cents, language)  # noqa: E731
        title = _("Invoice %(number)s", number=invoice.number)
        doc = PdfDocument(title, language=language, author=invoice.provider_name)
        doc.heading(title)
        doc.facts([
            (_("Seller"), invoice.provider_name),
            (_("Business ID"), invoice.business_id),
            (_("Buyer"), current_app.config["AUTHORITY_NAME"]),
            (_("Invoice date"), format_date(invoice.created_at, language)),
            (_("Invoiced month"), period_label(invoice.period)),
            (_("Status"), label(invoice.status)),
        ])
        doc.heading(_("Payment details"), level=2)
        doc.facts([
            (_("Bank account (IBAN)"), invoice.iban),
            (_("BIC"), invoice.bic or "–"),
            (_("Reference number"), format_reference(invoice.reference)),
            (_("Amount payable"), money(invoice.voucher_total_cents)),
        ])
        doc.heading(_("Service events"), level=2)
        width = doc.width
        doc.table(
            [_("Date"), _("Voucher"), _("Units"), _("Unit price"), _("Voucher pays"),
             _("Client pays")],
            [[format_date(line.service_date, language), line.voucher_code,
              format_units(line.units, language), money(line.unit_price_cents),
              money(line.voucher_pays_cents), money(line.client_pays_cents)]
             for line in invoice.lines],
            widths=[width * w for w in (0.14, 0.32, 0.09, 0.14, 0.16, 0.15)],
            right_aligned={2, 3, 4, 5},
        )
        doc.facts([
            (_("Voucher shares in total"), money(invoice.voucher_total_cents)),
            (_("Clients' self-shares (not billed here)"), money(invoice.client_total_cents)),
        ], label_width=90)
        if invoice.rejection_reason:
            doc.heading(_("Rejected"), level=2)
            doc.paragraph(invoice.rejection_reason)
        return doc.output()
