"""The provider's service events: record (with a preview), void, correct, upload a CSV."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.errors import DomainError
from voucher.i18n import current_language
from voucher.invoicing import labels as _invoice_labels  # noqa: F401 (registers them)
from voucher.money import format_cents
from voucher.providers.pricing import approved_price_for
from voucher.redemptions import corrections, csv_import, queries, services
from voucher.redemptions import labels as _event_labels  # noqa: F401 (registers them)
from voucher.redemptions.forms import CorrectionForm, EventForm, FilterForm, UploadForm
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.web import current_actor, render_form

bp = Blueprint("redemptions", __name__, url_prefix="/provider/service-events")
PER_PAGE = 50


@bp.get("/")
@roles(Role.PROVIDER)
def index():
    session = db.session()
    provider_id = current_user.provider_id
    filters = FilterForm(request.args)
    filters.offer_choices(clock.today())
    from_date, to_date = filters.chosen_month()
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    events, total = queries.provider_redemptions(
        session, provider_id=provider_id, from_date=from_date, to_date=to_date,
        status=filters.chosen_status(), page=page, per_page=PER_PAGE, newest_first=True)
    ids = [e.id for e in events]
    corrected = corrections.corrected_ids(session, ids)
    awaiting = corrections.awaiting_decision_ids(session, ids)
    return render_template(
        "redemptions/index.html", vouchers=queries.usable_vouchers(session,
                                                                   provider_id=provider_id),
        events=events, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
        filters=filters, corrected=corrected, awaiting=awaiting,
        RedemptionStatus=RedemptionStatus)


def _event_form_page(template: str, form, voucher, preview=None):
    return render_form(template, form, voucher=voucher, preview=preview,
                       today_iso=clock.today().isoformat())


@bp.route("/new/<code>", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def record(code: str):
    session = db.session()
    voucher = services.find_provider_voucher(session, provider_id=current_user.provider_id,
                                             code=code)
    form = EventForm()
    if request.method == "GET":
        today = clock.today()
        form.submission_key.data = secrets.token_urlsafe(24)
        form.service_date.data = min(today, voucher.valid_until)
        form.unit_price_cents.data = approved_price_for(
            session, voucher.provider_id, voucher.service_type_id, form.service_date.data)
    action = request.form.get("action", "preview")
    if not form.validate_on_submit() or action == "edit":
        return _event_form_page("redemptions/record.html", form, voucher)
    language = current_language()
    try:
        if action == "save":
            redemption = services.record_redemption(
                session, voucher=voucher, event=form.event(), source="portal",
                actor=current_actor(), user_id=current_user.id, language=language,
                submission_key=form.submission_key.data or None)
        else:
            preview = services.preview_redemption(session, voucher=voucher,
                                                  event=form.event(), language=language)
            return _event_form_page("redemptions/record.html", form, voucher, preview=preview)
    except services.AlreadyRecorded as exc:
        flash(str(exc), "info")
        return redirect(url_for("redemptions.index"), code=303)
    except DomainError as exc:
        form.add_errors(exc)
        return _event_form_page("redemptions/record.html", form, voucher)
    flash(_("Service event recorded for %(client)s: the voucher pays %(voucher_pays)s and the "
            "client's self-share is %(client_pays)s.",
            client=voucher.client.display_name,
            voucher_pays=format_cents(redemption.voucher_pays_cents, language),
            client_pays=format_cents(redemption.client_pays_cents, language)), "success")
    return redirect(url_for("redemptions.index"), code=303)


def _own_event(redemption_id: int) -> Redemption:
    return services.find_provider_redemption(
        db.session(), provider_id=current_user.provider_id, redemption_id=redemption_id)


@bp.route("/<int:redemption_id>/void", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def void(redemption_id: int):
    redemption = _own_event(redemption_id)
    if request.method == "POST":  # CSRFProtect has checked the form's token
        try:
            corrections.void_redemption(
                db.session(), provider_id=current_user.provider_id,
                redemption_id=redemption.id, actor=current_actor(), user_id=current_user.id)
        except DomainError as exc:
            flash(str(exc), "error")
            return redirect(url_for("redemptions.index"), code=303)
        flash(_("The service event was voided and its units returned to the voucher."),
              "success")
        return redirect(url_for("redemptions.index"), code=303)
    return render_template("redemptions/void.html", redemption=redemption)


@bp.route("/<int:redemption_id>/correct", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def correct(redemption_id: int):
    original = _own_event(redemption_id)
    form = CorrectionForm()
    if request.method == "GET":
        form.service_date.data = original.service_date
        form.units.data = original.units
        form.unit_price_cents.data = original.unit_price_cents
        form.caregiver_ref.data = original.caregiver_ref
    if form.validate_on_submit():
        replacement = form.event() if form.delivered.data == "yes" else None
        try:
            corrections.correct_redemption(
                db.session(), provider_id=current_user.provider_id, redemption_id=original.id,
                replacement=replacement, actor=current_actor(), user_id=current_user.id,
                language=current_language())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The correction was saved. It goes on your next invoice as a negative line."),
                  "success")
            return redirect(url_for("redemptions.index"), code=303)
    return render_form("redemptions/correct.html", form, original=original)


@bp.route("/upload", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def upload():
    form = UploadForm()
    problems, repeated = [], False
    if form.validate_on_submit():
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        data = form.file.data.read(limit + 1)
        try:
            if len(data) > limit:
                raise csv_import.CsvRejected([(1, _("The file is larger than allowed (%(mb)d "
                                                    "MB).", mb=max(1, limit // 2**20)))])
            recorded = csv_import.record_csv(
                db.session(), provider_id=current_user.provider_id, data=data,
                actor=current_actor(), user_id=current_user.id, language=current_language(),
                repeats_confirmed=form.record_repeats.data)
        except csv_import.CsvRejected as exc:
            form.form_errors.append(str(exc))
            problems = exc.problems
            repeated = isinstance(exc, csv_import.CsvRepeated)
            form.record_repeats.data = False  # ticked again only on purpose
        else:
            flash(_("%(count)d service events recorded from the file.", count=len(recorded)),
                  "success")
            return redirect(url_for("redemptions.index"), code=303)
    return render_form("redemptions/upload.html", form, problems=problems, repeated=repeated,
                       columns=csv_import.COLUMNS)


@bp.get("/template.csv")
@roles(Role.PROVIDER)
def template():
    content = csv_import.template_csv(db.session(), provider_id=current_user.provider_id,
                                      today=clock.today(), language=current_language())
    return Response(content.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="service-events.csv"'})
