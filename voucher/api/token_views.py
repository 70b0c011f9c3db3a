"""API keys in the provider portal: create (shown once), list with last use, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.api.tokens import create_token, find_provider_token, provider_tokens, revoke_token
from voucher.forms import BaseForm
from voucher.web import current_actor, render_form

bp = Blueprint("api_tokens", __name__, url_prefix="/provider/api-keys")


class TokenForm(BaseForm):
    name = StringField(_l("Name of the key"), validators=[
        DataRequired(_l("Give the key a name, e.g. the system that uses it.")),
        Length(max=100)], description=_l("For example the name of your client system."))


def _index_page(form: TokenForm):
    tokens = provider_tokens(db.session(), current_user.provider_id)
    return render_form("api_tokens/index.html", form, tokens=tokens)


@bp.get("/")
@roles(Role.PROVIDER)
def index():
    return _index_page(TokenForm())


@bp.post("/")
@roles(Role.PROVIDER)
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _index_page(form)
    row, token = create_token(db.session(), provider_id=current_user.provider_id,
                              name=form.name.data, actor=current_actor(),
                              user_id=current_user.id)
    # Shown in this response only; never stored, never shown again.
    response = render_template("api_tokens/created.html", row=row, token=token)
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
@roles(Role.PROVIDER)
def revoke(token_id: int):
    row = find_provider_token(db.session(), provider_id=current_user.provider_id,
                              token_id=token_id)
    revoke_token(db.session(), row, actor=current_actor())
    flash(_("The key %(name)s was revoked. Systems using it can no longer use the API.",
            name=row.name), "success")
    return redirect(url_for("api_tokens.index"), code=303)
