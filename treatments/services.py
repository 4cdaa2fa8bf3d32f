"""Writes to the catalogue. Every save and delete goes through here, from the admin and from
the catalogue loader alike, so that each one is validated the same way and leaves an entry in
the catalogue's change history."""

from django.db import models, transaction
from django.utils import timezone

from treatments.models import CatalogueChange, CoverageDecision, Treatment, TreatmentPart

LOADER_LABEL = "catalogue loader"


def change_value(value):
    """A field value as it is shown in the change history."""
    if isinstance(value, models.Model):
        return getattr(value, "code", None) or getattr(value, "key", None) or str(value)
    if isinstance(value, (models.QuerySet, list, tuple, set)) and not _is_plain_list(value):
        return sorted(change_value(item) for item in value)
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def _is_plain_list(value):
    return isinstance(value, list) and all(
        item is None or isinstance(item, (str, int, float, bool)) for item in value
    )


def _treatment_code(instance):
    """The treatment a record belongs to, so a treatment's history can include its parts."""
    if isinstance(instance, TreatmentPart):
        return instance.treatment.code
    if isinstance(instance, CoverageDecision):
        return instance.treatment.code if instance.treatment_id else ""
    if isinstance(instance, Treatment):
        return instance.code
    return ""


def catalogue_change_entry(*, actor, instance, action, changes):
    """An unsaved history entry for one change to one catalogue record."""
    return CatalogueChange(
        actor=actor,
        actor_label=actor.get_username() if actor is not None else LOADER_LABEL,
        action=action,
        model=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        treatment_code=_treatment_code(instance),
        changes=changes,
    )


@transaction.atomic
def catalogue_record_save(*, actor, instance, changes, created):
    """Save a catalogue record an admin created or edited, and record what changed.

    A record a person has edited is marked as customised, so that reloading the shipped
    catalogue does not undo the edit.
    """
    instance.customised_at = timezone.now()
    instance.save()
    catalogue_change_entry(
        actor=actor,
        instance=instance,
        action=CatalogueChange.Action.CREATED if created else CatalogueChange.Action.CHANGED,
        changes=changes,
    ).save()
    return instance


@transaction.atomic
def catalogue_record_delete(*, actor, instance):
    entry = catalogue_change_entry(
        actor=actor, instance=instance, action=CatalogueChange.Action.DELETED, changes={}
    )
    instance.delete()
    entry.save()
