from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as accounts_views

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("contacts/", include("consent.urls")),
    path("messaging/", include("messaging.urls")),
    path("diagnostics/", include("diagnostics.urls")),
    path("webhooks/", include("consent.webhook_urls")),
    path("api-keys/", include("messaging.api.urls")),
    # The public send API keeps the Graph API's URL shape: /v24.0/{phone_number_id}/messages
    path("", include("messaging.api.public_urls")),
]
