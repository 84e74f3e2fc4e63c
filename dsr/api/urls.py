from django.urls import path

from dsr.api import views

urlpatterns = [
    path("requests", views.RequestCreateApi.as_view(), name="request-create"),
    path("requests/<uuid:request_id>/verify", views.RequestVerifyApi.as_view(), name="request-verify"),
    path(
        "requests/<uuid:request_id>/resend-code",
        views.RequestResendCodeApi.as_view(),
        name="request-resend-code",
    ),
    path(
        "requests/<uuid:request_id>/download-code",
        views.DownloadCodeApi.as_view(),
        name="request-download-code",
    ),
    path("requests/<uuid:request_id>/download", views.DownloadApi.as_view(), name="request-download"),
    path("staff/requests", views.StaffRequestListApi.as_view(), name="staff-request-list"),
    path(
        "staff/requests/<uuid:request_id>", views.StaffRequestDetailApi.as_view(), name="staff-request-detail"
    ),
    path(
        "staff/requests/<uuid:request_id>/reveal",
        views.StaffRequestRevealApi.as_view(),
        name="staff-request-reveal",
    ),
    path(
        "staff/requests/<uuid:request_id>/approve",
        views.StaffRequestApproveApi.as_view(),
        name="staff-request-approve",
    ),
    path(
        "staff/requests/<uuid:request_id>/deny",
        views.StaffRequestDenyApi.as_view(),
        name="staff-request-deny",
    ),
    path(
        "staff/requests/<uuid:request_id>/cancel",
        views.StaffRequestCancelApi.as_view(),
        name="staff-request-cancel",
    ),
    path(
        "staff/requests/<uuid:request_id>/jobs/<int:job_id>/retry",
        views.StaffJobRetryApi.as_view(),
        name="staff-job-retry",
    ),
    path("staff/requests/<uuid:request_id>/package", views.StaffPackageApi.as_view(), name="staff-package"),
    path("staff/requests/<uuid:request_id>/audit", views.StaffAuditApi.as_view(), name="staff-request-audit"),
    path(
        "staff/requests/<uuid:request_id>/extend",
        views.StaffRequestExtendApi.as_view(),
        name="staff-request-extend",
    ),
    path(
        "staff/requests/<uuid:request_id>/assign",
        views.StaffRequestAssignApi.as_view(),
        name="staff-request-assign",
    ),
    path(
        "staff/requests/<uuid:request_id>/notes",
        views.StaffRequestNotesApi.as_view(),
        name="staff-request-notes",
    ),
    path("staff/tasks", views.StaffTaskListApi.as_view(), name="staff-task-list"),
    path("staff/tasks/<int:task_id>", views.StaffTaskDetailApi.as_view(), name="staff-task-detail"),
    path(
        "staff/tasks/<int:task_id>/complete", views.StaffTaskCompleteApi.as_view(), name="staff-task-complete"
    ),
]

# Test requests and the diagnostics bundle (issue 17).
from dsr.api import intake_views  # noqa: E402

urlpatterns += [
    path("staff/test-requests", intake_views.StaffTestRequestCreateApi.as_view(), name="staff-test-request"),
    path(
        "staff/requests/<uuid:request_id>/diagnostics",
        intake_views.StaffRequestDiagnosticsApi.as_view(),
        name="staff-request-diagnostics",
    ),
]
