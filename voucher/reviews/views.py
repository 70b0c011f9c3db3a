"""Request for review pages: the client files one, a case manager records one received on
paper, the open requests, deciding one, and the review decision's letter."""

from __future__ import annotations

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
from voucher.reviews import labels as _review_labels  # noqa: F401 (registers them)
from voucher.reviews import services
from voucher.reviews.forms import PaperRequestForm, RequestForm, ReviewDecisionForm
from voucher.reviews.letter import review_letter, review_letter_pdf
from voucher.reviews.models import ReviewChannel, ReviewOutcome
from voucher.vouchers import queries
from voucher.web import current_actor, render_form

bp = Blueprint("reviews", __name__)


@bp.app_context_processor
def _reviews_helper():
    """``reviews_of(voucher_id)`` for the voucher pages (the client's and the staff's), which
    list a decision's requests for review without the vouchers package importing this one."""

    def reviews_of(voucher_id: int):
        return services.requests_of(db.session(), voucher_id)

    return {"reviews_of": reviews_of}


@bp.route("/vouchers/mine/<int:voucher_id>/review", methods=["GET", "POST"])
@roles(Role.CLIENT)
def file_online(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_client(session, current_user, voucher_id)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            services.file_request(session, voucher, channel=ReviewChannel.ONLINE,
                                  received_on=clock.today(), text=form.request_text.data,
                                  actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("Your request for review has been sent. You will get the decision on it "
                    "as a letter."), "success")
            return redirect(url_for("vouchers.my_voucher", voucher_id=voucher.id), code=303)
    return render_form("reviews/file.html", form, voucher=voucher,
                       deadline=services.deadline_of(session, voucher), today=clock.today(),
                       back=url_for("vouchers.my_voucher", voucher_id=voucher.id))


@bp.route("/vouchers/<int:voucher_id>/reviews/new", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def record_paper(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    form = PaperRequestForm()
    if request.method == "GET":
        form.received_on.data = clock.today()
    if form.validate_on_submit():
        try:
            filed = services.file_request(session, voucher, channel=ReviewChannel.PAPER,
                                          received_on=form.received_on.data,
                                          text=form.request_text.data, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The request for review has been recorded."), "success")
            return redirect(url_for("reviews.detail", request_id=filed.id), code=303)
    return render_form("reviews/file.html", form, voucher=voucher,
                       deadline=services.deadline_of(session, voucher), today=clock.today(),
                       back=url_for("vouchers.detail", voucher_id=voucher.id))


@bp.get("/reviews/")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def index():
    return render_template("reviews/index.html",
                           requests=services.open_requests(db.session(), current_user))


@bp.route("/reviews/<int:request_id>", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER, Role.ADMIN)
def detail(request_id: int):
    session = db.session()
    review = services.request_for_staff(session, current_user, request_id)
    form = ReviewDecisionForm()
    can_decide = current_user.role == Role.CASE_MANAGER and review.decided_at is None and \
        review.voucher.created_by_user_id != current_user.id
    if request.method == "POST" and current_user.role == Role.CASE_MANAGER and \
            form.validate_on_submit():
        try:
            services.decide_request(session, review, outcome=ReviewOutcome(form.outcome.data),
                                    reasoning=form.reasoning.data, decider=current_user,
                                    actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The request for review has been decided; the client gets the letter."),
                  "success")
            return redirect(url_for("reviews.detail", request_id=review.id), code=303)
    return render_form("reviews/detail.html", form, review=review, can_decide=can_decide,
                       deadline=services.deadline_of(session, review.voucher))


@bp.get("/reviews/<int:request_id>/letter.pdf")
@roles(Role.CLIENT, Role.CASE_MANAGER, Role.ADMIN)
def letter(request_id: int):
    session = db.session()
    review = services.request_for_client(session, current_user, request_id) \
        if current_user.role == Role.CLIENT else \
        services.request_for_staff(session, current_user, request_id)
    if review.decided_at is None:
        return redirect(url_for("reviews.detail", request_id=review.id) if
                        current_user.role != Role.CLIENT else
                        url_for("vouchers.my_voucher", voucher_id=review.voucher_id), code=303)
    content = review_letter(review, config=current_app.config)
    return Response(review_letter_pdf(content), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="review-decision-{review.id}.pdf"'})
