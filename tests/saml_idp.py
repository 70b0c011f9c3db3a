"""The local test identity provider (scripts/test_idp.py) for tests: in-process for the service
provider's checks (``saml_idp``, with answers made bad on purpose), and as a loopback server
for the browser journeys (``test_idp_url``). Keys are made once per test session in a
temporary folder; nothing here is a committed key."""

from __future__ import annotations

import importlib.util
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.stripe_fake import ROOT, _start_server, stop_process


def _load_script():
    spec = importlib.util.spec_from_file_location("voucher_test_idp", ROOT / "scripts" /
                                                  "test_idp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


test_idp = _load_script()
SP_ENTITY_ID = "https://voucher.test/auth/saml/metadata"


@pytest.fixture(scope="session")
def saml_keys(tmp_path_factory):
    """Key pairs of the service provider and of the identity provider, for this run."""
    directory = tmp_path_factory.mktemp("saml")
    sp_key, sp_cert = test_idp.make_key_pair(directory / "sp", "Voucher SP (test)")
    idp_key, idp_cert = test_idp.make_key_pair(directory / "idp", "Voucher IdP (test)")
    return {"dir": directory, "sp_key": sp_key, "sp_cert": sp_cert, "idp_key": idp_key,
            "idp_cert": idp_cert}


def saml_settings(keys: dict, metadata_file: Path) -> dict:
    return {"SAML_ENTITY_ID": SP_ENTITY_ID, "SAML_KEY_FILE": str(keys["sp_key"]),
            "SAML_CERT_FILE": str(keys["sp_cert"]), "SAML_IDP_METADATA": str(metadata_file)}


class InProcessIdP:
    """The test IdP without HTTP, answering the login requests of the Flask test client."""

    def __init__(self, idp):
        self.idp = idp

    def query_of(self, location: str) -> dict[str, str]:
        assert location.startswith(self.idp.base_url + "/sso"), location
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))

    def query_of_logout(self, location: str) -> dict[str, str]:
        assert location.startswith(self.idp.base_url + "/slo"), location
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))

    def answer(self, location: str, person, **tweaks) -> dict[str, str]:
        return self.idp.answer(self.query_of(location), person, **tweaks)


def in_process_idp(keys: dict, directory: Path) -> tuple[InProcessIdP, dict]:
    """The in-process test IdP and the app settings that trust it (its metadata in a file)."""
    holder = {}
    idp = test_idp.TestIdentityProvider("http://idp.test", keys["idp_key"], keys["idp_cert"],
                                        lambda: holder["sp"]())
    metadata_file = directory / "idp-metadata.xml"
    metadata_file.write_text(idp.metadata(), encoding="utf-8")
    in_process = InProcessIdP(idp)
    in_process.holder = holder
    return in_process, saml_settings(keys, metadata_file)


@pytest.fixture(scope="session")
def test_idp_server(saml_keys, tmp_path_factory):
    """Start the test IdP as a loopback server (scripts/test_idp.py); its SP metadata is read
    from the file ``sp-metadata.xml`` in its folder, written by ``live_saml``."""
    directory = tmp_path_factory.mktemp("test-idp")
    sp_metadata = directory / "sp-metadata.xml"
    metadata_file = directory / "idp-metadata.xml"
    url, process = _start_server(
        "test_idp.py", ["--sp-metadata", str(sp_metadata), "--metadata-file", str(metadata_file),
                        "--state-dir", str(saml_keys["dir"] / "idp")], directory, "test-idp")
    try:
        yield {"url": url, "sp_metadata": sp_metadata, "metadata_file": metadata_file}
    finally:
        stop_process(process)
