"""Accounting pages (administrators): the dimensions per municipality × service type, the
authority's own accounts and the providers' supplier numbers, each with its dated history."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from voucher import clock, db
from voucher.access import roles
from voucher.accounting import dimensions
from voucher.accounting import labels as accounting_labels
from voucher.accounting.forms import AuthorityDimensionsForm, DimensionsForm, SupplierNumberForm
from voucher.accounting.models import (
    DIMENSION_FIELDS,
    AccountingDimensions,
    AuthorityAccount,
    SupplierNumber,
)
from voucher.accounts.models import Role
from voucher.catalogue.models import ServiceType
from voucher.errors import DomainError, NotFound
from voucher.i18n import current_language, format_date, localized
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider, ProviderStatus
from voucher.web import current_actor, render_form

bp = Blueprint("accounting", __name__, url_prefix="/admin/accounting")


@bp.app_context_processor
def _names():
    return {"dimension_labels": accounting_labels.DIMENSION_LABELS,
            "dimension_fields": DIMENSION_FIELDS,
            "authority_accounts": accounting_labels.AUTHORITY_ACCOUNTS}


def _values(form) -> dict:
    return {name: getattr(form, name).data for name in DIMENSION_FIELDS}


@bp.get("/")
@roles(Role.ADMIN)
def index():
    """What is in force today, for every key, with the planned changes marked."""
    session = db.session()
    today = clock.today()
    municipalities = list(session.execute(sa.select(Municipality)
                                          .order_by(Municipality.code)).scalars())
    services = list(session.execute(sa.select(ServiceType).order_by(ServiceType.code)).scalars())
    planned = {(r.municipality_id, r.service_type_id, r.authority_account)
               for r in session.execute(sa.select(AccountingDimensions).where(
                   AccountingDimensions.valid_from > today)).scalars()}
    providers = list(session.execute(sa.select(Provider).where(Provider.status.in_(
        [ProviderStatus.APPROVED, ProviderStatus.SUSPENDED, ProviderStatus.REVOKED]))
        .order_by(Provider.legal_name)).scalars())
    return render_template(
        "accounting/index.html", municipalities=municipalities, services=services,
        in_force=dimensions.service_dimensions_in_force(session, today),
        authority=dimensions.authority_dimensions_in_force(session, today),
        planned=planned, providers=providers,
        suppliers=dimensions.supplier_numbers_in_force(session, today),
        earliest=dimensions.earliest_change_date(session))


def _dimensions_page(template_form, history, *, title, **context):
    return render_form("accounting/dimensions.html", template_form, history=history,
                       title=title, today=clock.today(),
                       dimension_cancel_url=lambda row: url_for(".cancel",
                                                                dimensions_id=row.id),
                       earliest=dimensions.earliest_change_date(db.session()), **context)


@bp.route("/services/<int:municipality_id>/<int:service_type_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def service(municipality_id: int, service_type_id: int):
    session = db.session()
    municipality = session.get(Municipality, municipality_id)
    service_type = session.get(ServiceType, service_type_id)
    if municipality is None or service_type is None:
        raise NotFound()
    form = DimensionsForm()
    _default_valid_from(session, form)
    if form.validate_on_submit():
        try:
            row = dimensions.set_service_dimensions(
                session, actor=current_actor(), municipality=municipality,
                service_type=service_type, valid_from=form.valid_from.data, **_values(form))
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The new dimensions apply from %(day)s.", day=format_date(row.valid_from)),
                  "success")
            return redirect(url_for(".service", municipality_id=municipality.id,
                                    service_type_id=service_type.id), code=303)
    return _dimensions_page(
        form, dimensions.service_history(session, municipality.id, service_type.id),
        title=_("Accounting dimensions: %(municipality)s, %(service)s",
                municipality=municipality.name(current_language()),
                service=localized(service_type, "name")),
        municipality=municipality, service_type=service_type)


@bp.route("/authority/<any(bank, self_shares):account>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def authority(account: str):
    session = db.session()
    key = AuthorityAccount(account)
    form = AuthorityDimensionsForm()
    _default_valid_from(session, form)
    if form.validate_on_submit():
        try:
            row = dimensions.set_authority_dimensions(
                session, actor=current_actor(), authority_account=key,
                valid_from=form.valid_from.data, **_values(form))
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The new dimensions apply from %(day)s.", day=format_date(row.valid_from)),
                  "success")
            return redirect(url_for(".authority", account=account), code=303)
    return _dimensions_page(form, dimensions.authority_history(session, key),
                            title=_("Accounting dimensions: %(account)s",
                                    account=accounting_labels.AUTHORITY_ACCOUNTS[key]))


@bp.post("/dimensions/<int:dimensions_id>/cancel")
@roles(Role.ADMIN)
def cancel(dimensions_id: int):
    session = db.session()
    row = session.get(AccountingDimensions, dimensions_id)
    if row is None:
        raise NotFound()
    back = (url_for(".service", municipality_id=row.municipality_id,
                    service_type_id=row.service_type_id) if row.municipality_id
            else url_for(".authority", account=row.authority_account.value))
    try:
        dimensions.cancel_dimensions(session, dimensions_id, actor=current_actor())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(str(exc), "error")
    else:
        flash(_("The planned change was cancelled."), "success")
    return redirect(back, code=303)


@bp.route("/suppliers/<int:provider_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def supplier(provider_id: int):
    session = db.session()
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound()
    form = SupplierNumberForm()
    _default_valid_from(session, form)
    if form.validate_on_submit():
        try:
            row = dimensions.set_supplier_number(
                session, actor=current_actor(), provider=provider,
                valid_from=form.valid_from.data, supplier_number=form.supplier_number.data)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The new supplier number applies from %(day)s.",
                    day=format_date(row.valid_from)), "success")
            return redirect(url_for(".supplier", provider_id=provider.id), code=303)
    return render_form("accounting/supplier.html", form, provider=provider,
                       history=dimensions.supplier_history(session, provider.id),
                       supplier_cancel_url=lambda row: url_for(
                           ".cancel_supplier", provider_id=provider.id,
                           supplier_number_id=row.id),
                       today=clock.today(), earliest=dimensions.earliest_change_date(session))


@bp.post("/suppliers/<int:provider_id>/<int:supplier_number_id>/cancel")
@roles(Role.ADMIN)
def cancel_supplier(provider_id: int, supplier_number_id: int):
    session = db.session()
    try:
        row = session.get(SupplierNumber, supplier_number_id)
        if row is None or row.provider_id != provider_id:
            raise NotFound()
        dimensions.cancel_supplier_number(session, supplier_number_id, actor=current_actor())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(str(exc), "error")
    else:
        flash(_("The planned change was cancelled."), "success")
    return redirect(url_for(".supplier", provider_id=provider_id), code=303)


def _default_valid_from(session, form) -> None:
    """A new form proposes the first day a change may take effect."""
    if not form.is_submitted():
        form.valid_from.data = max(clock.today(), dimensions.earliest_change_date(session)
                                   or clock.today())
