from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from clinic.models import Clinic, StaffMembership
from clinic.roles import CATALOGUE_ADMIN, ROLE_PERMISSIONS


def clinic_get_or_create(*, name, address="", phone="", email=""):
    clinic, _created = Clinic.objects.get_or_create(
        name=name, defaults={"address": address, "phone": phone, "email": email}
    )
    return clinic


@transaction.atomic
def staff_member_save(*, clinic, username, password, role, first_name="", last_name="",
                      email="", job_title=""):
    """Create or update a staff account in a clinic with exactly one role.

    Catalogue admins get admin-site access (is_staff); clinicians do not.
    """
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}")
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.is_staff = role == CATALOGUE_ADMIN
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    StaffMembership.objects.update_or_create(
        user=user, defaults={"clinic": clinic, "job_title": job_title}
    )
    return user
