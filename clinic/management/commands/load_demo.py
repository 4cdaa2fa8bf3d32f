import datetime
import os
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from clinic.services import clinic_get_or_create, staff_member_save
from consultations.forms import IntakeForm
from consultations.models import Patient
from consultations.selectors import intake_catalogue
from consultations.models import TreatmentPlan
from consultations.plan_services import plan_create, plan_procedure_add, plan_share
from consultations.services import consultation_save, patient_save
from treatments.models import Treatment

DEMO_URL = "http://127.0.0.1:8000/"

DEMO_CLINIC = {
    "name": "Harbourside Skin Clinic",
    "address": "12 Quay Street, Harbourside",
    "phone": "+44 20 7946 0101",
    "email": "hello@harbourside-skin.example",
}

DEMO_STAFF = [
    {"username": "clinician", "first_name": "Mei", "last_name": "Lin", "role": CLINICIAN,
     "job_title": "Aesthetic physician", "email": "mei.lin@harbourside-skin.example"},
    {"username": "catalogue-admin", "first_name": "Sam", "last_name": "Okafor",
     "role": CATALOGUE_ADMIN, "job_title": "Clinical lead",
     "email": "sam.okafor@harbourside-skin.example"},
]


def days_ago(days):
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


# Demo patients and what their intakes record (answers not listed are "no" / "never").
DEMO_PATIENTS = [
    {
        "patient": {"full_name": "Aiko Tanaka", "date_of_birth": datetime.date(1994, 6, 2),
                    "sex": "female", "phone": "+44 7700 900101",
                    "email": "aiko.tanaka@example.com", "preferred_language": "en"},
        "submit": True,
        "answers": {"skin_type": "oily", "fitzpatrick": "III", "treatment_area": "full_face",
                    "concern_acne_scars": "moderate", "acne_scar_subtypes": ["rolling", "boxcar"],
                    "condition_herpes_simplex_history": "yes",
                    "dated_isotretinoin_last_dose": "date",
                    "dated_isotretinoin_last_dose_date": days_ago(120),
                    "clinician_notes": "Scarring on both cheeks after teenage acne."},
    },
    {
        "patient": {"full_name": "Chloe Martin", "date_of_birth": datetime.date(1989, 11, 23),
                    "sex": "female", "phone": "+44 7700 900102",
                    "email": "chloe.martin@example.com", "preferred_language": "en"},
        "submit": True,
        "answers": {"skin_type": "combination", "fitzpatrick": "IV",
                    "treatment_area": "partial_face", "concern_melasma": "mild",
                    "concern_acne_scars": "severe", "condition_pregnancy": "unsure"},
    },
    {
        "patient": {"full_name": "Priya Nair", "date_of_birth": datetime.date(1968, 3, 9),
                    "sex": "female", "phone": "+44 7700 900103",
                    "email": "priya.nair@example.com", "preferred_language": "en"},
        "submit": True,
        "answers": {"skin_type": "dry", "fitzpatrick": "V", "treatment_area": "full_face",
                    "concern_wrinkles_dynamic": "moderate", "concern_skin_laxity": "moderate",
                    "condition_diabetes_controlled": "yes",
                    "condition_diabetes_uncontrolled": "yes", "no_medications": "on",
                    "condition_anticoagulants": "yes",
                    "detail_anticoagulants": "Apixaban 5 mg twice daily"},
    },
    {
        "patient": {"full_name": "Wei Zhang", "date_of_birth": datetime.date(2001, 8, 17),
                    "sex": "male", "phone": "+44 7700 900104",
                    "email": "wei.zhang@example.com", "preferred_language": "zh-hans"},
        "submit": True,
        "answers": {"skin_type": "oily", "fitzpatrick": "II", "treatment_area": "full_face",
                    "concern_acne_active": "moderate", "concern_enlarged_pores": "mild",
                    "dated_last_tan": "date", "dated_last_tan_date": days_ago(20)},
    },
    {
        "patient": {"full_name": "Tom Becker", "date_of_birth": datetime.date(1979, 1, 30),
                    "sex": "male", "phone": "+44 7700 900105", "email": "",
                    "preferred_language": "en"},
        "submit": False,
        "answers": {"skin_type": "normal", "concern_photodamage": "moderate"},
    },
]


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo clinic, its staff accounts and a few patients with "
        "intakes, and print how to sign in. Passwords come from DEMO_PASSWORD when it is "
        "set, otherwise a new one is generated. Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        clinic = clinic_get_or_create(**DEMO_CLINIC)
        staff = {person["username"]: staff_member_save(clinic=clinic, password=password, **person)
                 for person in DEMO_STAFF}
        created = self.load_patients(clinic, staff["clinician"])
        plan = self.load_plan(clinic, staff["clinician"])
        # Only a hash of a link is stored, so each run issues a fresh one to print.
        _link, token = plan_share(user=staff["clinician"], plan=plan,
                                  link_url=lambda token: f"{DEMO_URL}p/{token}/")
        self.stdout.write(self.style.SUCCESS(
            f"Demo clinic: {clinic.name} ({created} demo patients added)"))
        self.stdout.write(f"Sign in at {DEMO_URL} with:")
        for person in DEMO_STAFF:
            self.stdout.write(f"  {person['role']:<16} username: {person['username']:<16} "
                              f"password: {password}")
        born = plan.consultation.patient.date_of_birth
        self.stdout.write(f"Patient plan page (date of birth {born:%Y-%m-%d}): "
                          f"{DEMO_URL}p/{token}/")

    def load_patients(self, clinic, clinician):
        catalogue = intake_catalogue()
        created = 0
        for demo in DEMO_PATIENTS:
            details = demo["patient"]
            if Patient.objects.filter(clinic=clinic, full_name=details["full_name"],
                                      date_of_birth=details["date_of_birth"]).exists():
                continue
            patient = patient_save(user=clinician, data=details)
            form = IntakeForm(self.intake_data(catalogue, demo), catalogue=catalogue,
                              patient=patient, submitting=demo["submit"])
            if not form.is_valid():
                raise CommandError(f"Demo intake for {patient} is invalid: {form.errors}")
            consultation_save(user=clinician, patient=patient, answers=form.answers(),
                              submit=demo["submit"])
            created += 1
        return created

    def load_plan(self, clinic, clinician):
        """A shared plan for the acne-scar patient, with one justified caution: microneedling
        within six months of isotretinoin, which the consensus guidance allows (fractional CO2
        is ruled out: its maker's safety information asks for twelve months)."""
        patient = Patient.objects.get(clinic=clinic, full_name="Aiko Tanaka")
        consultation = patient.consultations.order_by("-id").first()
        existing = TreatmentPlan.objects.filter(consultation__patient=patient).first()
        if existing is not None:
            return existing
        plan = plan_create(user=clinician, consultation=consultation)
        start = timezone.localdate() + datetime.timedelta(weeks=8)
        plan_procedure_add(
            user=clinician, plan=plan, treatment=Treatment.objects.get(code="MICRONEEDLING"),
            sessions=3, interval_weeks=6, first_date=start,
            notes="Moderate depth on both cheeks, with antiviral cover for her cold sores.",
            patient_note="We will treat both cheeks and start gently, after a small test "
                         "area. You will take a tablet to prevent cold sores.",
            justification=("Last isotretinoin dose four months ago. Consensus guidance finds "
                           "no reason to delay microneedling after isotretinoin; shallow "
                           "needle depths first and she has agreed a test area."),
        )
        plan_procedure_add(
            user=clinician, plan=plan, treatment=Treatment.objects.get(code="SILICONE_GEL"),
            sessions=1, first_date=start + datetime.timedelta(weeks=1),
            notes="Twice daily once the skin has closed over, between sessions.",
            patient_note="Apply it twice a day once the skin has closed over, between "
                         "sessions.",
        )
        return plan

    def intake_data(self, catalogue, demo):
        data = {"consultation_date": timezone.localdate().isoformat()}
        if demo["submit"]:
            data["history_reviewed"] = "on"
            data.update({f"condition_{c.code}": "no" for c in catalogue.conditions})
            data.update({f"dated_{q.code}": "never" for q in catalogue.dated_questions})
        data.update(demo["answers"])
        return data
