"""Verifiable certificates (issue 20): Open Badges 3.0 credentials signed as VC-JWT (EdDSA, Ed25519),
revocation published as a W3C Bitstring Status List.

- :mod:`lms.credentials.keys`: the issuer's signing key (Secrets Manager) and its published public
  keys (the table, so ``did.json`` is one Query and the API never reads the private key).
- :mod:`lms.credentials.did`: the ``did:web`` of the API's public URL and its DID document.
- :mod:`lms.credentials.badge`: the ``OpenBadgeCredential`` of a certificate, signed.
- :mod:`lms.credentials.status_list`: the bitstring encoding, index allocation and revocation.
- :mod:`lms.credentials.verifier`: what an outside verifier does (``lms credentials verify``).

The guide for people who receive a credential is docs/credentials.md.
"""
