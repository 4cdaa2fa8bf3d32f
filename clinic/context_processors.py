from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from clinic.roles import ROLE_LABELS, staff_membership, user_roles


def staff_context(request):
    """The signed-in person's clinic and role, for the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = staff_membership(user)
    roles = [ROLE_LABELS[role] for role in user_roles(user)]
    if user.is_superuser and not roles:
        roles = [_("Superuser")]
    from consultations.selectors import inbox_counts

    return {
        "current_clinic": membership.clinic if membership else None,
        "current_roles": roles,
        # Read only where the top bar shows it (one query).
        "inbox_counts": SimpleLazyObject(lambda: inbox_counts(user=user)),
    }
