from django.urls import path

from dsr.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code_view, name="login_code"),
    path("logout/", views.logout_view, name="logout"),
    path("account/", views.account_view, name="account"),
    path("account/password/", views.password_change_view, name="password_change"),
    path("account/tokens/", views.account_token_create_view, name="account_token_create"),
    path(
        "account/tokens/<str:token_key>/revoke/",
        views.account_token_revoke_view,
        name="account_token_revoke",
    ),
    path("account/backup-codes/", views.account_backup_codes_view, name="account_backup_codes"),
    path("", views.queue_view, name="queue"),
    path("bulk/", views.queue_bulk_view, name="queue_bulk"),
    path("export.csv", views.queue_export_view, name="queue_export"),
    path("requests/<uuid:request_id>/", views.request_detail_view, name="request"),
    path("requests/<uuid:request_id>/jobs.json", views.request_jobs_json_view, name="request_jobs_json"),
    path("requests/<uuid:request_id>/approve/", views.request_approve_view, name="request_approve"),
    path("requests/<uuid:request_id>/deny/", views.request_deny_view, name="request_deny"),
    path("requests/<uuid:request_id>/cancel/", views.request_cancel_view, name="request_cancel"),
    path("requests/<uuid:request_id>/extend/", views.request_extend_view, name="request_extend"),
    path("requests/<uuid:request_id>/assign/", views.request_assign_view, name="request_assign"),
    path("requests/<uuid:request_id>/notes/", views.request_note_view, name="request_note"),
    path("requests/<uuid:request_id>/tasks/", views.request_task_add_view, name="request_task_add"),
    path(
        "requests/<uuid:request_id>/tasks/<int:task_id>/done/",
        views.request_task_done_view,
        name="request_task_done",
    ),
    path("requests/<uuid:request_id>/jobs/<int:job_id>/retry/", views.job_retry_view, name="job_retry"),
    path("requests/<uuid:request_id>/reveal/", views.request_reveal_view, name="request_reveal"),
    path("requests/<uuid:request_id>/package/", views.request_package_view, name="request_package"),
    path("systems/", views.systems_view, name="systems"),
    path("systems/<slug:key>/check/", views.system_check_view, name="system_check"),
    path("systems/<slug:key>/enabled/", views.system_toggle_view, name="system_toggle"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/ccpa.csv", views.report_ccpa_csv_view, name="report_ccpa_csv"),
    path("reports/ccpa.html", views.report_ccpa_html_view, name="report_ccpa_html"),
    path("audit/", views.audit_view, name="audit"),
    path("audit/verify/", views.audit_verify_view, name="audit_verify"),
    path("staff/", views.staff_view_list, name="staff"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<int:user_id>/role/", views.staff_role_view, name="staff_role"),
    path("staff/<int:user_id>/reset-2fa/", views.staff_reset_2fa_view, name="staff_reset_2fa"),
    path("settings/", views.settings_view, name="settings"),
    path("preferences/", views.preferences_view, name="preferences"),
]

# Staff intake and troubleshooting (issue 17): backlog import, test requests, diagnostics bundle.
from dsr.dashboard import intake_views  # noqa: E402

urlpatterns += [
    path("import/", intake_views.import_view, name="import"),
    path("test-requests/", intake_views.test_request_view, name="test_request"),
    path(
        "requests/<uuid:request_id>/diagnostics.json",
        intake_views.request_diagnostics_view,
        name="request_diagnostics",
    ),
]
