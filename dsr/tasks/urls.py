from django.urls import path

from dsr.tasks import views

urlpatterns = [
    path("vendor/confirm/<str:token>", views.vendor_confirm_page, name="vendor-confirm"),
]
