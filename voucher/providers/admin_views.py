"""Administrators' pages: the review queue, all providers, a provider's application with its
documents, the review decision, suspension, reinstatement and revocation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.catalogue.rates import rates_in_force
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.labels import label
from voucher.providers import bank_accounts, review, supervision
from voucher.providers.completeness import current_documents
from voucher.providers.forms import BankAccountDecisionForm, ReasonForm, review_form
from voucher.providers.models import Provider, ProviderStatus
from voucher.providers.notices import decisions_of
from voucher.providers.views import bp
from voucher.web import current_actor

PAGE_SIZE = 50
#: Changes of an approved provider's standing, each with a reason.
_ACTIONS = {
    "suspend": supervision.suspend_provider,
    "reinstate": supervision.reinstate_provider,
    "revoke": supervision.revoke_provider,
}


@bp.app_template_filter("waited")
def format_waited(delta) -> str:
    """How long something has waited, as people say it: "3 days 4 hours", "25 minutes"."""
    minutes = int(delta.total_seconds() // 60)
    days, hours = minutes // (24 * 60), minutes % (24 * 60) // 60
    if days:
        text = ngettext("%(num)d day", "%(num)d days", days)
        return text + " " + ngettext("%(num)d hour", "%(num)d hours", hours) if hours else text
    if hours:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


@bp.get("/admin/providers")
@roles(Role.ADMIN)
def review_queue():
    session = db.session()
    return render_template("providers/queue.html", queue=review.review_queue(session),
                           waited=review.waited, flagged=supervision.flagged_providers(session),
                           bank_changes=bank_accounts.pending_changes(session))


@bp.get("/admin/providers/all")
@roles(Role.ADMIN)
def all_providers():
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()[:100]
    query = sa.select(Provider).order_by(sa.func.lower(Provider.legal_name), Provider.id)
    if status in {s.value for s in ProviderStatus}:
        query = query.where(Provider.status == status)
    if text:
        pattern = "%" + text.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(sa.or_(sa.func.lower(Provider.legal_name).like(pattern, escape="\\"),
                                   sa.func.lower(Provider.marketing_name).like(pattern,
                                                                               escape="\\"),
                                   Provider.business_id.like(pattern, escape="\\")))
    providers = db.session().execute(query.limit(PAGE_SIZE + 1)).scalars().all()
    return render_template("providers/admin_list.html", providers=providers[:PAGE_SIZE],
                           more=len(providers) > PAGE_SIZE, status=status, text=text,
                           statuses=list(ProviderStatus))


def _provider(provider_id: int) -> Provider:
    provider = db.session().execute(
        sa.select(Provider).where(Provider.id == provider_id)
        .options(selectinload(Provider.services), selectinload(Provider.documents))
    ).scalar_one_or_none()
    if provider is None:
        raise NotFound()
    return provider


def _render_provider(provider: Provider, *, decision_form=None, status=None, **forms):
    session = db.session()
    items = review.pending_items(session, provider)
    if decision_form is None and items:
        decision_form = review_form(items, formdata=None)
    for name in _ACTIONS:
        forms.setdefault(f"{name}_form", ReasonForm(formdata=None, prefix=name))
    forms.setdefault("bank_form", BankAccountDecisionForm(formdata=None, prefix="bank"))
    forms["bank_change"] = bank_accounts.pending_change(session, provider)
    rates = rates_in_force(session, [item.offer.service_type_id for item in items],
                           clock.today())
    context = dict(provider=provider, review_items=items, review_form=decision_form, rates=rates,
                   current=current_documents(provider), decisions=decisions_of(session, provider),
                   expired=supervision.expired_items(provider), **forms)
    if status is None:
        return render_template("providers/admin_provider.html", **context)
    return render_template("providers/admin_provider.html", **context), status


@bp.get("/admin/providers/<int:provider_id>")
@roles(Role.ADMIN)
def admin_provider(provider_id: int):
    return _render_provider(_provider(provider_id))


@bp.post("/admin/providers/<int:provider_id>/review")
@roles(Role.ADMIN)
def review_application(provider_id: int):
    session = db.session()
    provider = _provider(provider_id)
    items = review.pending_items(session, provider)
    form = review_form(items)
    if form.validate_on_submit():
        verdicts = {item.offer.id: (review.Verdict(form[f"decision_{item.offer.id}"].data),
                                    form[f"reason_{item.offer.id}"].data or "")
                    for item in items}
        try:
            review.decide_review(session, provider, actor=current_actor(), verdicts=verdicts,
                                 message=form.message.data or "")
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_errors(exc)
        else:
            flash(_("The decision was saved and the provider was notified."), "success")
            return redirect(url_for(".admin_provider", provider_id=provider.id), code=303)
    return _render_provider(provider, decision_form=form, status=422)


@bp.post("/admin/providers/<int:provider_id>/<any(suspend, reinstate, revoke):action>")
@roles(Role.ADMIN)
def change_standing(provider_id: int, action: str):
    provider = _provider(provider_id)
    form = ReasonForm(prefix=action)
    if form.validate_on_submit():
        try:
            _ACTIONS[action](db.session(), provider, actor=current_actor(), reason=form.reason.data)
        except ValidationFailed as exc:
            form.add_errors(exc)
        except DomainError as exc:
            if exc.status == 403:
                raise
            flash(str(exc), "error")  # the state changed meanwhile: nothing was done
            return redirect(url_for(".admin_provider", provider_id=provider.id), code=303)
        else:
            flash(_("The provider's state is now “%(status)s”; the provider was notified.",
                    status=label(provider.status)), "success")
            return redirect(url_for(".admin_provider", provider_id=provider.id), code=303)
    return _render_provider(provider, status=422, **{f"{action}_form": form})


@bp.post("/admin/providers/bank-account-changes/<int:change_id>")
@roles(Role.ADMIN)
def decide_bank_account_change(change_id: int):
    """Approve or reject a provider's change of bank account (a second person's decision)."""
    session = db.session()
    change = bank_accounts.find_change(session, change_id)
    provider = _provider(change.provider_id)
    form = BankAccountDecisionForm(prefix="bank")
    approve = request.form.get("decision") == "approve"
    if form.validate_on_submit():
        try:
            if approve:
                bank_accounts.approve_bank_account_change(session, change, actor=current_actor(),
                                                          reason=form.reason.data)
            else:
                bank_accounts.reject_bank_account_change(session, change, actor=current_actor(),
                                                         reason=form.reason.data)
        except ValidationFailed as exc:
            form.add_errors(exc)
        except DomainError as exc:
            if exc.status == 403:
                raise
            flash(str(exc), "error")  # decided meanwhile: nothing was done
            return redirect(url_for(".admin_provider", provider_id=provider.id), code=303)
        else:
            flash(_("The new bank account was approved; the next settlement pays it. The "
                    "provider's users were notified.") if approve else
                  _("The change of bank account was rejected; payments still go to the "
                    "verified account. The provider's users were notified."), "success")
            return redirect(url_for(".admin_provider", provider_id=provider.id), code=303)
    return _render_provider(provider, status=422, bank_form=form)
