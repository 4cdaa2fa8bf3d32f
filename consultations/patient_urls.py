from django.urls import path

from consultations import patient_views

app_name = "patients"

urlpatterns = [
    path("<str:token>/", patient_views.plan_page, name="plan"),
    path("<str:token>/accept/", patient_views.accept_plan, name="accept"),
    path("<str:token>/question/", patient_views.ask_question, name="question"),
    path("<str:token>/pdf/", patient_views.plan_pdf, name="pdf"),
    path("<str:token>/consent/<int:procedure_pk>/", patient_views.consent_page,
         name="consent"),
    path("<str:token>/consents/<int:consent_pk>/pdf/", patient_views.consent_pdf,
         name="consent-pdf"),
]
