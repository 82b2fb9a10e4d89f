from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/sync/", views.template_sync, name="template_sync"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("messages/", views.message_list, name="message_list"),
    path("compose/", views.compose, name="compose"),
    path("blacklist/", views.blacklist, name="blacklist"),
    path("blacklist/<int:pk>/edit/", views.blacklist_edit, name="blacklist_edit"),
    path("blacklist/<int:pk>/remove/", views.blacklist_remove, name="blacklist_remove"),
    path("broadcasts/", views.broadcast_list, name="broadcast_list"),
    path("broadcasts/new/", views.broadcast_new, name="broadcast_new"),
    path("broadcasts/<int:pk>/", views.broadcast_detail, name="broadcast_detail"),
    path("broadcasts/<int:pk>/cancel/", views.broadcast_cancel, name="broadcast_cancel"),
]
