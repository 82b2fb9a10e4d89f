from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("messages/", views.message_list, name="message_list"),
    path("blacklist/", views.blacklist, name="blacklist"),
]
