"""The SAML 2.0 service provider (pysaml2 over Debian's xmlsec1) for Suomi.fi e-Identification.

What is required of the identity provider's answer, beyond what pysaml2 checks itself
(signature of the assertion, audience, recipient, times within the clock skew, status):

- the assertion is **encrypted** (an EncryptedAssertion, no plain Assertion anywhere);
- it answers a request this service sent (InResponseTo names an outstanding ``SamlRequest``;
  the caller passes those in), so an unsolicited response is refused;
- the identification level is one of ``LEVELS`` and the personal identity code is valid.

Replays (the same Response or Assertion ID again) are refused by the caller with the
database (``services.py``): pysaml2 keeps nothing between requests here. A fresh
``Saml2Client`` is made per message over one shared configuration, so pysaml2's in-memory
identity cache never grows.

The identity provider's metadata comes from a file, or from an https URL fetched into the
instance folder at start-up and by ``flask identification refresh-metadata``, never while a
request (and its database transaction) runs.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests
from defusedxml import ElementTree as SafeElementTree
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, sigver
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import UnsolicitedResponse
from saml2.s_utils import UnsupportedBinding, decode_base64_and_inflate
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef, NameID
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from voucher.errors import DomainError

log = logging.getLogger(__name__)
# pysaml2 logs whole messages (decrypted assertions with identity codes among them) at info
# and debug, and exception texts at error: none of it may reach the logs.
logging.getLogger("saml2").setLevel(logging.CRITICAL + 1)


_read_rsa_key = sigver.import_rsa_key_from_file
_rsa_keys: dict[tuple, object] = {}


def _rsa_key_of_file(filename):
    """pysaml2 reads and validates the private key from its file for every new client (every
    SAML message): tens of milliseconds of CPU for an RSA key. The key object is immutable,
    so it is read once per file and again when the file changes (a key rotation)."""
    status = os.stat(filename)
    key = (os.path.abspath(filename), status.st_mtime_ns, status.st_size)
    if key not in _rsa_keys:
        if len(_rsa_keys) > 8:  # a bound: old keys of rotated files are dropped
            _rsa_keys.clear()
        _rsa_keys[key] = _read_rsa_key(filename)
    return _rsa_keys[key]


sigver.import_rsa_key_from_file = _rsa_key_of_file

#: Suomi.fi's attribute profile.
IDENTITY_CODE = "urn:oid:1.2.246.21"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
#: Identification levels accepted: substantial and high, national and eIDAS.
LEVELS = (
    "http://ftn.ficora.fi/2017/loa2",
    "http://ftn.ficora.fi/2017/loa3",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
)
MINIMUM_LEVEL = LEVELS[0]
SAML_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
METADATA_TIMEOUT_SECONDS = 20
#: A Suomi.fi answer is a few kilobytes; anything far larger is refused unread.
MAX_MESSAGE_CHARS = 200_000


class IdentificationFailed(DomainError):
    """The identity provider's answer was not accepted (whatever the reason: the page does
    not help an attacker tell which check failed)."""

    code = "identification_failed"
    status = 400
    message = _l("The identification could not be completed: the answer from the "
                 "identification service was not valid or has already been used. Nothing was "
                 "saved and you are not logged in. Start again from the login page.")


class UnsolicitedAnswer(IdentificationFailed):
    code = "identification_unsolicited"
    message = _l("The identification could not be completed: this service did not ask for it, "
                 "or it took too long. Nothing was saved and you are not logged in. Start again "
                 "from the login page.")


class IdentificationCancelled(IdentificationFailed):
    code = "identification_cancelled"
    message = _l("The identification was cancelled or did not succeed. You are not logged in. "
                 "You can try again from the login page.")


class IdentificationUnavailable(DomainError):
    code = "identification_unavailable"
    status = 404
    message = _l("Strong identification is not in use in this service. Log in with your "
                 "e-mail address and password, or ask your case manager.")


class IdentificationOutOfService(DomainError):
    code = "identification_out_of_service"
    status = 503
    message = _l("Strong identification is not available at the moment. Try again later.")


class MetadataUnavailable(RuntimeError):
    """The IdP's metadata cannot be read (not fetched yet, or names no single IdP). Not a
    DomainError: logging out must not be refused because of it."""


@dataclasses.dataclass(frozen=True)
class Identification:
    """What an accepted answer says about the person (the code is not to be logged)."""

    identity_code: str
    given_name: str | None
    surname: str | None
    display_name: str | None
    level: str
    name_id: dict
    session_index: str | None
    in_response_to: str
    response_id: str
    assertion_id: str


@dataclasses.dataclass(frozen=True)
class LogoutAnswer:
    in_response_to: str
    success: bool
    response_id: str


def is_enabled(app: Flask | None = None) -> bool:
    """True when strong identification is configured (all its settings are given)."""
    config = (app or current_app).config
    return bool(config.get("SAML_ENTITY_ID") and config.get("SAML_KEY_FILE")
                and config.get("SAML_CERT_FILE") and config.get("SAML_IDP_METADATA"))


def _metadata_cache(app: Flask) -> Path:
    return Path(app.instance_path) / "saml-idp-metadata.xml"


def idp_metadata_path(app: Flask) -> Path:
    """The file the IdP metadata is read from: the setting itself, or the cached download."""
    source = app.config["SAML_IDP_METADATA"]
    if source.startswith(("http://", "https://")):
        return _metadata_cache(app)
    return Path(source)


def refresh_idp_metadata(app: Flask, *, only_if_missing: bool = False) -> bool:
    """Fetch the IdP metadata of an URL setting into the instance folder (atomically). Never
    called inside a database transaction: at start-up and from the CLI. False on failure (the
    previous copy, if any, stays in use)."""
    source = app.config.get("SAML_IDP_METADATA") or ""
    if not source.startswith(("http://", "https://")):
        return True
    target = _metadata_cache(app)
    if only_if_missing and target.exists():
        return True
    try:
        answer = requests.get(source, timeout=METADATA_TIMEOUT_SECONDS)
        answer.raise_for_status()
        SafeElementTree.fromstring(answer.content)
    except (requests.RequestException, SafeElementTree.ParseError) as exc:
        log.warning("could not fetch the SAML IdP metadata from %s: %s", source,
                    type(exc).__name__)
        return False
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(answer.content)
    temporary.replace(target)
    return True


_lock = threading.Lock()


def _config(app: Flask) -> SPConfig:
    """The SP configuration, built once per app and again when the metadata file changes."""
    path = idp_metadata_path(app)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        log.error("the SAML IdP metadata is not at %s", path)
        raise MetadataUnavailable() from exc
    with _lock:
        cached = app.extensions.get("voucher.saml")
        if cached is not None and cached[0] == stamp:
            return cached[1]
        config = SPConfig()
        config.load(_settings(app, path))
        app.extensions["voucher.saml"] = (stamp, config)
        return config


def _settings(app: Flask, metadata: Path) -> dict:
    config = app.config
    base = config["BASE_URL"]
    settings = {
        "entityid": config["SAML_ENTITY_ID"],
        "xmlsec_binary": config["SAML_XMLSEC_BINARY"],
        "key_file": config["SAML_KEY_FILE"],
        "cert_file": config["SAML_CERT_FILE"],
        "encryption_keypairs": [{"key_file": config["SAML_KEY_FILE"],
                                 "cert_file": config["SAML_CERT_FILE"]}],
        "metadata": {"local": [str(metadata)]},
        "accepted_time_diff": config["SAML_CLOCK_SKEW_SECONDS"],
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "name": config.get("AUTHORITY_NAME") or "Voucher",
            "endpoints": {
                "assertion_consumer_service": [(f"{base}/auth/saml/acs", BINDING_HTTP_POST)],
                "single_logout_service": [(f"{base}/auth/saml/slo", BINDING_HTTP_REDIRECT)],
            },
            "authn_requests_signed": True,
            "logout_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": False,
            "allow_unsolicited": False,
            "name_id_format": NAMEID_FORMAT_TRANSIENT,
            "name_id_format_allow_create": True,
            "required_attributes": [IDENTITY_CODE],
            "optional_attributes": [GIVEN_NAME, SURNAME, DISPLAY_NAME],
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        }},
        "organization": {"name": config.get("AUTHORITY_NAME") or "Voucher",
                         "display_name": config.get("AUTHORITY_NAME") or "Voucher",
                         "url": base},
    }
    if config.get("SAML_CONTACT_EMAIL"):
        settings["contact_person"] = [{"contact_type": "technical",
                                       "email_address": config["SAML_CONTACT_EMAIL"]}]
    return settings


def _client(app: Flask) -> Saml2Client:
    return Saml2Client(config=_config(app))


def _idp_entity_id(client: Saml2Client) -> str:
    providers = list(client.metadata.identity_providers())
    if len(providers) != 1:
        log.error("the SAML IdP metadata names %d identity providers, not one", len(providers))
        raise MetadataUnavailable()
    return providers[0]


def idp_origins(app: Flask) -> list[str]:
    """The origins of the IdP's SSO and SLO endpoints: the logout form's redirect goes there,
    so the CSP's form-action must allow them. Empty when the metadata cannot be read yet."""
    try:
        client = _client(app)
        idp = _idp_entity_id(client)
    except MetadataUnavailable:
        return []
    origins = set()
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        for find in (client.metadata.single_logout_service, client.metadata.single_sign_on_service):
            try:
                services = find(idp, binding, "idpsso") or []
            except UnsupportedBinding:
                continue
            for service in services:
                parts = urlsplit(service["location"])
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def metadata_xml(app: Flask) -> str:
    """This service's SP metadata (EntityDescriptor), as given to the Suomi.fi onboarding."""
    return create_metadata_string(None, config=_config(app), valid=None).decode("utf-8")


def login_redirect(app: Flask) -> tuple[str, str]:
    """A signed AuthnRequest (HTTP-Redirect binding): its ID and the IdP URL to send the
    browser to."""
    client = _client(app)
    context = RequestedAuthnContext(
        authn_context_class_ref=[AuthnContextClassRef(text=MINIMUM_LEVEL)],
        comparison="minimum")
    request_id, info = client.prepare_for_authenticate(
        entityid=_idp_entity_id(client), binding=BINDING_HTTP_REDIRECT, sign=True,
        sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256,
        requested_authn_context=context, nameid_format=NAMEID_FORMAT_TRANSIENT)
    return request_id, dict(info["headers"])["Location"]


def _require_encrypted_assertion(encoded: str) -> None:
    """The Response carries its assertion encrypted, and no plain one (defusedxml: no
    entities, no external references)."""
    try:
        document = SafeElementTree.fromstring(base64.b64decode(encoded, validate=False))
    except Exception as exc:  # malformed base64 or XML, forbidden constructs
        raise IdentificationFailed() from exc
    if document.tag != f"{{{SAML_PROTOCOL}}}Response":
        raise IdentificationFailed()
    status = document.find(f"{{{SAML_PROTOCOL}}}Status/{{{SAML_PROTOCOL}}}StatusCode")
    if status is not None and not status.get("Value", "").endswith(":Success"):
        raise IdentificationCancelled()
    plain = list(document.iter(f"{{{SAML_ASSERTION}}}Assertion"))
    encrypted = document.findall(f"{{{SAML_ASSERTION}}}EncryptedAssertion")
    if plain or len(encrypted) != 1:
        log.warning("SAML response refused: its assertion is not encrypted")
        raise IdentificationFailed()


def read_login_response(app: Flask, encoded: str, *, outstanding: dict[str, str]
                        ) -> Identification:
    """Check the IdP's answer (HTTP-POST binding) against the outstanding requests (ID ->
    next path) and return who was identified. Any failure is IdentificationFailed."""
    if not encoded or len(encoded) > MAX_MESSAGE_CHARS:
        raise IdentificationFailed()
    _require_encrypted_assertion(encoded)
    if not outstanding:
        # Answers no request of ours: refused before any signature work (xmlsec1 runs).
        log.warning("SAML response refused: unsolicited")
        raise UnsolicitedAnswer()
    try:
        client = _client(app)
    except MetadataUnavailable as exc:
        raise IdentificationOutOfService() from exc
    try:
        response = client.parse_authn_request_response(encoded, BINDING_HTTP_POST,
                                                       outstanding=outstanding)
    except UnsolicitedResponse as exc:
        log.warning("SAML response refused: unsolicited")
        raise UnsolicitedAnswer() from exc
    except Exception as exc:  # pysaml2 raises many kinds; each one is a refusal
        log.warning("SAML response refused: %s", type(exc).__name__)
        raise IdentificationFailed() from exc
    if response is None or response.assertion is None:
        raise IdentificationFailed()
    if response.in_response_to not in outstanding:
        raise UnsolicitedAnswer()
    assertion = response.assertion
    attributes = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [value.text for value in attribute.attribute_value if value.text]
            if values:
                attributes[attribute.name] = values[0].strip()
    statements = assertion.authn_statement
    level = None
    if statements and statements[0].authn_context and \
            statements[0].authn_context.authn_context_class_ref is not None:
        level = statements[0].authn_context.authn_context_class_ref.text.strip()
    if level not in LEVELS:
        log.warning("SAML response refused: identification level %r", level)
        raise IdentificationFailed()
    code = attributes.get(IDENTITY_CODE)
    if not code:
        log.warning("SAML response refused: no personal identity code")
        raise IdentificationFailed()
    name_id = assertion.subject.name_id if assertion.subject else None
    if name_id is None:
        raise IdentificationFailed()
    return Identification(
        identity_code=code, given_name=attributes.get(GIVEN_NAME),
        surname=attributes.get(SURNAME), display_name=attributes.get(DISPLAY_NAME),
        level=level,
        name_id={"text": name_id.text, "format": name_id.format,
                 "name_qualifier": name_id.name_qualifier,
                 "sp_name_qualifier": name_id.sp_name_qualifier},
        session_index=statements[0].session_index if statements else None,
        in_response_to=response.in_response_to, response_id=response.response.id,
        assertion_id=assertion.id)


def logout_redirect(app: Flask, *, name_id: dict, session_index: str | None
                    ) -> tuple[str, str]:
    """A signed LogoutRequest (HTTP-Redirect binding) for the IdP session: its ID and URL."""
    client = _client(app)
    idp = _idp_entity_id(client)
    services = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    if not services:
        raise MetadataUnavailable()
    destination = services[0]["location"]
    request_id, request = client.create_logout_request(
        destination, idp, name_id=NameID(**{k: v for k, v in name_id.items() if v}),
        session_indexes=[session_index] if session_index else None, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination,
                                relay_state="", sign=True, sigalg=SIG_RSA_SHA256)
    return request_id, dict(info["headers"])["Location"]


def read_logout_response(app: Flask, query: dict[str, str]) -> LogoutAnswer:
    """Check a LogoutResponse (HTTP-Redirect binding): signed by the IdP (the query string's
    signature), and say which request it answers."""
    encoded = query.get("SAMLResponse")
    if not encoded or not query.get("Signature") or not query.get("SigAlg"):
        raise IdentificationFailed()
    try:
        client = _client(app)
        idp = _idp_entity_id(client)
    except MetadataUnavailable as exc:
        raise IdentificationOutOfService() from exc
    message = {key: query[key] for key in ("SAMLResponse", "RelayState", "SigAlg", "Signature")
               if key in query}
    try:
        signed = any(verify_redirect_signature(message, client.sec.sec_backend, cert)
                     for _name, cert in client.metadata.certs(idp, "idpsso", "signing"))
        if not signed:
            raise IdentificationFailed()
        SafeElementTree.fromstring(decode_base64_and_inflate(encoded))
        response = client.parse_logout_request_response(encoded, BINDING_HTTP_REDIRECT)
    except IdentificationFailed:
        log.warning("SAML logout response refused: bad signature")
        raise
    except Exception as exc:
        log.warning("SAML logout response refused: %s", type(exc).__name__)
        raise IdentificationFailed() from exc
    if response is None or not response.in_response_to:
        raise IdentificationFailed()
    status = response.response.status.status_code.value
    return LogoutAnswer(in_response_to=response.in_response_to,
                        success=status.endswith(":Success"), response_id=response.response.id)


@dataclasses.dataclass(frozen=True)
class LogoutRequestFromIdP:
    name_id: str | None
    session_indexes: list[str]
    message: object  # pysaml2's LogoutRequest, for the answer


def read_logout_request(app: Flask, query: dict[str, str]) -> LogoutRequestFromIdP:
    """An IdP-initiated LogoutRequest (HTTP-Redirect binding; the person logged out of another
    service in the same Suomi.fi session): its query-string signature is checked against the
    IdP's metadata."""
    if not query.get("SAMLRequest") or not query.get("Signature") or not query.get("SigAlg"):
        raise IdentificationFailed()
    try:
        client = _client(app)
    except MetadataUnavailable as exc:
        raise IdentificationOutOfService() from exc
    try:
        request = client.parse_logout_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query["SigAlg"], signature=query["Signature"])
    except Exception as exc:
        log.warning("SAML logout request refused: %s", type(exc).__name__)
        raise IdentificationFailed() from exc
    if request is None or request.message is None:
        raise IdentificationFailed()
    message = request.message
    return LogoutRequestFromIdP(
        name_id=message.name_id.text if message.name_id is not None else None,
        session_indexes=[index.text for index in message.session_index or []],
        message=message)


def logout_response_redirect(app: Flask, request: LogoutRequestFromIdP, *,
                             relay_state: str = "") -> str:
    """The IdP URL with our signed LogoutResponse (success) to its LogoutRequest."""
    try:
        client = _client(app)
        idp = _idp_entity_id(client)
        services = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    except MetadataUnavailable as exc:
        raise IdentificationOutOfService() from exc
    if not services:
        raise IdentificationOutOfService()
    destination = services[0].get("response_location") or services[0]["location"]
    response = client.create_logout_response(request.message, [BINDING_HTTP_REDIRECT],
                                             sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(response), destination,
                                relay_state=relay_state, response=True, sign=True,
                                sigalg=SIG_RSA_SHA256)
    return dict(info["headers"])["Location"]
