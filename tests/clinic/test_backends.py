"""Reading a staff member on each request (clinic.backends)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from clinic.backends import StaffBackend, user_group_names
from clinic.roles import CATALOGUE_ADMIN, CLINICIAN, user_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def permissions_both_ways(user):
    return StaffBackend().get_all_permissions(fresh(user)), \
        ModelBackend().get_all_permissions(fresh(user))


class TestStaffBackend:
    @pytest.mark.parametrize("role", [CLINICIAN, CATALOGUE_ADMIN, None])
    def test_grants_exactly_what_django_grants_for_each_role(self, clinic, role):
        ours, djangos = permissions_both_ways(UserFactory(clinic=clinic, role=role))

        assert ours == djangos

    def test_adds_a_users_own_permissions_to_their_roles(self, clinic):
        user = UserFactory(clinic=clinic, role=CLINICIAN)
        user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))

        ours, djangos = permissions_both_ways(user)

        assert "clinic.view_auditevent" in ours
        assert ours == djangos

    def test_two_roles_give_both_sets(self, clinic):
        user = UserFactory(clinic=clinic, role=CLINICIAN)
        user.groups.add(Group.objects.get(name=CATALOGUE_ADMIN))

        ours, djangos = permissions_both_ways(user)

        assert {"consultations.view_patient", "treatments.change_treatment"} <= ours
        assert ours == djangos

    def test_a_superuser_has_every_permission(self, superuser):
        ours, djangos = permissions_both_ways(superuser)

        assert len(ours) == Permission.objects.count()
        assert ours == djangos

    def test_an_inactive_account_has_none_and_is_not_read(self, clinician):
        clinician.is_active = False
        clinician.save()

        assert StaffBackend().get_all_permissions(fresh(clinician)) == set()
        assert StaffBackend().get_user(clinician.pk) is None

    def test_a_removed_role_stops_at_the_next_request(self, clinician):
        assert fresh(clinician).has_perm("consultations.view_patient")

        clinician.groups.clear()

        assert not fresh(clinician).has_perm("consultations.view_patient")
        assert user_roles(fresh(clinician)) == []

    def test_reads_the_account_clinic_roles_and_permissions_in_two_queries(
            self, clinician, django_assert_num_queries):
        with django_assert_num_queries(2):
            user = StaffBackend().get_user(clinician.pk)
            assert user.membership.clinic.name == "Harbourside Skin Clinic"
            assert user.has_perm("consultations.view_patient")
            assert user.has_perm("treatments.view_treatment")
            assert user_group_names(user) == {CLINICIAN}
