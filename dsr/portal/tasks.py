"""Portal tasks: thin, ids and hashes only."""

from __future__ import annotations

from celery import shared_task

from dsr.portal.services import status_link_send


@shared_task(
    name="dsr.portal.tasks.send_status_link", autoretry_for=(OSError,), retry_backoff=30, max_retries=5
)
def send_status_link(reference: str, email_index: str) -> None:
    status_link_send(reference=reference, email_index=email_index)
