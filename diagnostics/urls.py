from django.urls import path

from diagnostics import views

app_name = "diagnostics"
urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue_list, name="catalogue"),
    path("diagnose/", views.diagnose_view, name="diagnose"),
    path("checklist/", views.checklist, name="checklist"),
    path("checklist/<int:pk>/", views.checklist_run, name="checklist_run"),
    path("checklist/<int:pk>/step/<int:index>/", views.checklist_step, name="checklist_step"),
    path("checklist/<int:pk>/bundle/", views.bundle_from_run, name="bundle_from_run"),
    path("errors/", views.error_log, name="error_log"),
    path("errors/group/<str:key>/", views.error_group, name="error_group"),
    path("errors/<int:pk>/", views.error_event, name="error_event"),
    path("errors/<int:pk>/bundle/", views.bundle_from_event, name="bundle_from_event"),
    path("bundles/<int:pk>/", views.bundle_detail, name="bundle_detail"),
    path("bundles/<int:pk>/download/", views.bundle_download, name="bundle_download"),
]
