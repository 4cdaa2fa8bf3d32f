from django.urls import path

from consultations import views

app_name = "consultations"

urlpatterns = [
    path("patients/", views.PatientListView.as_view(), name="patient-list"),
    path("patients/new/", views.PatientFormView.as_view(), name="patient-create"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="patient-detail"),
    path("patients/<int:pk>/edit/", views.PatientFormView.as_view(), name="patient-edit"),
    path("patients/<int:patient_pk>/consultations/new/", views.IntakeView.as_view(),
         name="consultation-create"),
    path("consultations/<int:pk>/", views.ConsultationDetailView.as_view(),
         name="consultation-detail"),
    path("consultations/<int:pk>/edit/", views.IntakeView.as_view(), name="consultation-edit"),
    path("consultations/<int:pk>/history/", views.ConsultationHistoryView.as_view(),
         name="consultation-history"),
    path("consultations/<int:pk>/recommendations/", views.RecommendationView.as_view(),
         name="consultation-recommendations"),
    path("consultations/<int:pk>/plans/", views.PlanCreateView.as_view(), name="plan-create"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/preview/", views.PlanPreviewView.as_view(), name="plan-preview"),
    path("plans/<int:pk>/procedures/add/", views.PlanProcedureAddView.as_view(),
         name="plan-procedure-add"),
    path("plans/<int:pk>/procedures/<int:procedure_pk>/edit/",
         views.PlanProcedureEditView.as_view(), name="plan-procedure-edit"),
    path("plans/<int:pk>/procedures/<int:procedure_pk>/remove/",
         views.PlanProcedureRemoveView.as_view(), name="plan-procedure-remove"),
    path("plans/<int:pk>/status/", views.PlanStatusView.as_view(), name="plan-status"),
    path("plans/<int:pk>/review/", views.PlanReviewView.as_view(), name="plan-review"),
    path("plans/<int:pk>/questions/<int:question_pk>/answer/",
         views.PlanQuestionAnswerView.as_view(), name="plan-question-answer"),
    path("plans/<int:pk>/acceptance-seen/", views.PlanAcceptanceSeenView.as_view(),
         name="plan-acceptance-seen"),
    path("plans/<int:pk>/share/", views.PlanShareView.as_view(), name="plan-share"),
    path("plans/<int:pk>/links/<int:link_pk>/revoke/", views.PlanLinkRevokeView.as_view(),
         name="plan-link-revoke"),
]
