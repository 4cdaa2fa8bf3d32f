"""Consent texts: every shipped treatment has one, in English and Chinese, with all six
parts; its version moves whenever the words change, in either language."""

import pytest

from treatments.loading import catalogue_load
from treatments.models import CONSENT_PARTS, TextTranslation, Treatment, TreatmentConsent
from treatments.services import catalogue_record_save
from treatments.translations import translator

pytestmark = pytest.mark.django_db


def test_every_treatment_has_its_consent_text_in_english_and_chinese():
    consents = TreatmentConsent.objects.select_related("treatment")

    assert consents.count() == Treatment.objects.count() == 27
    translate = translator("zh-hans", list(consents))
    for consent in consents:
        for part in CONSENT_PARTS:
            assert getattr(consent, part).strip(), (consent, part)
            chinese = translate(consent, part)
            assert chinese != getattr(consent, part), (consent, part)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), (consent, part)
        assert consent.sources.exists(), consent


def test_an_edit_to_the_words_moves_the_version(catalogue_admin):
    consent = TreatmentConsent.objects.get(treatment__code="BOTOX")
    version = consent.version

    consent.common_risks += " You may have a headache for a day or two."
    catalogue_record_save(actor=catalogue_admin, instance=consent, changes={}, created=False)

    consent.refresh_from_db()
    assert consent.version == version + 1


def test_a_change_to_a_translation_moves_the_version_too():
    consent = TreatmentConsent.objects.get(treatment__code="BOTOX")
    version = consent.version
    translation = TextTranslation.objects.get(object_id=consent.pk, field="serious_risks",
                                              content_type__model="treatmentconsent")

    translation.text += "如有吞咽或呼吸困难，请立即就医。"
    translation.save()

    consent.refresh_from_db()
    assert consent.version == version + 1


def test_saving_unchanged_words_keeps_the_version(catalogue_admin):
    consent = TreatmentConsent.objects.get(treatment__code="BOTOX")
    version = consent.version

    catalogue_record_save(actor=catalogue_admin, instance=consent, changes={}, created=False)

    consent.refresh_from_db()
    assert consent.version == version


def test_reloading_the_shipped_file_changes_nothing():
    versions = dict(TreatmentConsent.objects.values_list("treatment__code", "version"))

    report = catalogue_load()

    assert report.updated["treatmentconsent"] == 0
    assert report.created["treatmentconsent"] == 0
    assert dict(TreatmentConsent.objects.values_list("treatment__code", "version")) == versions
