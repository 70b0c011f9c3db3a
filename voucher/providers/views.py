"""The provider's own pages: sign-up, the application, sites and documents.

The administrators' pages (review queue, decisions) are in ``admin_views``, on the same
blueprint.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from stdnum import iban as iban_number
from werkzeug.exceptions import RequestEntityTooLarge

from voucher import clock, db
from voucher.access import public, roles
from voucher.accounts.models import Role
from voucher.accounts.views import start_session
from voucher.catalogue import labels as _unit_names  # noqa: F401  (registers them)
from voucher.catalogue.models import ServiceType
from voucher.catalogue.rates import rates_in_force
from voucher.errors import DomainError, NotFound, ValidationFailed, error_response
from voucher.extensions import limiter
from voucher.i18n import current_language
from voucher.municipalities.models import Municipality
from voucher.providers import application, bank_accounts, documents, registration, sites
from voucher.providers.completeness import current_documents, missing_items
from voucher.providers.forms import (
    DocumentForm,
    RegistrationForm,
    SiteForm,
    application_data,
    application_form_class,
    offers_from,
)
from voucher.providers.labels import language_name
from voucher.providers.models import DocumentKind, Provider
from voucher.providers.notices import decisions_of
from voucher.web import current_actor, render_form

bp = Blueprint("providers", __name__)


@bp.app_context_processor
def _helpers():
    return {"service_language_name": language_name}


bp.add_app_template_filter(documents.megabytes, "megabytes")
bp.add_app_template_filter(bank_accounts.mask_iban, "masked_iban")


@bp.app_template_filter("iban")
def format_iban(value: str | None) -> str:
    """An IBAN in groups of four, as people read it; empty for none."""
    return iban_number.format(value) if value else ""


def own_provider() -> Provider:
    """The provider of the logged-in provider user."""
    provider = db.session().get(Provider, current_user.provider_id)
    if provider is None:
        raise NotFound()
    return provider


def _municipalities():
    return list(db.session().execute(sa.select(Municipality).order_by(Municipality.name_fi))
                .scalars())


def _service_types(provider: Provider) -> list[ServiceType]:
    """Service types open for applications, and those the provider already has."""
    offered = {offer.service_type_id for offer in provider.services}
    return list(db.session().execute(
        sa.select(ServiceType).where(sa.or_(ServiceType.is_active.is_(True),
                                            ServiceType.id.in_(offered or [0])))
        .order_by(ServiceType.name_fi)).scalars())


@bp.route("/provider/apply", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            _provider, user = registration.register_provider(
                db.session(), business_id=form.business_id.data, legal_name=form.legal_name.data,
                contact_person=form.contact_person.data, email=form.email.data,
                password=form.password.data, language=current_language(),
                actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            start_session(user)
            flash(_("Your account is ready. Fill in the application: you can save it half-done "
                    "and continue later."), "success")
            return redirect(url_for(".edit_application"), code=303)
    return render_form("providers/register.html", form)


@bp.get("/provider/application")
@roles(Role.PROVIDER)
def my_application():
    provider = own_provider()
    session = db.session()
    return render_template(
        "providers/application.html", provider=provider, current=current_documents(provider),
        decisions=decisions_of(session, provider),
        bank_change=bank_accounts.pending_change(session, provider),
        missing=missing_items(session, provider)
        if provider.status in application.APPLYING else {},
        editable=provider.status not in application.LOCKED)


def _application_form(provider: Provider, service_types, *, from_request: bool = True):
    """The application form: what was posted, or else the saved application."""
    form_class = application_form_class(service_types)
    data = application_data(db.session(), provider)
    form = form_class(data=data) if from_request else form_class(formdata=None, data=data)
    form.municipalities.choices = [(m.id, m.name(current_language())) for m in _municipalities()]
    return form


def _render_edit(form, provider, service_types, status: int | None = None):
    return render_form("providers/edit.html", form, status=status, provider=provider,
                       service_types=service_types, rates=rates_in_force(
                           db.session(), [s.id for s in service_types], clock.today()),
                       offers=application.offers_by_type(provider))


@bp.route("/provider/application/edit", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def edit_application():
    session = db.session()
    provider = own_provider()
    try:
        application.ensure_editable(provider)
    except DomainError as exc:
        flash(str(exc), "warning")
        return redirect(url_for(".my_application"))
    service_types = _service_types(provider)
    form = _application_form(provider, service_types)
    if form.validate_on_submit():
        waiting = bank_accounts.pending_change(session, provider)
        waiting_before = waiting.id if waiting is not None else None
        try:
            application.save_application(
                session, provider, actor=current_actor(),
                details={name: form[name].data for name in application.DETAIL_FIELDS},
                municipality_ids=form.municipalities.data or [],
                languages=form.languages.data or [], offers=offers_from(form, service_types))
        except DomainError as exc:
            form.add_errors(exc)
            return _render_edit(form, provider, service_types)
        if request.form.get("action") != "submit":
            change = bank_accounts.pending_change(session, provider)
            if change is not None and change.id != waiting_before:
                flash(_("The application was saved. The new bank account is used once the "
                        "authority has approved it; until then payments go to your current "
                        "account."), "success")
            else:
                flash(_("The application was saved."), "success")
            return redirect(url_for(".my_application"), code=303)
        missing = missing_items(session, provider)
        if missing:
            # The draft is saved; the page says what is still missing (not a refusal).
            form.add_problems(missing, _(
                "The application was saved as a draft, but it cannot be submitted yet. Fill "
                "in the missing items and submit again."))
            return _render_edit(form, provider, service_types, status=200)
        try:
            application.submit_application(session, provider, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
            return _render_edit(form, provider, service_types)
        flash(_("The application was submitted. You will get an e-mail when it has been "
                "reviewed."), "success")
        return redirect(url_for(".my_application"), code=303)
    return _render_edit(form, provider, service_types)


@bp.post("/provider/application/submit")
@roles(Role.PROVIDER)
def submit_application():
    session = db.session()
    provider = own_provider()
    try:
        application.submit_application(session, provider, actor=current_actor())
    except ValidationFailed as exc:
        service_types = _service_types(provider)
        form = _application_form(provider, service_types, from_request=False)
        form.add_errors(exc)
        return _render_edit(form, provider, service_types)
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".my_application"), code=303)
    flash(_("The application was submitted. You will get an e-mail when it has been "
            "reviewed."), "success")
    return redirect(url_for(".my_application"), code=303)


@bp.route("/provider/application/sites", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def sites_page():
    provider = own_provider()
    form = SiteForm()
    form.municipality.choices = [(0, _("Elsewhere"))] + [
        (m.id, m.name(current_language())) for m in _municipalities()]
    if form.validate_on_submit():
        try:
            sites.add_site(db.session(), provider, actor=current_actor(), name=form.name.data,
                           street_address=form.street_address.data,
                           postal_code=form.postal_code.data, city=form.city.data,
                           municipality_id=form.municipality.data or None)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The site was added."), "success")
            return redirect(url_for(".sites_page"), code=303)
    return render_form("providers/sites.html", form, provider=provider,
                       editable=provider.status not in application.LOCKED)


def _remove(remove, item_id: int, done: str, back: str):
    """Remove one of the provider's own items; someone else's is a 404."""
    try:
        remove(db.session(), own_provider(), item_id, actor=current_actor())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(str(exc), "error")  # e.g. the application went to review meanwhile
    else:
        flash(done, "success")
    return redirect(url_for(back), code=303)


@bp.post("/provider/application/sites/<int:site_id>/remove")
@roles(Role.PROVIDER)
def remove_site(site_id: int):
    return _remove(sites.remove_site, site_id, _("The site was removed."), ".sites_page")


def _document_form() -> DocumentForm:
    limit = documents.megabytes(current_app.config["MAX_UPLOAD_BYTES"])
    return DocumentForm(max_megabytes=limit)


def _render_documents(form, provider, status=None):
    return render_form("providers/documents.html", form, status=status, provider=provider,
                       current=current_documents(provider),
                       editable=provider.status not in application.LOCKED)


@bp.route("/provider/application/documents", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def documents_page():
    provider = own_provider()
    form = _document_form()
    if form.validate_on_submit():
        try:
            upload = documents.read_upload(form.file.data.stream,
                                           current_app.config["MAX_UPLOAD_BYTES"])
            documents.store_document(
                db.session(), provider, actor=current_actor(), kind=DocumentKind(form.kind.data),
                valid_until=form.valid_until.data, filename=form.file.data.filename,
                data=upload.data, sha256=upload.sha256)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The document was uploaded."), "success")
            return redirect(url_for(".documents_page"), code=303)
    return _render_documents(form, provider)


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(exc):
    """Above the hard request limit the body is not read at all: answer with the upload page
    and a clear message instead of a bare 413."""
    if request.endpoint != "providers.documents_page" or not current_user.is_authenticated \
            or current_user.role != Role.PROVIDER:
        return error_response(413)
    form = DocumentForm(formdata=None, max_megabytes=documents.megabytes(
        current_app.config["MAX_UPLOAD_BYTES"]))
    form.file.errors = [str(documents.FileTooLarge.message % {
        "size": documents.megabytes(request.content_length or 0),
        "limit": documents.megabytes(current_app.config["MAX_UPLOAD_BYTES"])})]
    return _render_documents(form, own_provider(), status=413)


@bp.post("/provider/application/documents/<int:document_id>/remove")
@roles(Role.PROVIDER)
def remove_document(document_id: int):
    return _remove(documents.remove_document, document_id, _("The document was removed."),
                   ".documents_page")


from voucher.providers import admin_views, downloads  # noqa: E402,F401  (their routes)
