from django.contrib import admin

from clinic.admin_site import HistoryAdmin
from clinic.audit import audit_shown
from consultations.models import SignedConsent


@admin.register(SignedConsent)
class SignedConsentAdmin(HistoryAdmin):
    """Signed consents: browse, never add, change or delete (the database refuses too)."""

    list_display = ["signed_at", "typed_name", "treatment", "plan", "consent_version",
                    "in_clinic", "language"]
    list_filter = ["in_clinic", "language", "treatment"]
    search_fields = ["typed_name", "=plan__id", "text_sha256"]
    date_hierarchy = "signed_at"
    list_select_related = ["treatment", "plan__consultation__patient"]

    def get_changelist_instance(self, request):
        """The page of consents shown, each one's patient recorded as shown (the list names
        them)."""
        changelist = super().get_changelist_instance(request)
        audit_shown("listed", [consent.plan.consultation.patient
                               for consent in changelist.result_list], user=request.user)
        return changelist
