from django.urls import path

from diagnostics import views

app_name = "diagnostics"
urlpatterns = [
    path("", views.home, name="home"),
]
