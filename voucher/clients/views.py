"""Case managers' client pages: search, register, details, identity code, login invitation."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.accounts.services import link_limits_from
from voucher.clients import services
from voucher.clients.forms import ClientForm, ClientSearchForm, RegisterClientForm
from voucher.clients.identity import is_identity_code
from voucher.errors import DomainError
from voucher.i18n import current_language
from voucher.pages import page_number
from voucher.vouchers.queries import vouchers_of_client
from voucher.web import current_actor, render_form

bp = Blueprint("clients", __name__, url_prefix="/clients")


def _municipality_choices():
    return [SelectChoice(m.id, m.name(current_language())) for m in current_user.municipalities]


def _details(form: ClientForm) -> services.ClientDetails:
    return services.ClientDetails(
        first_name=form.first_name.data, last_name=form.last_name.data,
        municipality_id=form.municipality.data, language=form.language.data,
        email=form.email.data, phone=form.phone.data,
        street_address=form.street_address.data, postal_code=form.postal_code.data,
        city=form.city.data, household_size=form.household_size.data,
        gross_monthly_income_cents=form.income.data)


@bp.get("/")
@roles(Role.CASE_MANAGER)
def index():
    form = ClientSearchForm(request.args)
    text = form.q.data if form.validate() else ""
    page = services.find_clients(db.session(), current_user, text=text or "",
                                 page=page_number())
    return render_template("clients/index.html", form=form, page=page)


@bp.post("/")
@roles(Role.CASE_MANAGER)
def submit_search():
    """The search is posted so that an identity code never appears in a URL (nor in a proxy's
    access log or the browser history): a whole code shows its result at once, a name
    becomes the address of the results."""
    form = ClientSearchForm(request.form)
    text = (form.q.data or "").strip() if form.validate() else ""
    if not is_identity_code(text):
        return redirect(url_for("clients.index", q=text or None), code=303)
    page = services.find_clients(db.session(), current_user, text=text)
    if page.total == 1:
        return redirect(url_for("clients.detail", client_id=page.items[0].id), code=303)
    return render_template("clients/index.html", form=form, page=page)


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def register():
    form = RegisterClientForm()
    form.municipality.choices = _municipality_choices()
    if form.validate_on_submit():
        session = db.session()
        try:
            client = services.register_client(
                session, identity_code=form.identity_code.data, details=_details(form),
                user=current_user, actor=current_actor())
            if form.send_invitation.data:
                services.invite_client(session, client, actor=current_actor(),
                                       days=current_app.config["INVITATION_DAYS"],
                                       link_limits=link_limits_from(current_app.config))
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The client has been registered.") + (
                " " + _("A login invitation was sent to %(email)s.", email=client.email)
                if form.send_invitation.data else ""), "success")
            return redirect(url_for("clients.detail", client_id=client.id), code=303)
    return render_form("clients/register.html", form)


def _detail_page(client, identity_code: str | None = None, status: int = 200):
    session = db.session()
    return render_template(
        "clients/detail.html", client=client, identity_code=identity_code,
        vouchers=vouchers_of_client(session, client.id),
        account=services.client_account(session, client.id)), status


@bp.get("/<int:client_id>")
@roles(Role.CASE_MANAGER)
def detail(client_id: int):
    session = db.session()
    client = services.client_for_staff(session, current_user, client_id)
    services.record_client_viewed(session, client, current_actor())
    return _detail_page(client)


@bp.post("/<int:client_id>/identity-code")
@roles(Role.CASE_MANAGER)
def reveal_identity_code(client_id: int):
    session = db.session()
    client = services.client_for_staff(session, current_user, client_id)
    code = services.reveal_identity_code(session, client, actor=current_actor())
    return _detail_page(client, identity_code=code)


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def edit(client_id: int):
    session = db.session()
    client = services.client_for_staff(session, current_user, client_id)
    form = ClientForm(obj=client if request.method == "GET" else None)
    if request.method == "GET":
        form.municipality.data = client.municipality_id
        form.income.data = client.gross_monthly_income_cents
    form.municipality.choices = _municipality_choices()
    if form.validate_on_submit():
        try:
            services.update_client(session, client, details=_details(form), user=current_user,
                                   actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The client's details have been saved."), "success")
            return redirect(url_for("clients.detail", client_id=client.id), code=303)
    return render_form("clients/edit.html", form, client=client)


@bp.post("/<int:client_id>/invitation")
@roles(Role.CASE_MANAGER)
def invite(client_id: int):
    session = db.session()
    client = services.client_for_staff(session, current_user, client_id)
    try:
        services.invite_client(session, client, actor=current_actor(),
                               days=current_app.config["INVITATION_DAYS"],
                               link_limits=link_limits_from(current_app.config))
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("clients.detail", client_id=client.id), code=303)
    flash(_("A login invitation was sent to %(email)s.", email=client.email), "success")
    return redirect(url_for("clients.detail", client_id=client.id), code=303)
