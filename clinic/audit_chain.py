"""The audit trail's hash chain: each entry's hash covers its content and the hash of the
entry before it, so changing, removing or reordering an entry breaks the chain from there on.

Plain functions over plain values (no ORM here): the model, its migration and the
`audit_verify` command all hash an entry through `entry_hash`, the one definition of what
an entry's content is.
"""

import datetime
import hashlib
import ipaddress
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

# The fields an entry's hash covers, in this order (the id is the chain's order, not part
# of the content: it is only known once the row is written).
CHAINED_FIELDS = ("at", "actor_id", "actor_label", "patient_id", "action", "object_type",
                  "object_id", "outcome", "ip_address", "request_id", "client_request_id")
GENESIS = ""  # the "previous hash" of the first entry


def _canonical_time(at):
    return at.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def _canonical_ip(ip_address):
    """The address's bytes: the database and Python may write the same IPv6 address in
    different ways, its bytes are one."""
    return ipaddress.ip_address(ip_address).packed.hex() if ip_address else None


def _canonical_id(value):
    return None if value is None else int(value)


def entry_hash(entry, previous_hash):
    """SHA-256 (hex) of one entry's content (a mapping of CHAINED_FIELDS) and the hash of
    the entry before it."""
    content = [
        _canonical_time(entry["at"]),
        _canonical_id(entry["actor_id"]),
        str(entry["actor_label"]),
        _canonical_id(entry["patient_id"]),
        str(entry["action"]),
        str(entry["object_type"]),
        str(entry["object_id"]),
        str(entry["outcome"]),
        _canonical_ip(entry["ip_address"]),
        str(entry["request_id"]),
        str(entry["client_request_id"]),
        previous_hash,
    ]
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the chain does not hold: which entry, and what is wrong."""

    entry_id: int
    problem: str

    def __str__(self):
        return _("Entry #%(id)s: %(problem)s") % {"id": self.entry_id, "problem": self.problem}


@dataclass(frozen=True)
class ChainReport:
    entries: int
    last_hash: str
    broken: ChainBreak | None = None


def chain_check(entries, *, entry_with_hash=lambda entry_hash: None):
    """Walk the entries (mappings with id, CHAINED_FIELDS, previous_hash and entry_hash) in
    id order and report the first broken link. `entry_with_hash` names the id of the entry
    holding a given hash, if any (asked only once the chain is found broken).

    - content changed: the entry's own hash no longer matches what it holds;
    - entry missing: its previous hash belongs to no entry (the one it was chained to is
      gone: deleted, or the trail was cut before it);
    - link broken: its previous hash names another entry than the one before it (entries
      moved or re-chained).
    """
    count = 0
    last = GENESIS
    last_id = None
    for entry in entries:
        count += 1
        if entry_hash(entry, entry["previous_hash"]) != entry["entry_hash"]:
            return ChainReport(count, last, ChainBreak(entry["id"], _(
                "content changed (its hash no longer matches what it records)")))
        if entry["previous_hash"] != last:
            linked = entry_with_hash(entry["previous_hash"]) if entry["previous_hash"] else None
            if linked is not None:
                problem = _("link broken (chained to entry #%(linked)s, not to the entry "
                            "before it)") % {"linked": linked}
            elif last_id is None:
                problem = _("entry missing (the entries before it are gone)")
            else:
                problem = _("entry missing (between entry #%(before)s and this one)") % {
                    "before": last_id}
            return ChainReport(count, last, ChainBreak(entry["id"], problem))
        last, last_id = entry["entry_hash"], entry["id"]
    return ChainReport(count, last)
