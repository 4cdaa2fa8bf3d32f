from django.contrib import admin
from django.urls import include, path

from clinic import views
from consultations.views import home

clinic_patterns = [
    path("", home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("sign-in/code/", views.two_factor, name="two-factor"),
    path("sign-in/authenticator/", views.two_factor_setup, name="two-factor-setup"),
    path("sign-in/authenticator/<str:token>/", views.two_factor_link, name="two-factor-link"),
    path("sign-in/backup-codes/", views.backup_codes, name="backup-codes"),
    path("healthz", views.healthz, name="healthz"),
]

urlpatterns = [
    path("", include((clinic_patterns, "clinic"))),
    path("catalogue/", include("treatments.urls")),
    path("", include("consultations.urls")),
    path("p/", include("consultations.patient_urls")),
    path("admin/", admin.site.urls),
]

handler500 = "clinic.errors.server_error"
