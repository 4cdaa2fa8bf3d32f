"""Catalogue admins edit the catalogue in the admin: every edit is validated with a clear
message, nothing half-saved, and every change lands in the history with who and what."""

import pytest
from django.urls import reverse

from tests.treatments.admin_forms import admin_change_data
from treatments.models import CatalogueChange, Condition, ContraindicationRule, Treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_as, catalogue_admin):
    return client_as(catalogue_admin)


def change_url(obj):
    return reverse(f"admin:treatments_{obj._meta.model_name}_change", args=[obj.pk])


def post_change(client, obj, **changes):
    page = client.get(change_url(obj))
    assert page.status_code == 200
    data = admin_change_data(page)
    data.update(changes)
    return client.post(change_url(obj), data)


def errors_of(response):
    form = response.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


class TestTreatmentValidation:
    def test_a_phototype_in_two_ranges_is_refused(self, admin_client):
        ipl = Treatment.objects.get(code="IPL")

        response = post_change(admin_client, ipl, fitzpatrick_caution=["V", "IV"])

        assert response.status_code == 200
        assert "Type IV is already in the suitable phototypes range" in " ".join(
            errors_of(response)["fitzpatrick_caution"])
        ipl.refresh_from_db()
        assert ipl.fitzpatrick_caution == ["V"]

    def test_downtime_ending_before_it_starts_is_refused(self, admin_client):
        co2 = Treatment.objects.get(code="CO2_FRAC")

        response = post_change(admin_client, co2, downtime_min_days="9", downtime_max_days="3")

        assert response.status_code == 200
        assert "Downtime ends before it starts" in errors_of(response)["downtime_max_days"][0]
        # What was typed is kept on the page.
        assert response.context["adminform"].form["downtime_min_days"].value() == "9"
        co2.refresh_from_db()
        assert (co2.downtime_min_days, co2.downtime_max_days) == (4, 7)

    def test_changing_a_code_in_use_is_refused(self, admin_client):
        co2 = Treatment.objects.get(code="CO2_FRAC")

        response = post_change(admin_client, co2, code="CO2_RENAMED")

        assert response.status_code == 200
        assert "is in use" in errors_of(response)["code"][0]
        assert Treatment.objects.filter(code="CO2_FRAC").exists()

    def test_a_valid_edit_is_saved_marked_and_recorded(self, admin_client, catalogue_admin):
        co2 = Treatment.objects.get(code="CO2_FRAC")

        response = post_change(admin_client, co2, downtime_max_days="8")

        assert response.status_code == 302
        co2.refresh_from_db()
        assert co2.downtime_max_days == 8
        assert co2.customised_at is not None
        entry = CatalogueChange.objects.filter(model="treatment", object_id=str(co2.pk)).first()
        assert entry.actor == catalogue_admin
        assert entry.action == "changed"
        assert entry.changes == {"downtime_max_days": [7, 8]}


class TestConditionCodes:
    def test_a_code_in_use_by_rules_cannot_change(self, admin_client):
        pregnancy = Condition.objects.get(code="pregnancy")

        response = post_change(admin_client, pregnancy, code="pregnant")

        assert response.status_code == 200
        assert "in use by contraindication rules" in errors_of(response)["code"][0]

    def test_an_unused_code_may_change(self, admin_client):
        condition = Condition.objects.create(code="new_condition", label="New",
                                             question="New?", category="medical",
                                             kind="medical")

        response = post_change(admin_client, condition, code="renamed_condition")

        assert response.status_code == 302
        assert Condition.objects.filter(code="renamed_condition").exists()


class TestRules:
    def test_a_rule_on_an_inactive_condition_is_refused(self, admin_client):
        condition = Condition.objects.get(code="smoking")
        condition.active = False
        condition.save()
        rule = ContraindicationRule.objects.filter(severity="relative").exclude(
            condition=condition).select_related("treatment").first()

        response = post_change(admin_client, rule, condition=str(condition.pk))

        assert response.status_code == 200
        assert "is inactive" in errors_of(response)["condition"][0]
        rule.refresh_from_db()
        assert rule.condition != condition

    def test_a_relative_rule_needs_its_evidence(self, admin_client):
        rule = ContraindicationRule.objects.filter(severity="relative").first()

        response = post_change(admin_client, rule, basis="", confidence="")

        errors = errors_of(response)
        assert "Say what this rule rests on." in errors["basis"]
        assert "Say how confident the evidence is." in errors["confidence"]

    def test_adding_a_rule_through_the_treatment_page_is_recorded(self, admin_client,
                                                                   catalogue_admin):
        peel = Treatment.objects.get(code="PEEL_MANDELIC")
        epilepsy = Condition.objects.get(code="epilepsy")
        page = admin_client.get(change_url(peel))
        data = admin_change_data(page)
        prefix = "rules"
        total = int(data[f"{prefix}-TOTAL_FORMS"])
        data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
        data.update({
            f"{prefix}-{total}-condition": str(epilepsy.pk),
            f"{prefix}-{total}-severity": "relative",
            f"{prefix}-{total}-rationale": "Clinic policy for a test.",
            f"{prefix}-{total}-basis": str(
                ContraindicationRule.objects.filter(basis__code="principle").first().basis_id),
            f"{prefix}-{total}-confidence": "low",
            f"{prefix}-{total}-treatment": str(peel.pk),
        })

        response = admin_client.post(change_url(peel), data)

        assert response.status_code == 302, response.context and [
            f.errors for inline in response.context["inline_admin_formsets"]
            for f in inline.formset.forms if f.errors]
        rule = ContraindicationRule.objects.get(treatment=peel, condition=epilepsy)
        assert rule.customised_at is not None
        entry = CatalogueChange.objects.get(model="contraindicationrule", object_id=str(rule.pk))
        assert entry.action == "created"
        assert entry.treatment_code == "PEEL_MANDELIC"
        assert entry.actor == catalogue_admin


class TestHistory:
    def test_admins_see_who_changed_what_and_when(self, admin_client):
        co2 = Treatment.objects.get(code="CO2_FRAC")
        post_change(admin_client, co2, sessions_typical="Two sessions, for a test.")

        page = admin_client.get(reverse("admin:treatments_treatment_history", args=[co2.pk]))

        text = page.content.decode()
        assert page.status_code == 200
        assert "Two sessions, for a test." in text
        assert "sessions_typical" in text
        assert "catalogue loader" in text  # the history goes back to the first load

    def test_the_history_list_is_read_only(self, admin_client):
        entry = CatalogueChange.objects.first()

        assert admin_client.get(reverse("admin:treatments_cataloguechange_changelist")
                                ).status_code == 200
        assert admin_client.post(
            reverse("admin:treatments_cataloguechange_delete", args=[entry.pk]),
            {"post": "yes"}).status_code == 403


class TestFilters:
    @pytest.mark.parametrize("query", [
        "category__id__exact=1",
        "severity=absolute",
        "confidence=high",
    ])
    def test_rule_and_treatment_lists_filter(self, admin_client, query):
        url = reverse("admin:treatments_contraindicationrule_changelist")
        if query.startswith("category"):
            url = reverse("admin:treatments_treatment_changelist")
        assert admin_client.get(f"{url}?{query}").status_code == 200

    def test_treatments_filter_by_concern_and_condition(self, admin_client):
        url = reverse("admin:treatments_treatment_changelist")
        acne_scars = Treatment.objects.get(code="CO2_FRAC").indications.get(
            concern__code="acne_scars").concern
        pregnancy = Condition.objects.get(code="pregnancy")

        by_concern = admin_client.get(f"{url}?indications__concern__id__exact={acne_scars.pk}")
        by_condition = admin_client.get(f"{url}?rules__condition__id__exact={pregnancy.pk}")

        results = by_concern.content.decode().split('id="result_list"')[1].split("</table>")[0]
        assert "Fractional CO2" in results
        assert "Botulinum" not in results
        assert by_condition.status_code == 200


class TestTranslations:
    PREFIX = "treatments-texttranslation-content_type-object_id"

    def add_translation(self, client, obj, **fields):
        page = client.get(change_url(obj))
        data = admin_change_data(page)
        total = int(data[f"{self.PREFIX}-TOTAL_FORMS"])
        data[f"{self.PREFIX}-TOTAL_FORMS"] = str(total + 1)
        data.update({f"{self.PREFIX}-{total}-{name}": value for name, value in fields.items()})
        return client.post(change_url(obj), data)

    def test_an_admin_translates_patient_text(self, admin_client):
        from treatments.models import Requirement, TextTranslation

        requirement = Requirement.objects.get(code="patch_test")
        TextTranslation.objects.filter(object_id=requirement.pk, field="label",
                                       content_type__model="requirement").delete()

        response = self.add_translation(admin_client, requirement, language="zh-hans",
                                        field="label", text="皮肤测试")

        assert response.status_code == 302
        assert TextTranslation.objects.get(object_id=requirement.pk, field="label",
                                           content_type__model="requirement").text == "皮肤测试"

    def test_a_field_that_is_not_patient_text_is_refused(self, admin_client):
        from treatments.models import Requirement

        requirement = Requirement.objects.get(code="patch_test")

        response = self.add_translation(admin_client, requirement, language="zh-hans",
                                        field="timing", text="之前")

        assert response.status_code == 200
        assert "Select a valid choice. timing is not one of the available choices." in \
            response.content.decode()

    def test_a_translation_cannot_be_attached_to_patient_data(self, admin_client, clinic):
        from django.contrib.contenttypes.models import ContentType

        from tests.factories import PatientFactory
        from treatments.models import TextTranslation

        patient = PatientFactory(clinic=clinic)
        patient_type = ContentType.objects.get_for_model(patient)

        response = admin_client.post(reverse("admin:treatments_texttranslation_add"), {
            "content_type": patient_type.pk, "object_id": patient.pk, "field": "name",
            "language": "zh-hans", "text": "名字"})

        assert response.status_code == 200
        assert errors_of(response)["content_type"]
        assert not TextTranslation.objects.filter(content_type=patient_type).exists()

    def test_the_model_refuses_a_translation_outside_the_catalogue(self, clinic):
        from django.contrib.contenttypes.models import ContentType
        from django.core.exceptions import ValidationError

        from clinic.models import Clinic
        from treatments.models import TextTranslation

        with pytest.raises(ValidationError, match="only to catalogue records"):
            TextTranslation(content_type=ContentType.objects.get_for_model(Clinic),
                            object_id=clinic.pk, field="name", language="zh-hans",
                            text="诊所").save()

    def test_a_translation_for_a_record_that_does_not_exist_is_refused(self, admin_client):
        from django.contrib.contenttypes.models import ContentType

        response = admin_client.post(reverse("admin:treatments_texttranslation_add"), {
            "content_type": ContentType.objects.get_for_model(Treatment).pk,
            "object_id": 999999, "field": "name", "language": "zh-hans", "text": "名字"})

        assert response.status_code == 200
        assert "There is no treatment with id 999999" in " ".join(
            errors_of(response)["object_id"])
