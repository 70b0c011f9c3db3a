# ruff: noqa: E402  (a warning filter comes before the pysaml2 imports)
"""A local SAML 2.0 test identity provider (pysaml2) standing in for Suomi.fi e-Identification,
for the demo (scripts/run) and the tests. Never for production: anyone who reaches it chooses
whom to be.

It listens on 127.0.0.1 only. Its signing key and certificate are made on first start in
--state-dir (a temporary folder by default), never committed. It writes its metadata to
--metadata-file for the service provider (VOUCHER_SAML_IDP_METADATA) and reads the SP's
metadata from --sp-metadata (a file, or the app's URL /auth/saml/metadata, read at each
request, so it may start before the app). When started it prints
``test identity provider listening on http://127.0.0.1:PORT`` (and writes the port to
--port-file when given).

Pages: ``/sso`` (HTTP-Redirect binding: checks the AuthnRequest's signature, then "choose who
you are": the demo clients and one person who is no client), ``/sso/answer`` (a signed and
encrypted assertion with Suomi.fi's attributes, on a page with a button back to the service,
as Suomi.fi's own "continue to the service" page), ``/slo`` (a signed LogoutRequest answered
with a signed LogoutResponse) and ``/metadata``.

    .venv/bin/python scripts/test_idp.py --port 8430 \
        --sp-metadata http://127.0.0.1:5000/auth/saml/metadata \
        --metadata-file instance/test-idp/metadata.xml --state-dir instance/test-idp
    .venv/bin/python scripts/test_idp.py keys DIR    # a key pair DIR/key.pem, DIR/cert.pem

The class ``TestIdentityProvider`` is what the tests use in-process as well (answers that are
unsigned, unencrypted, expired, tampered with or for another audience).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import html
import secrets
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# pysaml2 still names a cipher mode that cryptography has moved: harmless, noisy at import.
warnings.filterwarnings("ignore", message="CFB has been moved")
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.samlp import STATUS_AUTHN_FAILED, logout_response_from_string
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ROOT = Path(__file__).resolve().parent.parent
XMLSEC = "/usr/bin/xmlsec1"
LEVEL = "http://ftn.ficora.fi/2017/loa3"


@dataclass(frozen=True)
class Person:
    identity_code: str
    given_name: str
    surname: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"


#: Fictitious people (individual numbers 900-999 are never given to real people) with no
#: client record: Ulla shows what the service says to someone who is not its client; Raili
#: is a relative whom a case manager may record as a representative of Matti Niemi.
NOT_CLIENTS = [Person("010150-903F", "Ulla", "Ulkopuolinen"),
               Person("120375-906R", "Raili", "Niemi")]


def demo_people() -> list[Person]:
    """The demo's clients (voucher/demo), then the people who are no clients."""
    sys.path.insert(0, str(ROOT))
    from voucher.demo.people import DEMO_CLIENTS
    from voucher.demo.vouchers import CLIENTS

    return [Person(spec["identity_code"], spec["first_name"], spec["last_name"])
            for spec in [*DEMO_CLIENTS, *CLIENTS]] + NOT_CLIENTS


def make_key_pair(directory: Path, common_name: str = "Voucher test") -> tuple[Path, Path]:
    """A self-signed RSA key and certificate (PEM) in DIRECTORY, made once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=3650))
                   .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class _TamperingServer(Server):
    """A pysaml2 IdP that lets a test change the signed assertion before it is encrypted."""

    tamper = None

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        if self.tamper is not None:
            response = self.tamper(str(response))
        return super()._encrypt_assertion(encrypt_cert, sp_entity_id, response, node_xpath)


class TestIdentityProvider:
    """The IdP's SAML work, without HTTP: ``sp_metadata`` gives the SP metadata (XML text) each
    time it is needed."""

    def __init__(self, base_url: str, key_file: Path, cert_file: Path, sp_metadata,
                 xmlsec: str = XMLSEC):
        self.base_url = base_url.rstrip("/")
        self.key_file, self.cert_file = key_file, cert_file
        self.sp_metadata = sp_metadata
        self.xmlsec = xmlsec

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/idp"

    def _config(self, *, lifetime_minutes: int = 5, extra_sp_metadata: tuple[str, ...] = (),
                sp_metadata: bool = True) -> IdPConfig:
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": self.xmlsec,
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "metadata": {"inline": [self.sp_metadata(), *extra_sp_metadata]}
            if sp_metadata else {},
            "allow_unknown_attributes": True,
            "service": {"idp": {
                "name": "Voucher test identity provider",
                "endpoints": {
                    "single_sign_on_service": [(f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{self.base_url}/slo", BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "want_authn_requests_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "policy": {"default": {"lifetime": {"minutes": lifetime_minutes},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        return config

    def metadata(self) -> str:
        return create_metadata_string(None, config=self._config(sp_metadata=False)
                                      ).decode("utf-8")

    def read_login_request(self, query: dict[str, str]):
        """The AuthnRequest of an HTTP-Redirect query; raises when its signature is wrong."""
        server = Server(config=self._config())
        request = server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"), signature=query.get("Signature"))
        if request is None or request.message is None:
            raise ValueError("the AuthnRequest could not be read")
        return request.message

    def answer(self, query: dict[str, str], person: Person | None, *, sign: bool = True,
               encrypt: bool = True, lifetime_minutes: int = 5, audience: str | None = None,
               in_response_to: str | None = "from request", tamper=None,
               level: str = LEVEL) -> dict[str, str]:
        """The form fields (SAMLResponse, RelayState) and URL of the answer to the login
        request in QUERY: PERSON identified (None: cancelled). The keywords make the bad
        answers of the tests."""
        message = self.read_login_request(query)
        sp_entity_id = message.issuer.text
        extra = ()
        if audience is not None:
            extra = (self.sp_metadata().replace(f'entityID="{sp_entity_id}"',
                                                f'entityID="{audience}"'),)
        server = _TamperingServer(config=self._config(lifetime_minutes=lifetime_minutes,
                                                      extra_sp_metadata=extra))
        server.tamper = tamper
        destination = message.assertion_consumer_service_url or server.metadata \
            .assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)[0]["location"]
        reply_to = message.id if in_response_to == "from request" else in_response_to
        if person is None:
            response = server.create_error_response(
                reply_to, destination, (STATUS_AUTHN_FAILED, "cancelled"), sign=False)
        else:
            identity = {"urn:oid:1.2.246.21": [person.identity_code],
                        "urn:oid:2.5.4.42": [person.given_name],
                        "urn:oid:2.5.4.4": [person.surname],
                        "urn:oid:2.16.840.1.113730.3.1.241": [person.name]}
            target = audience or sp_entity_id
            name_id = secrets.token_hex(16)
            response = server.create_authn_response(
                identity, reply_to, destination, target,
                name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=name_id,
                               sp_name_qualifier=target, name_qualifier=self.entity_id),
                authn={"class_ref": level, "authn_auth": self.entity_id},
                sign_response=False, sign_assertion=sign, encrypt_assertion=encrypt,
                encrypt_assertion_self_contained=True, sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256)
        info = server.apply_binding(BINDING_HTTP_POST, str(response), destination,
                                    relay_state=query.get("RelayState", ""), response=True)
        return {"url": destination,
                "SAMLResponse": base64.b64encode(str(response).encode("utf-8")).decode("ascii"),
                "RelayState": query.get("RelayState", ""), "_html": info["data"],
                "name_id": name_id if person is not None else None,
                "sp_entity_id": sp_entity_id}

    def request_logout(self, name_id: str, sp_entity_id: str) -> str:
        """The URL (at the SP) of a signed IdP-initiated LogoutRequest for NAME_ID."""
        server = Server(config=self._config())
        destination = server.metadata.single_logout_service(
            sp_entity_id, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
        _request_id, request = server.create_logout_request(
            destination, sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=name_id), sign=False)
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination,
                                    relay_state="", sign=True, sigalg=SIG_RSA_SHA256)
        return dict(info["headers"])["Location"]

    def read_logout_response(self, query: dict[str, str]):
        """The SP's LogoutResponse (HTTP-Redirect); raises when its signature is wrong."""
        server = Server(config=self._config())
        message = {key: query[key] for key in ("SAMLResponse", "RelayState", "SigAlg",
                                               "Signature") if key in query}
        response = logout_response_from_string(decode_base64_and_inflate(query["SAMLResponse"]))
        sp_entity_id = response.issuer.text
        if not any(verify_redirect_signature(message, server.sec.sec_backend, cert)
                   for _name, cert in server.metadata.certs(sp_entity_id, "spsso", "signing")):
            raise ValueError("the LogoutResponse is not signed by the SP")
        return response

    def logout(self, query: dict[str, str]) -> str:
        """The URL (at the SP) of a signed LogoutResponse to the LogoutRequest in QUERY."""
        server = Server(config=self._config())
        request = server.parse_logout_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"), signature=query.get("Signature"))
        if request is None or request.message is None:
            raise ValueError("the LogoutRequest could not be read")
        sp_entity_id = request.message.issuer.text
        destination = server.metadata.single_logout_service(
            sp_entity_id, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
        response = server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT],
                                                 sign=False)
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(response), destination,
                                    relay_state=query.get("RelayState", ""), response=True,
                                    sign=True, sigalg=SIG_RSA_SHA256)
        return dict(info["headers"])["Location"]


# -- HTTP --------------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.5;
color:#1a1a1a;background:#fff}main{max-width:40rem;margin:0 auto}
.person{display:block;width:100%;margin:.5rem 0;padding:.75rem 1rem;font-size:1.1rem;
text-align:left;border:2px solid #0000bf;border-radius:4px;background:#fff;color:#0000bf;
cursor:pointer}.person:focus,.person:hover{background:#0000bf;color:#fff;outline:3px solid
#ffc61e}.cancel{border-color:#555;color:#1a1a1a}.note{background:#fff4b4;padding:.5rem 1rem}"""


def page(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="fi"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>"
            ).encode()


def _make_handler(idp: TestIdentityProvider, people: list[Person]):
    pending: dict[str, dict[str, str]] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: no identity codes in any log
            pass

        def _send(self, status: int, body: bytes, content_type="text/html; charset=utf-8",
                  location: str | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(body)

        def _refuse(self, text: str):
            self._send(400, page("Virhe", f"<h1>Virhe <span lang=\"en\">(error)</span></h1>"
                                          f"<p>{html.escape(text)}</p>"))

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/metadata":
                self._send(200, idp.metadata().encode(), "application/samlmetadata+xml")
            elif url.path == "/sso":
                self._choose(query)
            elif url.path == "/slo":
                try:
                    location = idp.logout(query)
                except Exception as exc:  # a test tool: say what was wrong
                    self._refuse(f"LogoutRequest refused: {type(exc).__name__}")
                    return
                self._send(303, b"", location=location)
            else:
                self._send(404, page("Ei löydy", "<h1>Sivua ei löydy</h1>"))

        def _choose(self, query):
            try:
                idp.read_login_request(query)
            except Exception as exc:
                self._refuse(f"AuthnRequest refused: {type(exc).__name__}")
                return
            token = secrets.token_urlsafe(16)
            with lock:
                pending[token] = query
            buttons = "".join(
                f'<button class="person" type="submit" name="person" value="{index}">'
                f"{html.escape(person.name)}</button>" for index, person in enumerate(people))
            self._send(200, page("Valitse, kuka olet – testitunnistus", f"""
<h1>Valitse, kuka olet <span lang="en">(choose who you are)</span></h1>
<p class="note">Tämä on paikallinen testitunnistus, ei Suomi.fi-tunnistus. <span lang="en">A
local test identity provider, not Suomi.fi: choose a demo person.</span></p>
<form method="post" action="/sso/answer">
<input type="hidden" name="token" value="{token}">
{buttons}
<button class="person cancel" type="submit" name="person" value="cancel">Keskeytä
<span lang="en">(cancel)</span></button>
</form>"""))

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/sso/answer":
                self._send(404, page("Ei löydy", "<h1>Sivua ei löydy</h1>"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            with lock:
                query = pending.pop(form.get("token", ""), None)
            if query is None:
                self._refuse("Tunnistus on jo käytetty tai vanhentunut.")
                return
            choice = form.get("person", "cancel")
            person = None if choice == "cancel" else people[int(choice)]
            try:
                answer = idp.answer(query, person)
            except Exception as exc:
                self._refuse(f"Could not answer: {type(exc).__name__}")
                return
            who = html.escape(person.name) if person else "Tunnistus keskeytetty"
            self._send(200, page("Jatka palveluun – testitunnistus", f"""
<h1>Jatka palveluun <span lang="en">(continue to the service)</span></h1>
<p>{who}</p>
<form method="post" action="{html.escape(answer['url'])}">
<input type="hidden" name="SAMLResponse" value="{answer['SAMLResponse']}">
<input type="hidden" name="RelayState" value="{html.escape(answer['RelayState'])}">
<button class="person" type="submit">Jatka palveluun</button>
</form>"""))

    return Handler


def _sp_metadata_reader(source: str):
    def read() -> str:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=10) as answer:  # noqa: S310 (loopback)
                return answer.read().decode("utf-8")
        return Path(source).read_text(encoding="utf-8")

    return read


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["keys"]:
        key, cert = make_key_pair(Path(argv[1]))
        print(f"{key}\n{cert}")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--port-file")
    parser.add_argument("--sp-metadata", required=True)
    parser.add_argument("--metadata-file", required=True)
    parser.add_argument("--state-dir")
    arguments = parser.parse_args(argv)
    state = Path(arguments.state_dir or tempfile.mkdtemp(prefix="voucher-test-idp-"))
    key, cert = make_key_pair(state, "Voucher test identity provider")
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    idp = TestIdentityProvider(base, key, cert, _sp_metadata_reader(arguments.sp_metadata))
    server.RequestHandlerClass = _make_handler(idp, demo_people())
    metadata_file = Path(arguments.metadata_file)
    metadata_file.parent.mkdir(parents=True, exist_ok=True)
    metadata_file.write_text(idp.metadata(), encoding="utf-8")
    if arguments.port_file:
        Path(arguments.port_file).write_text(str(server.server_port))
    print(f"test identity provider listening on {base}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
