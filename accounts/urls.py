from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("alerts/", views.alert_list, name="alert_list"),
]
