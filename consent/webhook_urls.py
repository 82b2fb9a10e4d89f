from django.urls import path

from consent import views

app_name = "webhooks"
urlpatterns = [
    path("whatsapp/", views.whatsapp_webhook, name="whatsapp"),
]
