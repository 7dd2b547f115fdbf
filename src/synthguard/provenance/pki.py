"""A development PKI for C2PA signing: one local root CA and one signing certificate.

C2PA validators reject self-signed signer certificates and check the X.509 profile
of the C2PA spec (§14.5: digitalSignature key usage, an accepted EKU, not a CA,
AKI/SKI), so even development signing needs a two-level chain.  The CA certificate
is what a verifier passes as trust anchor to get the "trusted" state (EU-09).

Development only: the CA key is discarded after issuing, so the CA cannot sign
anything else, and nothing here is a production key ceremony.  No c2pa import.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from synthguard.errors import ConflictError, OutputError
from synthguard.media import write_atomic

SIGNER_CERT = "c2pa-signer.pem"
SIGNER_KEY = "c2pa-signer.key"
CA_CERT = "c2pa-ca.pem"

_CA_YEARS = 10
_SIGNER_YEARS = 2
_SKEW = dt.timedelta(days=1)  # tolerate clocks slightly behind ours


@dataclass(frozen=True)
class DevPKI:
    """Paths of the files :func:`create_dev_pki` wrote."""

    directory: Path
    cert_chain: Path  # signing cert first, then the CA (what the signer embeds)
    key: Path  # PKCS#8 PEM, mode 0600
    ca_cert: Path  # the trust anchor verifiers configure

    @classmethod
    def at(cls, directory: str | os.PathLike[str]) -> DevPKI:
        """The paths a dev PKI has (or would have) in ``directory``."""
        d = Path(directory)
        return cls(directory=d, cert_chain=d / SIGNER_CERT, key=d / SIGNER_KEY, ca_cert=d / CA_CERT)

    def exists(self) -> bool:
        return self.cert_chain.is_file() and self.key.is_file() and self.ca_cert.is_file()


def create_dev_pki(
    directory: str | os.PathLike[str], *, organization: str = "SynthGuard Dev", force: bool = False
) -> DevPKI:
    """Create a root CA and an ES256 (P-256) C2PA signing certificate in ``directory``.

    Refuses to replace existing files unless ``force`` (a lost signing key orphans
    every manifest signed with it).  Files are written atomically.
    """
    pki = DevPKI.at(directory)
    d = pki.directory
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError("cannot create key directory: {strerror}", values={"strerror": exc.strerror}, path=d) from exc
    existing = [p for p in (pki.cert_chain, pki.key, pki.ca_cert) if p.exists()]
    if existing and not force:
        raise ConflictError(
            "C2PA signing files already exist: {names}",
            values={"names": ", ".join(p.name for p in existing)},
            path=d,
            hint="Keep them, or pass force=True (`--force`) to replace them; manifests signed with the old key "
            "will then only verify against the old CA.",
        )

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organization} C2PA Root CA", organization)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now, _CA_YEARS, ca=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        _certificate(_name(f"{organization} C2PA Signer", organization), ca_name, signer_key.public_key(), now,
                     _SIGNER_YEARS, ca=False)
        # emailProtection and documentSigning are both on C2PA's default EKU list
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    key_pem = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_atomic(pki.key, key_pem)  # mkstemp creates 0600; chmod makes that explicit
    os.chmod(pki.key, 0o600)
    write_atomic(pki.cert_chain, signer_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    write_atomic(pki.ca_cert, ca_cert.public_bytes(pem))
    for public in (pki.cert_chain, pki.ca_cert):
        os.chmod(public, 0o644)
    return pki


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime,
                 years: int, *, ca: bool) -> x509.CertificateBuilder:
    """What the root and the signing certificate share: names, key, validity, basic constraints, key usage."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _SKEW)
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(cert_sign=ca), critical=True)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


__all__ = ["CA_CERT", "SIGNER_CERT", "SIGNER_KEY", "DevPKI", "create_dev_pki"]
