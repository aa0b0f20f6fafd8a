"""The password policy: length, the shipped list of common passwords, names and username."""

from __future__ import annotations

import secrets

import pytest

from idp.credentials.password_policy import COMMON_PASSWORDS, BloomFilter, PasswordPolicy, common_passwords

POLICY = PasswordPolicy()


def test_shipped_list_is_large_and_compact():
    bloom = common_passwords()
    assert bloom.entries >= 100_000
    assert COMMON_PASSWORDS.stat().st_size < bloom.entries * 2  # under 2 bytes per password


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "password123",
                                      "iloveyou12", "Password123", "QWERTYUIOP"])
def test_common_passwords_are_refused(password):
    assert "common" in POLICY.problems(password)


def test_random_passwords_pass_and_false_positives_are_rare():
    refused = sum(POLICY.is_common(secrets.token_urlsafe(12)) for _ in range(3000))
    assert refused <= 15  # the filter is built for about 1 in 1,000


@pytest.mark.parametrize(("length", "problem"), [(9, ["too_short"]), (10, []), (128, []),
                                                  (256, []), (257, ["too_long"])])
def test_length_limits(length, problem):
    # Deterministic: a random text would meet the filter's 1-in-1,000 false positives.
    password = ("Kv7-quartz-lantern-" * 20)[:length]
    assert POLICY.problems(password) == problem


def test_no_composition_rules():
    assert POLICY.problems("correct horse battery") == []
    assert POLICY.problems("ολόκληρη φράση στα ελληνικά") == []


def test_length_counts_nfkc_characters():
    # Ten full-width digits are ten NFKC characters; combining forms fold into one.
    assert POLICY.problems("ｑｗｅｒｔｙｕｉｏｐ") == ["common"]
    decomposed = "e\u0301" * 9  # nine "é" written with combining accents
    assert POLICY.problems(decomposed) == ["too_short"]


def test_username_and_names_are_refused_whatever_the_case_or_accents():
    problems = POLICY.problems("151200012345-spring", username="151200012345")
    assert problems == ["username"]
    names = ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos")
    assert POLICY.problems("ΠΑΠΑΔΟΠΟΥΛΟΣ για πάντα", names=names) == ["name"]
    assert POLICY.problems("papadopoulos forever!", names=names) == ["name"]
    assert POLICY.problems("a stranger's long phrase", names=names) == []


def test_short_name_parts_are_ignored():
    assert POLICY.problems("an excellent phrase here", names=("Al Ng",)) == []


def test_confirmation_must_match():
    assert POLICY.problems("long enough phrase", "long enough phrasE") == ["mismatch"]


def test_bloom_filter_round_trip():
    bloom = BloomFilter.empty(1024, 3, 2)
    bloom.add(b"one")
    copy = BloomFilter.from_bytes(bloom.to_bytes())
    assert b"one" in copy
    with pytest.raises(ValueError, match="not a Kleidi bloom filter"):
        BloomFilter.from_bytes(b"NOTBLOOM" + bloom.to_bytes()[8:])
