"""The public register: search approved providers, and each listed provider's page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for

from voucher import clock, db
from voucher.access import public
from voucher.catalogue.labels import per_unit  # (importing it registers the unit names)
from voucher.catalogue.models import ServiceType
from voucher.errors import NotFound
from voucher.feedback.services import MIN_RATINGS
from voucher.i18n import current_language
from voucher.municipalities.models import Municipality
from voucher.providers.listing import find_listed_provider, find_listed_providers, ratings_for
from voucher.redemptions.continuity import caregiver_continuity
from voucher.register.forms import SearchForm
from voucher.register.prices import plain_prices

bp = Blueprint("register", __name__, url_prefix="/providers")
bp.add_app_template_filter(per_unit, "per_unit")
PAGE_SIZE = 20


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


@bp.get("/")
@public
def search():
    session = db.session()
    service_types = list(session.execute(
        sa.select(ServiceType).where(ServiceType.is_active.is_(True))
        .order_by(ServiceType.name_fi)).scalars())
    municipalities = list(session.execute(
        sa.select(Municipality).order_by(Municipality.name_fi)).scalars())
    form = SearchForm(formdata=request.args, service_types=service_types,
                      municipalities=municipalities, language_code=current_language())
    if not form.validate():
        return render_template("register/search.html", form=form, listings=[], total=0,
                               page=1, pages=1, ratings={}, chosen=None), 422
    chosen = next((s for s in service_types if s.code == form.service.data), None)
    area = next((m for m in municipalities if m.code == form.municipality.data), None)
    page = _page_number()
    listings, total = find_listed_providers(
        session, service_type_id=chosen.id if chosen else None,
        municipality_id=area.id if area else None, language=form.language.data or None,
        text=form.q.data, sort=form.sort.data, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if not listings and total:  # a page past the last one (an old link)
        return redirect(_page_url(pages))
    return render_template(
        "register/search.html", form=form, listings=listings, total=total, page=page,
        pages=pages, chosen=chosen, page_url=_page_url,
        ratings=ratings_for(session, [listing.provider.id for listing in listings]))


def _page_url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = page
    return url_for("register.search", **args)


@bp.get("/<int:provider_id>")
@public
def provider(provider_id: int):
    session = db.session()
    listing = find_listed_provider(session, provider_id)
    if listing is None:
        raise NotFound()
    prices = {p.offer.id: p for p in plain_prices(session, listing.offers, clock.today())}
    return render_template("register/provider.html", listing=listing,
                           provider=listing.provider, prices=prices,
                           min_ratings=MIN_RATINGS, today=clock.today(),
                           rating=ratings_for(session, [provider_id]).get(provider_id),
                           continuity=caregiver_continuity(session, provider_ids=[provider_id]))
