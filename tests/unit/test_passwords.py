from __future__ import annotations

from argon2 import PasswordHasher

from lms import passwords


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    hashed = passwords.hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct horse" not in hashed


def test_verify_accepts_the_password_and_nothing_else() -> None:
    hashed = passwords.hash_password("s3cret-passphrase")
    assert passwords.verify_password(hashed, "s3cret-passphrase")
    assert not passwords.verify_password(hashed, "s3cret-passphrasE")
    assert not passwords.verify_password("not a hash", "anything")


def test_unknown_user_never_verifies() -> None:
    assert not passwords.verify_password(None, "no such user: timing equaliser")


def test_weaker_legacy_hashes_are_flagged_for_rehash() -> None:
    legacy = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw")
    assert passwords.needs_rehash(legacy)
    assert not passwords.needs_rehash(passwords.hash_password("pw"))
