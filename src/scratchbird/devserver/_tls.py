"""TLS material for the dev server: a throwaway self-signed certificate and the server context.

The real listener accepts only TLS 1.3, requests no client certificate, sets no ALPN and
ignores SNI (REFERENCE 3.2). The generated certificate is self-signed and valid for
``localhost``, ``127.0.0.1`` and ``::1``, so a client can verify it with
``sslmode=verify-full`` by trusting the certificate file itself.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from typing import Optional, Tuple

__all__ = ["generate_certificate", "generate_self_signed", "server_context", "looks_like_tls_hello"]


def generate_certificate(directory, common_name: str = "localhost") -> Tuple[str, str]:
    """Write ``cert.pem`` and ``key.pem`` (EC P-256) into ``directory``; return their paths.

    The certificate is its own trust anchor: CA:TRUE, keyCertSign, with subject and
    authority key identifiers, so strict verifiers (X509_STRICT) accept it as the
    ``sslrootcert`` of a ``verify-full`` connection.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ScratchBird dev server"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(os.fspath(directory), "cert.pem")
    key_path = os.path.join(os.fspath(directory), "key.pem")
    with open(key_path, "wb") as fh:
        os.chmod(key_path, 0o600)
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


generate_self_signed = generate_certificate


def server_context(certfile: str, keyfile: Optional[str],
                   client_ca: Optional[str] = None) -> ssl.SSLContext:
    """TLS 1.3 only (minimum = maximum), no compression; no client certificate, unless
    ``client_ca`` (a PEM of trusted CAs) is given: then a client must present a
    certificate that chains to it, or the handshake fails (the real listener never asks,
    REFERENCE 3.2; this is for testing a driver's ``sslcert``/``sslkey``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_NONE
    if client_ca:
        ctx.load_verify_locations(cafile=client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


def looks_like_tls_hello(head: bytes) -> bool:
    """The listener's pre-check: a TLS handshake record header 16 03 01..04 (REFERENCE 3.2)."""
    return len(head) >= 3 and head[0] == 0x16 and head[1] == 0x03 and 0x01 <= head[2] <= 0x04
