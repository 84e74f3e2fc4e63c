from django.urls import path

from dsr.dashboard.views import account, audit, intake, queue, reports, requests, signin, staff, systems

app_name = "dashboard"

urlpatterns = [
    path("login/", signin.login_view, name="login"),
    path("login/code/", signin.login_code_view, name="login_code"),
    path("logout/", signin.logout_view, name="logout"),
    path("account/", account.account_view, name="account"),
    path("account/password/", account.password_change_view, name="password_change"),
    path("account/tokens/", account.account_token_create_view, name="account_token_create"),
    path(
        "account/tokens/<str:token_key>/revoke/",
        account.account_token_revoke_view,
        name="account_token_revoke",
    ),
    path("account/backup-codes/", account.account_backup_codes_view, name="account_backup_codes"),
    path("", queue.queue_view, name="queue"),
    path("bulk/", queue.queue_bulk_view, name="queue_bulk"),
    path("export.csv", queue.queue_export_view, name="queue_export"),
    path("requests/<uuid:request_id>/", requests.request_detail_view, name="request"),
    path("requests/<uuid:request_id>/jobs.json", requests.request_jobs_json_view, name="request_jobs_json"),
    path("requests/<uuid:request_id>/approve/", requests.request_approve_view, name="request_approve"),
    path("requests/<uuid:request_id>/deny/", requests.request_deny_view, name="request_deny"),
    path("requests/<uuid:request_id>/cancel/", requests.request_cancel_view, name="request_cancel"),
    path("requests/<uuid:request_id>/extend/", requests.request_extend_view, name="request_extend"),
    path("requests/<uuid:request_id>/assign/", requests.request_assign_view, name="request_assign"),
    path("requests/<uuid:request_id>/notes/", requests.request_note_view, name="request_note"),
    path("requests/<uuid:request_id>/tasks/", requests.request_task_add_view, name="request_task_add"),
    path(
        "requests/<uuid:request_id>/tasks/<int:task_id>/done/",
        requests.request_task_done_view,
        name="request_task_done",
    ),
    path("requests/<uuid:request_id>/jobs/<int:job_id>/retry/", requests.job_retry_view, name="job_retry"),
    path("requests/<uuid:request_id>/reveal/", requests.request_reveal_view, name="request_reveal"),
    path("requests/<uuid:request_id>/package/", requests.request_package_view, name="request_package"),
    path(
        "requests/<uuid:request_id>/diagnostics.json",
        intake.request_diagnostics_view,
        name="request_diagnostics",
    ),
    path("systems/", systems.systems_view, name="systems"),
    path("systems/<slug:key>/check/", systems.system_check_view, name="system_check"),
    path("systems/<slug:key>/enabled/", systems.system_toggle_view, name="system_toggle"),
    path("reports/", reports.reports_view, name="reports"),
    path("reports/ccpa.csv", reports.report_ccpa_csv_view, name="report_ccpa_csv"),
    path("reports/ccpa.html", reports.report_ccpa_html_view, name="report_ccpa_html"),
    path("audit/", audit.audit_view, name="audit"),
    path("audit/verify/", audit.audit_verify_view, name="audit_verify"),
    path("staff/", staff.staff_view_list, name="staff"),
    path("staff/new/", staff.staff_create_view, name="staff_create"),
    path("staff/<int:user_id>/role/", staff.staff_role_view, name="staff_role"),
    path("staff/<int:user_id>/reset-2fa/", staff.staff_reset_2fa_view, name="staff_reset_2fa"),
    path("settings/", staff.settings_view, name="settings"),
    path("preferences/", account.preferences_view, name="preferences"),
    # Staff intake and troubleshooting (issue 17): backlog import, test requests.
    path("import/", intake.import_view, name="import"),
    path("test-requests/", intake.test_request_view, name="test_request"),
]
