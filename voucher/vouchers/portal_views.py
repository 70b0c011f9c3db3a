"""The client's pages (my vouchers, choosing a provider) and the decision letter, which the
client and the case managers of the voucher's municipality may open."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.errors import DomainError, NotFound
from voucher.forms import BaseForm
from voucher.i18n import LANGUAGES
from voucher.vouchers import choice, delivery, lifecycle, queries
from voucher.vouchers.details import Usage, remaining_value_cents
from voucher.vouchers.forms import PostedForm
from voucher.vouchers.letter import delivery_letter, letter_for, letter_pdf, letters_pdf
from voucher.vouchers.models import AssignmentStatus
from voucher.vouchers.portal import client_overview, self_shares_at
from voucher.vouchers.views import bp
from voucher.web import current_actor, render_form


@bp.app_context_processor
def _self_share_helper():
    """``client_self_shares(provider)`` for the public provider page's "your self-share"."""

    def client_self_shares(provider):
        if not current_user.is_authenticated or current_user.role != Role.CLIENT:
            return []
        return self_shares_at(db.session(), current_user, provider)

    return {"client_self_shares": client_self_shares}


@bp.get("/mine")
@roles(Role.CLIENT)
def my_vouchers():
    session = db.session()
    vouchers = queries.client_vouchers(session, current_user)
    return render_template("vouchers/my_vouchers.html",
                           overviews=[client_overview(session, v) for v in vouchers])


@bp.get("/mine/<int:voucher_id>")
@roles(Role.CLIENT)
def my_voucher(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_client(session, current_user, voucher_id)
    return render_template("vouchers/my_voucher.html", overview=client_overview(session, voucher),
                           usage=Usage.of(session, voucher.id),
                           refusable=lifecycle.can_be_refused(session, voucher),
                           remaining_value=remaining_value_cents(voucher))


@bp.route("/mine/<int:voucher_id>/refuse", methods=["GET", "POST"])
@roles(Role.CLIENT)
def refuse(voucher_id: int):
    """The client refuses their voucher, after a page that says what follows."""
    session = db.session()
    voucher = queries.voucher_for_client(session, current_user, voucher_id)
    form = BaseForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            lifecycle.refuse_voucher(session, voucher, refused_on=clock.today(),
                                     actor=current_actor())
        except DomainError as exc:
            error, status = str(exc), exc.status
        else:
            flash(_("You have refused the voucher. Your case manager has been told."),
                  "success")
            return redirect(url_for("vouchers.my_voucher", voucher_id=voucher.id), code=303)
    return render_template("vouchers/refuse.html", voucher=voucher, form=form, error=error,
                           refusable=lifecycle.can_be_refused(session, voucher)), status


def _voucher_for_chooser(session, voucher_id: int):
    if current_user.role == Role.CLIENT:
        return queries.voucher_for_client(session, current_user, voucher_id)
    return queries.voucher_for_staff(session, current_user, voucher_id)


def _back_to_voucher(voucher) -> str:
    if current_user.role == Role.CLIENT:
        return url_for("vouchers.my_voucher", voucher_id=voucher.id)
    return url_for("vouchers.detail", voucher_id=voucher.id)


@bp.route("/<int:voucher_id>/provider", methods=["GET", "POST"])
@roles(Role.CLIENT, Role.CASE_MANAGER)
def choose_provider(voucher_id: int):
    session = db.session()
    voucher = _voucher_for_chooser(session, voucher_id)
    sort = request.args.get("sort", "self_share")
    sort = sort if sort in choice.SORTS else "self_share"
    language = request.args.get("language") or None
    language = language if language in LANGUAGES else None
    error, status = None, 200
    if request.method == "POST":
        provider_id = request.form.get("provider_id", "")
        try:
            if not provider_id.isdigit():
                raise NotFound()
            choice.choose_provider(
                session, voucher, provider_id=int(provider_id), actor=current_actor(),
                via="client" if current_user.role == Role.CLIENT else "case_manager")
        except DomainError as exc:
            session.rollback()  # the page below reads afresh; nothing was changed
            error, status = str(exc), exc.status
        else:
            flash(_("Your request has been sent to the provider. You will be told when it "
                    "answers.") if current_user.role == Role.CLIENT else
                  _("The request has been sent to the provider."), "success")
            return redirect(_back_to_voucher(voucher), code=303)
    waiting = choice.open_assignment(session, voucher.id, AssignmentStatus.PROPOSED)
    return render_template(
        "vouchers/choose_provider.html", voucher=voucher, error=error, sort=sort,
        language=language, options=choice.provider_options(session, voucher, sort=sort,
                                                           language=language),
        waiting=waiting, back=_back_to_voucher(voucher)), status


def _letter(voucher_id: int):
    session = db.session()
    if current_user.role == Role.CLIENT:
        voucher = queries.voucher_for_client(session, current_user, voucher_id)
    else:
        voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    if voucher.issued_at is None:
        raise NotFound()
    return voucher, letter_for(session, voucher, actor=current_actor())


@bp.get("/<int:voucher_id>/letter")
@roles(Role.CLIENT, Role.CASE_MANAGER, Role.ADMIN)
def letter(voucher_id: int):
    voucher, content = _letter(voucher_id)
    return render_template("vouchers/letter.html", voucher=voucher, letter=content,
                           back=_back_to_voucher(voucher))


@bp.get("/<int:voucher_id>/letter.pdf")
@roles(Role.CLIENT, Role.CASE_MANAGER, Role.ADMIN)
def letter_as_pdf(voucher_id: int):
    voucher, content = _letter(voucher_id)
    return Response(letter_pdf(content), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="voucher-decision-{voucher.id}.pdf"'})


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and int(v) < 2**31]


@bp.route("/post-room", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER, Role.ADMIN)
def post_room():
    """Decision letters waiting to be posted: print the batch, then mark it posted."""
    session = db.session()
    form = PostedForm()
    if request.method == "GET":
        form.posted_on.data = clock.today()
    if form.validate_on_submit():
        try:
            marked = delivery.mark_posted(session, current_user,
                                          _ids(request.form.getlist("delivery_id")),
                                          posted_on=form.posted_on.data, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(ngettext("%(num)d letter marked as posted.", "%(num)d letters marked as "
                           "posted.", marked), "success")
            return redirect(url_for("vouchers.post_room"), code=303)
    return render_form("vouchers/post_room.html", form,
                       queue=delivery.post_queue(session, current_user))


@bp.get("/post-room/batch.pdf")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def post_room_batch():
    """The listed letters (``?id=``) in one PDF for printing."""
    session = db.session()
    wanted = set(_ids(request.args.getlist("id")))
    batch = [d for d in delivery.post_queue(session, current_user) if d.id in wanted]
    if not batch:
        raise NotFound()
    letters = [delivery_letter(session, d, actor=current_actor()) for d in batch]
    return Response(letters_pdf(letters), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="letters-{clock.today()}.pdf"'})
