"""Key rotation re-encrypts every identity code and can be resumed."""

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests import factories
from voucher.clients.identity import decrypt_identity_code, identity_code_index
from voucher.clients.models import Client
from voucher.crypto import DataCipher
from voucher.privacy.rotation import rotate_keys


def test_rotation_moves_everything_to_the_new_key_and_is_resumable(app, db):
    codes = [factories.identity_code() for _ in range(7)]
    for code in codes:
        factories.client(db, code=code)
    db.commit()
    old_key = app.config["IDENTITY_KEYS"][0]
    new_key = Fernet.generate_key().decode()
    rotating = DataCipher([new_key, old_key], app.config["IDENTITY_INDEX_KEY"])

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(_line):
        raise Interrupted

    with pytest.raises(Interrupted):
        rotate_keys(db, rotating, batch_size=3, progress=stop_after_first_batch)
    resumed = rotate_keys(db, rotating, batch_size=3)
    assert resumed.rotated["clients.identity_code_encrypted"] == 4  # the first 3 were done
    assert resumed.already_current["clients.identity_code_encrypted"] == 3

    new_only = DataCipher([new_key], app.config["IDENTITY_INDEX_KEY"])
    stored = db.execute(sa.select(Client.identity_code_encrypted).order_by(Client.id)).scalars()
    assert sorted(new_only.decrypt(token) for token in stored) == sorted(codes)


def test_rotation_keeps_lookups_working(app, db):
    code = factories.identity_code()
    client = factories.client(db, code=code)
    db.commit()
    app.config["IDENTITY_KEYS"] = [Fernet.generate_key().decode(), *app.config["IDENTITY_KEYS"]]
    app.extensions.pop("voucher.cipher", None)
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1" in result.output
    db.refresh(client)
    assert decrypt_identity_code(client.identity_code_encrypted) == code
    assert identity_code_index(code) == client.identity_code_index
