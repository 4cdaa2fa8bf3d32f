"""The audit trail's hash chain: every entry is linked to the one before it, and
`audit_verify` names the first entry that was changed, removed or moved."""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from clinic.audit import audit
from clinic.audit_chain import CHAINED_FIELDS, GENESIS, chain_check, entry_hash
from clinic.models import AuditEvent

TABLE = AuditEvent._meta.db_table
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="PostgreSQL's locking (CI runs it there)")


def three_entries():
    return [audit("view", object_type="patient", object_id=str(n)) for n in (1, 2, 3)]


def tamper(statement, params):
    """What someone with the owner's password could do: lift the append-only trigger (on
    PostgreSQL; SQLite has none) and change the rows behind the app's back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # (Deferred foreign-key checks of the new entries first: PostgreSQL alters no
            # table with checks pending.)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER clinic_auditevent_append_only")
        cursor.execute(statement, params)


def verify():
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


ENTRY = {"at": datetime.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=datetime.timezone.utc),
         "actor_id": 4, "actor_label": "mei", "patient_id": 17, "action": "view",
         "object_type": "patient", "object_id": "17", "outcome": "allowed",
         "ip_address": "10.1.2.3", "request_id": "a" * 32, "client_request_id": "trace-1"}
CHANGED = {"at": ENTRY["at"] + datetime.timedelta(microseconds=1), "actor_id": 5,
           "actor_label": "sam", "patient_id": 18, "action": "update", "object_type": "plan",
           "object_id": "18", "outcome": "denied", "ip_address": "10.1.2.4",
           "request_id": "b" * 32, "client_request_id": "trace-2"}


class TestTheHash:
    @pytest.mark.parametrize("field", CHAINED_FIELDS)
    def test_it_covers_every_field_that_matters(self, field):
        assert set(CHANGED) == set(CHAINED_FIELDS)
        assert entry_hash({**ENTRY, field: CHANGED[field]}, GENESIS) != entry_hash(ENTRY, GENESIS)

    def test_it_covers_the_previous_entrys_hash(self):
        assert entry_hash(ENTRY, "0" * 64) != entry_hash(ENTRY, "1" * 64)

    def test_the_same_address_written_two_ways_hashes_the_same(self):
        assert entry_hash({**ENTRY, "ip_address": "::ffff:1.2.3.4"}, GENESIS) == \
            entry_hash({**ENTRY, "ip_address": "::ffff:102:304"}, GENESIS)

    def test_an_entry_chained_to_another_than_the_one_before_it_is_a_broken_link(self):
        first = {**ENTRY, "id": 1, "previous_hash": GENESIS}
        first["entry_hash"] = entry_hash(first, GENESIS)
        second = {**ENTRY, "id": 2, "previous_hash": first["entry_hash"]}
        second["entry_hash"] = entry_hash(second, first["entry_hash"])
        third = {**ENTRY, "id": 3, "previous_hash": first["entry_hash"]}
        third["entry_hash"] = entry_hash(third, first["entry_hash"])
        by_hash = {entry["entry_hash"]: entry["id"] for entry in (first, second, third)}

        report = chain_check([first, second, third], entry_with_hash=by_hash.get)

        assert (report.broken.entry_id, report.entries) == (3, 3)
        assert "link broken (chained to entry #1" in report.broken.problem


@pytest.mark.django_db
class TestTheChain:
    def test_each_entry_is_chained_to_the_one_before_it(self):
        first, second, third = three_entries()

        assert first.previous_hash == GENESIS
        assert second.previous_hash == first.entry_hash
        assert third.previous_hash == second.entry_hash
        assert len({first.entry_hash, second.entry_hash, third.entry_hash}) == 3
        assert verify() == f"3 entries, chain intact (last hash {third.entry_hash})."

    def test_what_is_stored_hashes_to_what_was_chained(self):
        """The hash is computed before the row is written: what the database gives back
        (times, addresses) must hash the same."""
        audit("view", object_type="patient", object_id="9")
        stored = AuditEvent.objects.values("previous_hash", "entry_hash", *CHAINED_FIELDS).get()

        assert entry_hash(stored, stored["previous_hash"]) == stored["entry_hash"]

    def test_an_empty_trail_is_intact(self):
        assert verify() == "0 entries, chain intact (last hash -)."

    def test_a_changed_entry_is_named(self):
        first, second, third = three_entries()
        tamper(f"UPDATE {TABLE} SET object_id = %s WHERE id = %s", ["99", second.pk])

        with pytest.raises(CommandError, match=f"Entry #{second.pk}: content changed"):
            verify()

    def test_a_changed_entry_with_its_hash_recomputed_breaks_the_next_link(self):
        first, second, third = three_entries()
        forged = {**second.chained_content(), "object_id": "99"}
        tamper(f"UPDATE {TABLE} SET object_id = %s, entry_hash = %s WHERE id = %s",
               ["99", entry_hash(forged, second.previous_hash), second.pk])

        with pytest.raises(CommandError, match=f"Entry #{third.pk}: entry missing "
                                               rf"\(between entry #{second.pk}"):
            verify()

    def test_a_removed_entry_is_named(self):
        first, second, third = three_entries()
        tamper(f"DELETE FROM {TABLE} WHERE id = %s", [second.pk])

        with pytest.raises(CommandError, match=f"Entry #{third.pk}: entry missing "
                                               rf"\(between entry #{first.pk} "):
            verify()

    def test_a_trail_cut_at_its_start_is_named(self):
        first, second, third = three_entries()
        tamper(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])

        with pytest.raises(CommandError, match=f"Entry #{second.pk}: entry missing"):
            verify()

    def test_a_broken_chain_exits_with_a_failure_status(self):
        first, second, third = three_entries()
        tamper(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", ["someone else", first.pk])

        with pytest.raises(CommandError) as broken:
            verify()

        assert broken.value.returncode == 1  # manage.py's exit status
        assert str(broken.value) == (f"Audit trail broken after 0 entries. Entry #{first.pk}: "
                                     "content changed (its hash no longer matches what it "
                                     "records)")


def in_a_thread_of_its_own(work):
    """Run `work` on a database connection of its own, committing as it goes (the test's
    own connection stays in the test's transaction)."""
    errors = []

    def run():
        try:
            work()
        except Exception as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@on_postgresql
@pytest.mark.django_db
def test_entries_written_at_the_same_time_stay_in_one_line():
    """Four requests writing entries at once: each waits its turn, none is chained to an
    entry another one was chained to."""
    start = threading.Barrier(4)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def write_entries(n):
        def work():
            start.wait()
            for i in range(15):
                audit("view", object_type="patient", object_id=f"{n}-{i}")
        return work

    def remove_them():
        # This test's entries are committed: the owner removes them again.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER clinic_auditevent_append_only")
            cursor.execute(f"DELETE FROM {TABLE} WHERE id > %s", [before])
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER clinic_auditevent_append_only")

    writers = [in_a_thread_of_its_own(write_entries(n)) for n in range(4)]
    try:
        for thread, _errors in writers:
            thread.join()
        written = list(AuditEvent.objects.filter(id__gt=before).order_by("id")
                       .values("id", "previous_hash", "entry_hash", *CHAINED_FIELDS))
    finally:
        cleaner, cleaning_errors = in_a_thread_of_its_own(remove_them)
        cleaner.join()

    assert [error for _thread, errors in writers for error in errors] == []
    assert cleaning_errors == []
    previous = [entry["previous_hash"] for entry in written]
    assert len(written) == 60
    assert len(set(previous)) == 60  # no two entries chained to the same one
    assert previous[1:] == [entry["entry_hash"] for entry in written[:-1]]
    assert all(entry_hash(entry, entry["previous_hash"]) == entry["entry_hash"]
               for entry in written)
