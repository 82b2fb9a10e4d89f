from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("health/", views.token_health, name="token_health"),
    path("wabas/<str:waba_id>/rotate/", views.token_rotate, name="token_rotate"),
    path("wabas/<str:waba_id>/check/", views.token_check_now, name="token_check_now"),
    path("wabas/<str:waba_id>/sync/", views.phone_sync, name="phone_sync"),
    path("numbers/", views.phone_list, name="phone_list"),
    path("numbers/<str:phone_number_id>/", views.phone_detail, name="phone_detail"),
    path("identify/", views.identify, name="identify"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]
