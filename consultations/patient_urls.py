from django.urls import path

from consultations import patient_views

app_name = "patients"

urlpatterns = [
    path("<str:token>/", patient_views.plan_page, name="plan"),
    path("<str:token>/accept/", patient_views.accept_plan, name="accept"),
    path("<str:token>/question/", patient_views.ask_question, name="question"),
    path("<str:token>/pdf/", patient_views.plan_pdf, name="pdf"),
]
