"""Knowing whether the catalogue changed: every save, delete or link change of a catalogue
record gives the catalogue a new random token (in the same transaction as the change).
`catalogue_snapshot` rebuilds the engine's copy only when the token moved, so pages stay
current without re-reading 300 rules on every request.

Writing to catalogue tables with QuerySet.update() bypasses the signals: call
`catalogue_changed()` after such a write.
"""

import uuid

from django.apps import apps
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

from treatments.models import CatalogueState

UNTRACKED = {"cataloguechange", "cataloguestate"}


# Sent once after a transaction that changed the catalogue has committed (however many
# records it touched), for what must follow a change, such as re-checking plans.
catalogue_committed = Signal()


def catalogue_changed(**kwargs):
    updated = CatalogueState.objects.filter(pk=1).update(token=uuid.uuid4())
    if not updated:
        CatalogueState.objects.create(pk=1)
    # Once per transaction, however many records it changes (a rolled-back one drops it).
    if not any(entry[1] is _committed for entry in transaction.get_connection().run_on_commit):
        transaction.on_commit(_committed)


def _committed():
    catalogue_committed.send(sender=CatalogueState)


def catalogue_token():
    """The catalogue's current token, or None where the row is missing (then nothing is
    cached)."""
    try:
        return CatalogueState.objects.values_list("token", flat=True).get(pk=1)
    except CatalogueState.DoesNotExist:
        return None


def catalogue_signals_connect():
    for model in apps.get_app_config("treatments").get_models():
        if model._meta.model_name in UNTRACKED:
            continue
        post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-save-{model}")
        post_delete.connect(catalogue_changed, sender=model,
                            dispatch_uid=f"catalogue-delete-{model}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(catalogue_changed, sender=field.remote_field.through,
                                dispatch_uid=f"catalogue-m2m-{field.remote_field.through}")
