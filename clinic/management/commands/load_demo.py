import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from clinic.services import clinic_get_or_create, staff_member_save

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


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo clinic and its staff accounts and print how to sign in. "
        "Passwords come from DEMO_PASSWORD when it is set, otherwise a new one is generated."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        clinic = clinic_get_or_create(**DEMO_CLINIC)
        for person in DEMO_STAFF:
            staff_member_save(clinic=clinic, password=password, **person)
        self.stdout.write(self.style.SUCCESS(f"Demo clinic: {clinic.name}"))
        self.stdout.write("Sign in at http://127.0.0.1:8000/ with:")
        for person in DEMO_STAFF:
            self.stdout.write(f"  {person['role']:<16} username: {person['username']:<16} "
                              f"password: {password}")
