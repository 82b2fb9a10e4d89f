from django.urls import path

from consent import views

app_name = "consent"
urlpatterns = [
    path("", views.contact_list, name="contact_list"),
    path("export.csv", views.contact_export, name="contact_export"),
    path("<int:pk>/", views.contact_detail, name="contact_detail"),
    path("<int:pk>/consent/", views.contact_consent, name="contact_consent"),
    path("import/", views.import_new, name="import_new"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]
