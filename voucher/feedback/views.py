"""The client's received services and the feedback form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.errors import DomainError
from voucher.feedback import services
from voucher.forms import BaseForm
from voucher.web import current_actor, render_form

bp = Blueprint("feedback", __name__, url_prefix="/my/services")


class FeedbackForm(BaseForm):
    score = RadioField(
        _l("How likely would you recommend this provider to a friend?"),
        choices=[SelectChoice(str(n)) for n in range(11)],
        validators=[InputRequired(_l("Choose a number from 0 to 10."))],
        description=_l("0 = not at all likely, 10 = extremely likely."))
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)],
                            description=_l("What went well, what could be better? Do not "
                                           "write anyone's personal details here."))


@bp.get("/")
@roles(Role.CLIENT)
def index():
    rows = services.client_services(db.session(), client_id=current_user.client_id)
    return render_template("feedback/index.html", rows=rows)


@bp.route("/<int:redemption_id>/feedback", methods=["GET", "POST"])
@roles(Role.CLIENT)
def rate(redemption_id: int):
    session = db.session()
    redemption, provider = services.find_client_service(
        session, client_id=current_user.client_id, redemption_id=redemption_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            services.give_feedback(session, client_id=current_user.client_id,
                                   redemption_id=redemption.id, score=int(form.score.data),
                                   comment=form.comment.data, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for("feedback.index"), code=303)
    return render_form("feedback/rate.html", form, redemption=redemption, provider=provider)
