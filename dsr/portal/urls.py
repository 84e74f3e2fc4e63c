from django.urls import path

from dsr.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.start, name="start"),
    path("brand.css", views.brand_css, name="brand-css"),
    path("rights/<str:jurisdiction>/", views.rights, name="rights"),
    path("rights/<str:jurisdiction>/<str:request_type>/", views.request_new, name="request"),
    path("received/", views.received, name="received"),
    path("requests/<uuid:request_id>/verify/", views.verify, name="verify"),
    path("status/", views.status_lookup, name="status-lookup"),
    path("status/<str:reference>/<str:signature>/", views.status, name="status"),
]
