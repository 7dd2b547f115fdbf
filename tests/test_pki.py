"""Dev PKI: the chain must satisfy the C2PA signer-certificate profile (EU-09 1.1.1)."""

from __future__ import annotations

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from synthguard.errors import ConflictError
from synthguard.provenance.pki import CA_CERT, SIGNER_CERT, SIGNER_KEY, DevPKI, create_dev_pki


@pytest.fixture
def pki(tmp_path):
    return create_dev_pki(tmp_path / "keys", organization="Test Org")


def test_writes_the_three_files(pki, tmp_path):
    assert pki == DevPKI.at(tmp_path / "keys")
    assert (pki.cert_chain.name, pki.key.name, pki.ca_cert.name) == (SIGNER_CERT, SIGNER_KEY, CA_CERT)
    assert pki.exists()
    assert stat.S_IMODE(pki.key.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in pki.key.read_bytes()  # PKCS#8, unencrypted
    assert not list(pki.directory.glob("*.tmp"))


def test_chain_is_signer_then_ca(pki):
    signer, ca = x509.load_pem_x509_certificates(pki.cert_chain.read_bytes())
    anchor = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert ca == anchor
    signer.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert "Test Org" in signer.subject.rfc4514_string()


def test_signer_extensions_match_c2pa_profile(pki):
    signer, ca = x509.load_pem_x509_certificates(pki.cert_chain.read_bytes())
    ext = signer.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ca_ski
    ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_key_matches_signing_certificate(pki):
    signer = x509.load_pem_x509_certificates(pki.cert_chain.read_bytes())[0]
    key = serialization.load_pem_private_key(pki.key.read_bytes(), password=None)
    assert key.public_key() == signer.public_key()
    assert key.curve.name == "secp256r1"


def test_refuses_to_overwrite_keys(pki):
    before = pki.key.read_bytes()
    with pytest.raises(ConflictError) as info:
        create_dev_pki(pki.directory)
    assert "force" in info.value.diagnostics()
    assert pki.key.read_bytes() == before


def test_refuses_when_only_one_file_exists(tmp_path):
    (tmp_path / SIGNER_KEY).write_bytes(b"precious")
    with pytest.raises(ConflictError):
        create_dev_pki(tmp_path)
    assert (tmp_path / SIGNER_KEY).read_bytes() == b"precious"


def test_force_replaces_keys(pki):
    before = pki.key.read_bytes()
    again = create_dev_pki(pki.directory, force=True)
    assert again.key.read_bytes() != before
    assert stat.S_IMODE(again.key.stat().st_mode) == 0o600
