"""One-time codes: RFC 6238 test vectors, drift window, otpauth URI."""

from __future__ import annotations

import base64
import hashlib

import pytest

from surveys import totp

# RFC 6238 Appendix B: seeds per hash, then (time, SHA-1, SHA-256, SHA-512) with 8 digits.
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890" * 6 + b"1234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def _b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode().rstrip("=")


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_totp_matches_rfc6238_vectors(at, sha1, sha256, sha512):
    for digest, expected in (
        (hashlib.sha1, sha1),
        (hashlib.sha256, sha256),
        (hashlib.sha512, sha512),
    ):
        assert totp.totp(_b32(SEEDS[digest]), at, digits=8, digest=digest) == expected


@pytest.mark.parametrize(("at", "sha1", "_sha256", "_sha512"), VECTORS)
def test_totp_six_digit_code_is_the_rfc_code_tail(at, sha1, _sha256, _sha512):
    assert totp.totp(_b32(SEEDS[hashlib.sha1]), at) == sha1[-6:]


def test_totp_accepts_one_step_either_side_and_no_more():
    secret, at = _b32(SEEDS[hashlib.sha1]), 1111111111
    step = totp.time_step(at)
    assert totp.matching_step(secret, totp.totp(secret, at), at) == step
    assert totp.matching_step(secret, totp.totp(secret, at - 30), at) == step - 1
    assert totp.matching_step(secret, totp.totp(secret, at + 30), at) == step + 1
    assert totp.matching_step(secret, totp.totp(secret, at - 60), at) is None
    assert totp.matching_step(secret, totp.totp(secret, at + 60), at) is None


def test_totp_code_typed_with_a_space_is_accepted_and_junk_is_not():
    secret, at = _b32(SEEDS[hashlib.sha1]), 59
    code = totp.totp(secret, at)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", at) is not None
    assert totp.matching_step(secret, "abcdef", at) is None
    assert totp.matching_step(secret, code + "0", at) is None


def test_totp_secret_is_160_bits_of_base32():
    secret = totp.generate_secret()
    assert len(secret) == 32 and len(totp.decode_secret(secret)) == 20
    assert secret != totp.generate_secret()
    assert totp.decode_secret(totp.grouped(secret).lower()) == totp.decode_secret(secret)


def test_totp_provisioning_uri_names_account_and_parameters():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "nurse@example.jp", "PMH Navi")
    assert uri.startswith("otpauth://totp/PMH%20Navi%3Anurse%40example.jp?")
    for part in ("secret=JBSWY3DPEHPK3PXP", "issuer=PMH%20Navi", "digits=6", "period=30"):
        assert part in uri
