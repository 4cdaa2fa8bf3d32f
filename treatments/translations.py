"""Reading patient-facing catalogue text in the patient's language, falling back to English
wherever no translation exists."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from treatments.models import TextTranslation

DEFAULT_LANGUAGE = "en"


class Translator:
    """translate(record, field) gives the field's text in the chosen language, or English."""

    def __init__(self, language, texts=None):
        self.language = language
        self.texts = texts or {}

    def __call__(self, record, field):
        text = self.texts.get((type(record)._meta.model_name, record.pk, field))
        return text if text else getattr(record, field)


def translator(language, records):
    """A Translator for these records, read in one query (none for English)."""
    records = [record for record in records if record is not None]
    if language.split("-")[0] == DEFAULT_LANGUAGE or not records:
        return Translator(language)
    by_model = {}
    for record in records:
        by_model.setdefault(type(record), set()).add(record.pk)
    types = ContentType.objects.get_for_models(*by_model)
    match = Q()
    for model, ids in by_model.items():
        match |= Q(content_type=types[model], object_id__in=ids)
    rows = TextTranslation.objects.filter(match, language=language).select_related("content_type")
    return Translator(language, {(row.content_type.model, row.object_id, row.field): row.text
                                 for row in rows})
