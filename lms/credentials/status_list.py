"""Revocation as a W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/).

Encoding: 131,072 bits (16 KB, the spec's minimum for herd privacy), index 0 the left-most (most
significant) bit of the first byte, GZIP-compressed, then multibase base64url without padding (the
``u`` prefix).

Storage, and why no bit is ever lost:

- Each list is one item (``STATUS_LIST#<listId>``/``LIST``) holding the revoked indexes as a DynamoDB
  number set, a ``version`` counter and the signed status list credential the route serves.
- A revocation is one UpdateItem ``ADD revoked {index}, version 1`` under the condition that the
  index is not in the set yet: DynamoDB applies it atomically on the item, so two revocations on one
  list never overwrite each other's bit (no read-modify-write), and a bit is set exactly once (the
  second attempt finds its condition false and changes nothing).
- The credential is then rebuilt from the set that update returned and stored only if its version is
  newer than the one stored (``builtVersion``). The set returned with version *v* holds every bit added
  up to *v*, so whichever rebuild lands last carries every bit; a stale rebuild is refused.

Allocation: an index is drawn at random in the current list and claimed with a conditional put of
``INDEX#<index>`` (never reused, even if the certificate is then not issued), together with the
certificate's status entry (so a retried issuance finds its index) and the list's allocation count.
A list takes :data:`ALLOCATION_LIMIT` credentials (half its bits, so a random draw hits a free index
at least every other try); then a new list is started and the issuer's pointer moved to it. Each
issuer (the did:web of a public URL) has lists of its own, so a list is always signed by the issuer
of the credentials that point to it.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms import keys
from lms.clock import isoformat, new_id, utcnow
from lms.credentials import jose
from lms.credentials.keys import SigningKey
from lms.errors import ConflictError, LmsError
from lms.expressions import Update, absent, contains, eq, item_absent, lt
from lms.table import Change, Item, Put, Table

LIST_BITS = 131_072
ALLOCATION_LIMIT = LIST_BITS // 2
STATUS_PURPOSE = "revocation"
_ATTEMPTS = 20
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"


# --- the encoding ----------------------------------------------------------------------------------


def encode(set_bits: Iterable[int], size: int = LIST_BITS) -> str:
    """The ``encodedList`` of a bitstring of ``size`` bits with ``set_bits`` set."""
    bits = bytearray(size // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (multibase base64url, then GZIP)."""
    if not encoded.startswith("u"):
        raise ValueError("the encoded list is not multibase base64url (no 'u' prefix)")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    if not 0 <= index < len(bitstring) * 8:
        raise ValueError(f"index {index} is outside the list of {len(bitstring) * 8} bits")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


# --- the status list credential --------------------------------------------------------------------


def list_credential(
    *, list_url: str, issuer: str, issuer_name: str, revoked: Iterable[int], valid_from: datetime
) -> dict[str, Any]:
    """The BitstringStatusListCredential (its payload, before signing)."""
    stamp = isoformat(valid_from).replace(".000Z", "Z")
    return {
        "@context": [CREDENTIALS_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer, "name": issuer_name},
        "validFrom": stamp,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode(revoked),
        },
        "iss": issuer,
        "jti": list_url,
        "nbf": int(valid_from.timestamp()),
        "iat": int(valid_from.timestamp()),
    }


def sign_list(item: Item, revoked: Iterable[int], signing_key: SigningKey) -> str:
    from lms.credentials.did import verification_method_id

    payload = list_credential(
        list_url=str(item["url"]),
        issuer=str(item["issuer"]),
        issuer_name=str(item["issuerName"]),
        revoked=revoked,
        valid_from=utcnow(),
    )
    return jose.sign(
        payload, signing_key.key, kid=verification_method_id(str(item["issuer"]), signing_key.kid)
    )


# --- allocation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    """Where a credential's revocation bit lives."""

    list_id: str
    index: int
    list_url: str

    def credential_status(self) -> dict[str, str]:
        """The credential's ``credentialStatus`` (a BitstringStatusListEntry)."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": STATUS_PURPOSE,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True)
class Issuer:
    did: str
    name: str
    public_url: str

    def list_url(self, list_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/credentials/status/{list_id}"


class _Refused(LmsError):
    def __init__(self, failed: tuple[int, ...]) -> None:
        super().__init__("allocation refused")
        self.failed = failed


def allocate(table: Table, certificate_id: str, issuer: Issuer, signing_key: SigningKey) -> StatusEntry:
    """The certificate's index: the one allocated before (a retried issuance), else a new random one."""
    known = table.get(keys.credential_status(certificate_id), consistent=True)
    if known is not None:
        return _entry(known)
    for _ in range(_ATTEMPTS):
        current = _current_list(table, issuer, signing_key)
        entry = StatusEntry(str(current["listId"]), secrets.randbelow(LIST_BITS), str(current["url"]))
        try:
            table.transact(
                [
                    Put(
                        {
                            **keys.status_list_index(entry.list_id, entry.index).as_item(),
                            "certificateId": certificate_id,
                        },
                        when=item_absent(),
                    ),
                    Put(
                        {
                            **keys.credential_status(certificate_id).as_item(),
                            "listId": entry.list_id,
                            "index": entry.index,
                            "listUrl": entry.list_url,
                        },
                        when=item_absent(),
                    ),
                    Change(
                        keys.status_list(entry.list_id),
                        Update().add(allocated=1),
                        when=lt("allocated", ALLOCATION_LIMIT),
                    ),
                ],
                otherwise=_Refused,
            )
            return entry
        except _Refused as refused:
            if 1 in refused.failed:  # allocated meanwhile by another attempt of this issuance
                found = table.get(keys.credential_status(certificate_id), consistent=True)
                if found is not None:
                    return _entry(found)
            if 2 in refused.failed:
                _start_new_list(table, issuer, signing_key, replacing=entry.list_id)
            # 0 alone: the index was taken; draw again
    raise ConflictError("No free status list index was found; try again.")


def _entry(item: Item) -> StatusEntry:
    return StatusEntry(str(item["listId"]), int(item["index"]), str(item["listUrl"]))


def status_entry(table: Table, certificate_id: str) -> StatusEntry | None:
    found = table.get(keys.credential_status(certificate_id), consistent=True)
    return _entry(found) if found else None


def _current_list(table: Table, issuer: Issuer, signing_key: SigningKey) -> Item:
    pointer = table.get(keys.status_list_pointer(issuer.did), consistent=True)
    if pointer is None:
        _start_new_list(table, issuer, signing_key, replacing=None)
        pointer = table.get(keys.status_list_pointer(issuer.did), consistent=True)
        assert pointer is not None
    current = table.get(keys.status_list(str(pointer["listId"])), consistent=True)
    if current is None:
        raise ConflictError("The current status list is missing.")
    return current


def _start_new_list(table: Table, issuer: Issuer, signing_key: SigningKey, *, replacing: str | None) -> None:
    """A new empty list (its signed credential included), then the pointer moved to it if it still
    names ``replacing``; a list started by a concurrent allocation wins and this one stays unused."""
    list_id = new_id()
    item: Item = {
        **keys.status_list(list_id).as_item(),
        "listId": list_id,
        "url": issuer.list_url(list_id),
        "issuer": issuer.did,
        "issuerName": issuer.name,
        "allocated": 0,
        "version": 0,
        "createdAt": isoformat(utcnow()),
    }
    item["statusCredential"] = sign_list(item, (), signing_key)
    item["builtVersion"] = 0
    table.put(item, when=item_absent())
    pointer = {**keys.status_list_pointer(issuer.did).as_item(), "listId": list_id}
    table.put_if(pointer, when=item_absent() if replacing is None else eq("listId", replacing))


# --- revocation ------------------------------------------------------------------------------------


def revoke(table: Table, entry: StatusEntry, signing_key: SigningKey) -> bool:
    """Set the entry's bit (once: True if this call set it) and republish the list credential.

    Safe to repeat: a retry after the bit was set finds it set and still rebuilds the credential if
    the stored one is older than the set.
    """
    key = keys.status_list(entry.list_id)
    updated = table.update_if(
        key,
        Update().add(revoked={entry.index}, version=1),
        when=eq("listId", entry.list_id) & ~contains("revoked", entry.index),
    )
    current = updated if updated is not None else table.get(key, consistent=True)
    if current is None:
        raise ConflictError(f"No status list {entry.list_id}.")
    _rebuild(table, current, signing_key)
    return updated is not None


def _rebuild(table: Table, current: Item, signing_key: SigningKey) -> None:
    version = int(current.get("version", 0))
    if int(current.get("builtVersion", -1)) >= version:
        return
    revoked = {int(index) for index in current.get("revoked", set())}
    token = sign_list(current, revoked, signing_key)
    table.update_if(
        keys.status_list(str(current["listId"])),
        Update().set(statusCredential=token, builtVersion=version),
        when=absent("builtVersion") | lt("builtVersion", version),
    )


def revoked_indexes(item: Item) -> set[int]:
    return {int(index) for index in item.get("revoked", set())}
