"""What keeps a worker's memory flat: every cache has a bound, and the memory of password
hashes is reused, not gathered. No timing here: ``scripts/bench load`` measures the resident
memory of each worker over time (issue 18: what looked like 365 MiB of growth in 90 s was
Argon2's 64 MiB per login in flight on up to eight threads, sampled at random moments)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import voucher
from voucher.accounts import passwords

#: Caches without a size bound are allowed only over a fixed, small set of keys.
FINITE_KEYS = {
    # "postgresql" or "sqlite": one statement per dialect.
    "voucher.api.idempotency._remember",
    "voucher.rate_limits._upsert",
}
#: glibc's largest dynamic mmap threshold on 64-bit (4 * 1024 * 1024 * sizeof(long)): blocks
#: at least this large are always mapped, and unmapped when freed.
LARGEST_MMAP_THRESHOLD = 32 * 1024 * 1024


def _caches():
    for module_info in pkgutil.walk_packages(voucher.__path__, "voucher."):
        if module_info.name.startswith("voucher.demo"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if callable(value) and hasattr(value, "cache_info") and \
                    getattr(value, "__module__", None) == module.__name__:
                yield f"{module.__name__}.{name}", value


def test_every_cache_in_the_app_has_a_bound(app):  # some modules need an app to import
    found = dict(_caches())
    assert found, "no functools caches found: the walk is broken"
    unbounded = []
    for name, cached in found.items():
        if cached.cache_parameters()["maxsize"] is not None:
            continue
        takes = inspect.signature(inspect.unwrap(cached)).parameters
        if takes and name not in FINITE_KEYS:
            unbounded.append(name)
    assert not unbounded, f"caches without a bound over open-ended keys: {unbounded}"


def test_the_engine_and_template_caches_are_bounded(app):
    assert app.extensions["voucher.engine"]._compiled_cache.capacity <= 1000
    assert app.jinja_env.cache is not None and app.jinja_env.cache.capacity <= 1000


def test_argon2_uses_owasps_parameters():
    passwords.configure(fast=False)
    try:
        hasher = passwords._hasher
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (5, 7168, 1)
        assert hasher.type.name == "ID"
        assert hasher.memory_cost * 1024 < LARGEST_MMAP_THRESHOLD  # reused, not mapped anew
        assert not passwords.needs_rehash(passwords.hash_password("a long enough password"))
    finally:
        passwords.configure(fast=True)


#: Four threads hash side by side, twice as many times as before: the second round must find
#: the buffers the first one left in the malloc arenas, and the resident memory stays put.
_HASHES_IN_THREADS = """
import threading
from voucher.accounts import passwords
passwords.configure(fast=False)
stored = passwords.hash_password("a long enough password")

def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

def burst(times):
    def work():
        for _ in range(times):
            assert passwords.verify_password(stored, "a long enough password")
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

before = resident_mib()
burst(3)
first = resident_mib()
burst(6)
print(before, first, resident_mib())
"""


def test_the_memory_of_password_hashes_in_threads_stays_bounded():
    """What glibc keeps of the hashes' buffers is at most about one per thread, and reused."""
    import subprocess
    import sys

    answer = subprocess.run([sys.executable, "-c", _HASHES_IN_THREADS], capture_output=True,
                            text=True, timeout=120, check=True)
    before, first, second = (float(x) for x in answer.stdout.split())
    buffer_mib = passwords.OWASP_PARAMETERS["memory_cost"] / 1024
    assert first - before <= 4 * 2 * buffer_mib, (before, first)
    assert second - first <= 2, f"grew from {first:.1f} to {second:.1f} MiB in the second round"


def test_a_hash_made_with_other_parameters_is_renewed_at_login():
    from argon2 import PasswordHasher

    passwords.configure(fast=False)
    try:
        rfc_9106 = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
        assert passwords.needs_rehash(rfc_9106.hash("a long enough password"))
        assert passwords.verify_password(rfc_9106.hash("a long enough password"),
                                         "a long enough password")
    finally:
        passwords.configure(fast=True)
