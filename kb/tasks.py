"""Background work of the knowledge base: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from kb import services


@shared_task(name="kb.mark_overdue_articles", queue="default")
def mark_overdue_articles() -> dict[str, int]:
    """Beat, hourly: mark articles past review overdue, notify owners once
    per period, and retry notices still owed."""
    marked = notices = 0
    for _ in range(20):
        sweep = services.articles_mark_overdue()
        marked += sweep.marked
        notices += sweep.notices
        if sweep.marked == 0 and sweep.notices == 0:
            break
    for notice_id in services.review_notices_owed():
        deliver_review_notice.delay(notice_id)
    return {"marked": marked, "notices": notices}


@shared_task(
    name="kb.deliver_review_notice",
    queue="default",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_review_notice(notice_id: int) -> bool:
    return services.review_notice_deliver(notice_id=notice_id)
