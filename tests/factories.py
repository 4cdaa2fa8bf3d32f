import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.models import Clinic, StaffMembership
from clinic.roles import CATALOGUE_ADMIN
from treatments.models import (
    Concern,
    Condition,
    ContraindicationRule,
    DepthLevel,
    EvidenceBasis,
    Indication,
    Mechanism,
    Treatment,
    TreatmentCategory,
)

PASSWORD = "correct-horse-battery-staple"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "1 High Street"
    phone = "+44 20 7946 0000"
    email = factory.LazyAttribute(lambda o: f"desk@{o.name.lower().replace(' ', '-')}.example")


class UserFactory(factory.django.DjangoModelFactory):
    """A staff member. `clinic` makes the membership, `role` the group (None for neither)."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    role = None
    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Alex"
    last_name = "Morgan"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")

    @classmethod
    def _create(cls, model_class, *args, clinic=None, role=None, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        user.set_password(PASSWORD)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
            if role == CATALOGUE_ADMIN:
                user.is_staff = True
        if clinic is not None:
            StaffMembership.objects.create(user=user, clinic=clinic)
        user.save()
        return user


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"TEST_TREATMENT_{n}")
    name = factory.Sequence(lambda n: f"Test treatment {n}")
    category = factory.LazyFunction(lambda: TreatmentCategory.objects.order_by("code").first())
    depth = factory.LazyFunction(lambda: DepthLevel.objects.order_by("rank").first())
    clinician_description = "A treatment made up for a test."
    patient_description = "A treatment made up for a test."
    fitzpatrick_suitable = ["I", "II", "III", "IV", "V", "VI"]
    pih_risk = factory.LazyFunction(lambda: {t: "low" for t in ["I", "II", "III", "IV", "V", "VI"]})

    @factory.post_generation
    def with_parts(treatment, create, extracted, **kwargs):
        """Give the treatment a mechanism, two indications and two rules, like real ones."""
        if not create:
            return
        treatment.mechanisms.add(*Mechanism.objects.order_by("code")[:2])
        for concern in Concern.objects.order_by("code")[:2]:
            Indication.objects.create(treatment=treatment, concern=concern, strength="primary")
        basis = EvidenceBasis.objects.order_by("code").first()
        for severity, condition in zip(["absolute", "relative"],
                                       Condition.objects.order_by("code")[:2]):
            ContraindicationRule.objects.create(
                treatment=treatment, condition=condition, severity=severity,
                rationale="Made up for a test.", basis=basis, confidence="low",
            )


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "consultations.Patient"

    clinic = factory.SubFactory(ClinicFactory)
    full_name = factory.Sequence(lambda n: f"Patient Number{n}")
    date_of_birth = factory.Sequence(lambda n: datetime.date(1970, 1, 1)
                                     + datetime.timedelta(days=n * 37))
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")
    email = factory.LazyAttribute(lambda o: f"{o.full_name.lower().replace(' ', '.')}@example.com")


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "consultations.Consultation"

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(UserFactory)
    consultation_date = factory.LazyFunction(datetime.date.today)
    status = "submitted"
    fitzpatrick = "III"
    skin_type = "normal"
    treatment_area = "full_face"
