from django.urls import path

from messaging.api import views

app_name = "publicapi"
urlpatterns = [
    path("", views.key_list, name="key_list"),
]
