"""Every app of these tests has strong identification on, trusting the in-process test IdP."""

from __future__ import annotations

import pytest

from tests.saml_idp import in_process_idp, saml_keys  # noqa: F401


@pytest.fixture
def _idp_and_settings(saml_keys, tmp_path):  # noqa: F811
    return in_process_idp(saml_keys, tmp_path)


@pytest.fixture
def app_config(app_config, _idp_and_settings):
    app_config.update(_idp_and_settings[1])
    return app_config


@pytest.fixture
def saml_idp(app, _idp_and_settings):
    """The in-process test IdP; it reads the app's SP metadata."""
    from voucher.identification.saml import metadata_xml

    idp = _idp_and_settings[0]
    idp.holder["sp"] = lambda: metadata_xml(app)
    return idp
