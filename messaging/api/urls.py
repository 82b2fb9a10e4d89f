from django.urls import path

from messaging.api import views

app_name = "publicapi"
urlpatterns = [
    path("", views.key_list, name="key_list"),
    path("<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("docs/", views.docs, name="docs"),
]
