"""The two staff roles and exactly what each may do.

Roles are Django groups whose permissions are set from the table below every time the
database is migrated, so a fresh database and an old one end up with the same rights.
Changing what a role may do is a change to this table, reviewed like code.
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

from clinic.backends import user_group_names

CLINICIAN = "Clinician"
CATALOGUE_ADMIN = "Catalogue admin"

ROLE_LABELS = {CLINICIAN: _("Clinician"), CATALOGUE_ADMIN: _("Catalogue admin")}

CATALOGUE_MODELS = [
    "concern",
    "condition",
    "mechanism",
    "depthlevel",
    "treatmentcategory",
    "evidencebasis",
    "evidencesource",
    "requirement",
    "conflictpolicy",
    "datedquestion",
    "conditionwindow",
    "disagreement",
    "treatment",
    "indication",
    "concernexclusion",
    "contraindicationrule",
    "pretreatmentrequirement",
    "aftercarestep",
    "texttranslation",
    "coveragedecision",
    "requirementcontraindication",
    "treatmentconsent",
]

ROLE_PERMISSIONS = {
    # Clinicians read the catalogue and keep their clinic's patients and intakes.
    CLINICIAN: [f"treatments.view_{model}" for model in CATALOGUE_MODELS]
    + [f"consultations.{action}_{model}"
       for model in ("patient", "consultation", "treatmentplan")
       for action in ("view", "add", "change")],
    # Catalogue admins keep the catalogue and read its change history.
    CATALOGUE_ADMIN: [
        f"treatments.{action}_{model}"
        for model in CATALOGUE_MODELS
        for action in ("view", "add", "change", "delete")
    ]
    + ["treatments.view_cataloguechange"],
}


def roles_sync():
    """Create the role groups and give each exactly the permissions in ROLE_PERMISSIONS."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def roles_sync_after_migrate(sender, **kwargs):
    roles_sync()


def staff_membership(user):
    """The signed-in person's membership of a clinic (with the clinic), or None. Read with
    the account on each request (clinic.backends), so asking costs nothing more."""
    if not user.is_authenticated:
        return None
    try:
        return user.membership
    except ObjectDoesNotExist:
        return None


def user_roles(user):
    """The role names a user holds, in a stable order."""
    names = user_group_names(user)
    return [role for role in ROLE_PERMISSIONS if role in names]


def user_has_role(user, role):
    return role in user_roles(user)
