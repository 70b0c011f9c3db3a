"""pysaml2 reads the service provider's private key for every message; the app keeps the key
object per file and reads it again when the file changes."""

from __future__ import annotations

import os
import shutil

from saml2 import sigver

from tests.saml_idp import test_idp
from voucher.identification import saml  # noqa: F401  (installs the cache)


def _numbers(key) -> int:
    return key.private_numbers().public_numbers.n


def test_the_key_is_read_once_per_file_and_again_after_a_rotation(tmp_path):
    first_key, _ = test_idp.make_key_pair(tmp_path / "first", "first")
    second_key, _ = test_idp.make_key_pair(tmp_path / "second", "second")
    in_use = tmp_path / "sp.key"
    shutil.copyfile(first_key, in_use)

    once = sigver.import_rsa_key_from_file(str(in_use))
    assert sigver.import_rsa_key_from_file(str(in_use)) is once

    shutil.copyfile(second_key, in_use)  # the key is rotated in place
    stat = os.stat(in_use)
    os.utime(in_use, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    rotated = sigver.import_rsa_key_from_file(str(in_use))
    assert rotated is not once
    assert _numbers(rotated) == _numbers(sigver.import_rsa_key_from_file(str(second_key)))
    assert _numbers(rotated) != _numbers(once)
