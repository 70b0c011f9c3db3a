"""Strong identification's pages: the SP metadata, starting a login at the identity provider,
the assertion consumer service (ACS) and single logout.

Every refused answer is a translated page with a 4xx status and no session; what must outlive
the refusal (the request can no longer be answered, the message ids stay seen, the audit
event) is written with ``db.keep_despite_refusal``.
"""

from __future__ import annotations

import base64
import logging

import sqlalchemy as sa
from defusedxml import ElementTree as SafeElementTree
from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from voucher import clock, db
from voucher.access import logged_in, public
from voucher.accounts import services as accounts
from voucher.accounts import sessions
from voucher.accounts.sessions import COOKIE_KEY
from voucher.audit.services import Actor
from voucher.clients.models import Client
from voucher.errors import DomainError
from voucher.extensions import csrf
from voucher.identification import saml, services
from voucher.identification.blueprint import bp
from voucher.identification.models import SamlRequestKind
from voucher.mandates.acting import ACTING
from voucher.mandates.services import mandate_still_in_force, mandates_in_force_for
from voucher.municipalities.models import Municipality
from voucher.web import client_ip, current_actor, safe_next

log = logging.getLogger(__name__)
#: The key in the signed session cookie of a session opened by strong identification: the
#: IdP's NameID and SessionIndex, for single logout.
SAML_SESSION = "saml"


def _refused(exc: DomainError):
    return render_template("identification/refused.html", message=str(exc)), exc.status


def _require_enabled() -> None:
    if not saml.is_enabled():
        raise saml.IdentificationUnavailable()


def _out_of_service():
    return _refused(saml.IdentificationOutOfService())


@bp.get("/metadata")
@public
def metadata():
    """The SP metadata (EntityDescriptor) that the Suomi.fi onboarding is given."""
    try:
        _require_enabled()
        xml = saml.metadata_xml(current_app)
    except DomainError as exc:
        return _refused(exc)
    except saml.MetadataUnavailable:
        return _out_of_service()
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.get("/login")
@public
def login():
    """Send the browser to the identity provider with a signed AuthnRequest, remembered in the
    database (any server may receive the answer)."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        _require_enabled()
        request_id, location = saml.login_redirect(current_app)
    except DomainError as exc:
        return _refused(exc)
    except saml.MetadataUnavailable:
        return _out_of_service()
    next_path = safe_next(request.args.get("next"), "") or None
    services.remember_request(db.session(), request_id=request_id, kind=SamlRequestKind.LOGIN,
                              minutes=current_app.config["SAML_REQUEST_MINUTES"],
                              next_path=next_path)
    return redirect(location, code=303)


def _in_response_to(encoded: str) -> str | None:
    """The InResponseTo of a Response before any check (to find its request); None when the
    message cannot be read at all."""
    try:
        root = SafeElementTree.fromstring(base64.b64decode(encoded or "", validate=False))
    except Exception:  # anything unreadable is refused later, with a page
        return None
    value = root.get("InResponseTo")
    return value[:100] if value else None


def _anonymous_actor() -> Actor:
    return Actor(None, "identification", client_ip(), g.get("request_id"))


@bp.post("/acs")
@csrf.exempt
@public
def acs():
    """The assertion consumer service: the IdP's answer (HTTP-POST binding) arrives here from
    the IdP's site, so without this site's cookies (SameSite=Lax): what it answers is found in
    the database."""
    encoded = request.form.get("SAMLResponse", "")
    request_id = _in_response_to(encoded)
    actor = _anonymous_actor()
    unit = db.session()
    identification = outstanding = None
    try:
        _require_enabled()
        outstanding = services.outstanding_request(unit, request_id, SamlRequestKind.LOGIN)
        identification = saml.read_login_response(
            current_app, encoded,
            outstanding={outstanding.id: outstanding.next_path or ""} if outstanding else {})
        claimed = services.claim_answer(unit, request_id=identification.in_response_to,
                                        kind=SamlRequestKind.LOGIN,
                                        message_ids=services.message_ids(identification))
        mandates = mandates_in_force_for(unit, identification.identity_code)
        if mandates:  # a representative: whom do they act for?
            return _ask_whom(identification, mandates, claimed.next_path)
        user = services.identify_client(unit, identification, actor=actor)
    except services.NoClientRecord as exc:
        _keep_refusal(request_id, identification, actor, exc.code, unknown=True)
        return _not_a_client(identification), exc.status
    except DomainError as exc:
        if outstanding is not None or identification is not None:
            # An answer to one of our requests: it stays refused, and the trail says so.
            # Anything else (garbage, a stranger's message) is only logged: no one may fill
            # the audit trail by posting here.
            _keep_refusal(request_id, identification, actor, exc.code)
        return _refused(exc)
    _start_session(user, identification)
    flash(_("You have logged in with strong identification."), "success")
    return redirect(safe_next(claimed.next_path, url_for("home.index")), code=303)


def _keep_refusal(request_id, identification, actor, reason: str, *, unknown: bool = False):
    ids = services.message_ids(identification) if identification else []

    def work(unit):
        services.record_refused_answer(unit, request_id=request_id, kind=SamlRequestKind.LOGIN,
                                       message_ids=ids, actor=actor, reason=reason)
        if unknown:
            services.record_unknown_person(unit, identification, actor=actor)

    db.keep_despite_refusal(work)


def _not_a_client(identification):
    municipalities = db.session().scalars(
        sa.select(Municipality).order_by(Municipality.name_fi)).all()
    name = identification.display_name or " ".join(
        part for part in (identification.given_name, identification.surname) if part)
    return render_template(
        "identification/not_a_client.html", name=name,
        masked_code=services.masked_code(identification.identity_code),
        municipalities=municipalities, contact=current_app.config.get("CLIENT_HELP_CONTACT"))


def _start_session(user, identification, *, idp_session: dict | None = None) -> None:
    """A client session like a password login's (voucher/accounts/sessions.py), remembering
    the IdP session for single logout."""
    # A session this browser had before (another account) ends on the server too.
    sessions.end(db.session(), session.get(COOKIE_KEY), "replaced")
    token = accounts.record_login(db.session(), user, Actor(
        user.id, f"user:{user.id}", client_ip(), g.get("request_id")))
    session.clear()
    session["language"] = user.language
    session.permanent = True
    session[COOKIE_KEY] = token
    session[SAML_SESSION] = idp_session or {"name_id": identification.name_id,
                                            "session_index": identification.session_index}
    login_user(user)


@bp.post("/logout")
@logged_in
def logout():
    """Log out here, then at the identity provider (SP-initiated single logout)."""
    idp_session = session.get(SAML_SESSION)
    accounts.record_logout(db.session(), current_user, current_actor(),
                           token=session.get(COOKIE_KEY))
    language = session.get("language")
    logout_user()
    session.clear()
    if language:
        session["language"] = language
    if not idp_session or not saml.is_enabled():
        flash(_("You have logged out."), "success")
        return redirect(url_for("home.index"), code=303)
    try:
        request_id, location = saml.logout_redirect(
            current_app, name_id=idp_session["name_id"],
            session_index=idp_session.get("session_index"))
    except Exception:  # the metadata unreadable, or pysaml2 refusing: the local logout stands
        log.exception("could not send the SAML LogoutRequest")
        flash(_("You have logged out of this service. Close the browser to end the "
                "identification service's session too."), "success")
        return redirect(url_for("home.index"), code=303)
    services.remember_request(db.session(), request_id=request_id,
                              kind=SamlRequestKind.LOGOUT,
                              minutes=current_app.config["SAML_REQUEST_MINUTES"])
    return redirect(location, code=303)


@bp.get("/slo")
@public
def single_logout():
    """Single logout (HTTP-Redirect binding): the IdP's LogoutResponse to our LogoutRequest
    (the local session ended already when the logout began; this confirms the IdP's end), or
    the IdP's own LogoutRequest when the person logged out of another service."""
    query = {key: request.args.get(key) for key in
             ("SAMLResponse", "RelayState", "SigAlg", "Signature") if key in request.args}
    if "SAMLRequest" in request.args:
        return _logout_requested_by_idp()
    try:
        _require_enabled()
        answer = saml.read_logout_response(current_app, query)
        services.claim_answer(db.session(), request_id=answer.in_response_to,
                              kind=SamlRequestKind.LOGOUT,
                              message_ids=[f"response:{answer.response_id}"[:120]])
    except DomainError as exc:
        return _refused(exc)
    if answer.success:
        flash(_("You have logged out, also from the identification service."), "success")
    else:
        flash(_("You have logged out of this service. The identification service did not "
                "confirm its logout: close the browser to be sure."), "success")
    return redirect(url_for("home.index"), code=303)


def _logout_requested_by_idp():
    """End this browser's session if it is the IdP session named (a top-level GET brings our
    cookie along), and answer the IdP with a signed LogoutResponse. The IdP's session may also
    have been another browser's: then nothing here ends, and the answer is still success (no
    session of that person is open in this browser)."""
    query = {key: request.args[key] for key in ("SAMLRequest", "RelayState", "SigAlg",
                                                "Signature") if key in request.args}
    try:
        _require_enabled()
        logout_request = saml.read_logout_request(current_app, query)
        location = saml.logout_response_redirect(current_app, logout_request,
                                                 relay_state=query.get("RelayState", ""))
    except DomainError as exc:
        return _refused(exc)
    idp_session = session.get(SAML_SESSION)
    if current_user.is_authenticated and idp_session and \
            idp_session["name_id"].get("text") == logout_request.name_id:
        accounts.record_logout(db.session(), current_user, current_actor(),
                               token=session.get(COOKIE_KEY))
        language = session.get("language")
        logout_user()
        session.clear()
        if language:
            session["language"] = language
    return redirect(location, code=303)


#: The session key of an identified representative who has not yet chosen whom to act for.
PENDING = "saml_pending"
#: How long that choice may wait.
PENDING_SECONDS = 600


def _ask_whom(identification, mandates, next_path):
    """Keep what the choice needs in the signed cookie (never the identity code: the masked
    form, the client ids, the IdP session) and ask."""
    own = services.find_client(db.session(), identification.identity_code)
    name = identification.display_name or " ".join(
        part for part in (identification.given_name, identification.surname) if part)
    session.clear()
    session[PENDING] = {
        "at": clock.now().timestamp(), "mandates": [m.id for m in mandates],
        "own_client": own.id if own is not None else None, "name": name,
        "masked": services.masked_code(identification.identity_code),
        "level": identification.level, "next": next_path,
        "idp": {"name_id": identification.name_id,
                "session_index": identification.session_index}}
    return redirect(url_for("identification.act_for"), code=303)


def _pending():
    pending = session.get(PENDING)
    if not pending or clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return pending


@bp.route("/act-for", methods=["GET", "POST"])
@public
def act_for():
    """An identified representative chooses whom to act for: themselves (when they are a
    client too) or a client whose mandate is in force."""
    pending = _pending()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Log in again: the choice took too long or was already made."), "error")
        return redirect(url_for("accounts.login"), code=303)
    unit = db.session()
    # The ids come from our signed cookie; each is checked again: in force now.
    mandates = [m for m in (mandate_still_in_force(unit, mid) for mid in pending["mandates"])
                if m is not None]
    if request.method == "POST":
        choice = request.form.get("act_for", "")
        actor = _anonymous_actor()
        if choice == "self" and pending["own_client"]:
            client = unit.get(Client, pending["own_client"])
            try:
                user = services.account_of(unit, client, actor=actor)
            except DomainError as exc:
                return _refused(exc)
            services.record_identified(unit, user, client, level=pending["level"], actor=actor)
            _open(user, pending, acting=None)
            flash(_("You have logged in with strong identification."), "success")
            return redirect(safe_next(pending.get("next"), url_for("home.index")), code=303)
        mandate = next((m for m in mandates if str(m.id) == choice), None)
        if mandate is None:
            flash(_("Choose whom you act for."), "error")
            return redirect(url_for("identification.act_for"), code=303)
        try:
            user = services.account_of(unit, mandate.client, actor=actor)
        except DomainError as exc:
            return _refused(exc)
        services.record_acting(unit, mandate, level=pending["level"], actor=actor)
        _open(user, pending, acting={"mandate_id": mandate.id, "name": pending["name"],
                                     "masked": pending["masked"]})
        flash(_("You are now acting for %(client)s.", client=mandate.client.full_name),
              "success")
        return redirect(url_for("home.index"), code=303)
    return render_template("identification/act_for.html", pending=pending, mandates=mandates,
                           own=unit.get(Client, pending["own_client"])
                           if pending["own_client"] else None)


def _open(user, pending, *, acting):
    _start_session(user, None, idp_session=pending["idp"])
    if acting:
        session[ACTING] = acting
