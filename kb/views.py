"""The knowledge base's pages: the desk's list, editor, revisions and review;
the portal's reading, search, feedback and the new-ticket suggestions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kb import selectors, services
from kb.forms import ArticleForm, FeedbackForm, LinkForm, ReviewForm
from kb.models import Article, ArticleStatus
from kb.search import KIND
from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import error_messages, posted, submit
from servicedesk.markup import render_markdown
from servicedesk.models import Membership, Role
from servicedesk.search import engine
from tickets import selectors as ticket_selectors

PAGE_SIZE = 25
SUGGESTIONS = 5


def _search_articles(membership: Membership, text: str, limit: int = PAGE_SIZE) -> Any:
    try:
        return engine.search(membership.tenant_id, membership, text, kinds=[KIND], limit=limit)
    except engine.SearchInputError:
        return engine.SearchResult(hits=[])


def _int(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


# --- Desk --------------------------------------------------------------------------------


@require_safe
@tenant_area("desk")
def desk_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    membership = request.membership
    status = request.GET.get("status", "")
    text = request.GET.get("q", "").strip()[:200]
    mine = request.GET.get("mine") == "1"
    result = None
    if text:
        result = _search_articles(membership, text)
        found = {
            a.pk: a for a in selectors.article_list(membership=membership).filter(pk__in=result.ids)
        }
        articles = [found[i] for i in result.ids if i in found]
        page = None
        snippets = {hit.object_id: hit.snippet for hit in result.hits}
    else:
        paginator = Paginator(
            selectors.article_list(membership=membership, status=status, mine=mine), PAGE_SIZE
        )
        page = paginator.get_page(request.GET.get("page"))
        articles = list(page)
        snippets = {}
    return render(
        request,
        "kb/desk/list.html",
        {
            "articles": articles,
            "page": page,
            "snippets": snippets,
            "text": text,
            "status": status,
            "mine": mine,
            "statuses": ArticleStatus.choices,
            "message": result.message if result else "",
            "query": f"status={status}" if status else "",
        },
    )


@require_safe
@tenant_area("desk")
def desk_overdue(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    articles = selectors.overdue_articles(membership=request.membership)
    return render(request, "kb/desk/overdue.html", {"articles": articles})


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_area("desk")
def desk_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = ArticleForm(posted(request), tenant_id=request.membership.tenant_id)
    if request.method == "POST":
        article = submit(
            form,
            lambda data: services.article_create(
                actor=request.membership, fields=form.fields_value()
            ),
        )
        if article is not None:
            messages.success(request, "Draft saved.")
            return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)
    return render(
        request,
        "kb/desk/edit.html",
        {"form": form, "article": None},
        status=400 if form.is_bound else 200,
    )


@require_POST
@tenant_area("desk")
def desk_from_ticket(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.membership, key)
    article = services.article_from_ticket(actor=request.membership, ticket=ticket)
    messages.success(request, f"Draft made from {ticket.key}: check it and submit it for review.")
    return redirect("kb:desk_edit", tenant_slug=tenant_slug, article_id=article.pk)


def _desk_article(request: TenantRequest, article_id: int) -> Article:
    return selectors.get_article_for(request.membership, article_id)


@require_safe
@tenant_area("desk")
def desk_article(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    return _render_article(request, article, ReviewForm())


def _render_article(
    request: TenantRequest, article: Article, review_form: ReviewForm, status: int = 200
) -> HttpResponse:
    membership = request.membership
    revisions = list(selectors.article_revisions(article=article)[:50])
    shows_stats = article.owner_id == membership.user_id or membership.has_role(Role.LEAD)
    return render(
        request,
        "kb/desk/article.html",
        {
            "article": article,
            "body": render_markdown(article.body),
            "revisions": revisions,
            "steps": list(selectors.review_history(article=article)[:20]),
            "can_edit": selectors.can_edit(membership, article),
            "can_review": selectors.can_review(membership, article)
            and article.status in (ArticleStatus.IN_REVIEW, ArticleStatus.PUBLISHED),
            "can_archive": article.status != ArticleStatus.ARCHIVED
            and (membership.has_role(Role.LEAD) or article.owner_id == membership.user_id),
            "review_form": review_form,
            "shows_stats": shows_stats,
            "linked_tickets": selectors.linked_ticket_count(article=article) if shows_stats else 0,
            "feedback": list(selectors.article_feedback(article=article)[:10])
            if shows_stats
            else [],
            "age_days": article.age_days(),
            "teams": list(article.teams.for_tenant(article.tenant_id)),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_area("desk")
def desk_edit(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    if not selectors.can_edit(request.membership, article):
        raise PermissionDenied("An archived article cannot be edited.")
    form = ArticleForm(
        posted(request),
        tenant_id=request.membership.tenant_id,
        initial=ArticleForm.initial_for(article),
    )
    if request.method == "POST":
        saved = submit(
            form,
            lambda data: services.article_update(
                actor=request.membership, article=article, fields=form.fields_value()
            ),
        )
        if saved is not None:
            messages.success(request, "Saved as a new revision.")
            return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)
    return render(
        request,
        "kb/desk/edit.html",
        {"form": form, "article": article},
        status=400 if form.is_bound else 200,
    )


@require_safe
@tenant_area("desk")
def desk_diff(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    revisions = list(selectors.article_revisions(article=article)[:200])
    if not revisions:
        raise Http404("No revisions")
    newest = revisions[0].number
    old_number = _int(request.GET.get("a")) or max(newest - 1, 1)
    new_number = _int(request.GET.get("b")) or newest
    by_number = {r.number: r for r in revisions}
    old = by_number.get(old_number) or selectors.get_revision(article=article, number=old_number)
    new = by_number.get(new_number) or selectors.get_revision(article=article, number=new_number)
    return render(
        request,
        "kb/desk/diff.html",
        {
            "article": article,
            "old": old,
            "new": new,
            "lines": services.revision_diff(old, new),
            "revisions": revisions,
        },
    )


@require_POST
@tenant_area("desk")
def desk_restore(
    request: TenantRequest, tenant_slug: str, article_id: int, revision_number: int
) -> HttpResponse:
    article = _desk_article(request, article_id)
    revision = selectors.get_revision(article=article, number=revision_number)
    try:
        services.revision_restore(actor=request.membership, article=article, revision=revision)
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, _said(error))
    else:
        messages.success(request, f"Revision {revision.number} restored as a new revision.")
    return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)


def _said(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "Not allowed."


@require_POST
@tenant_area("desk")
def desk_submit(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    try:
        services.article_submit(actor=request.membership, article=article)
    except ValidationError as error:
        messages.error(request, _said(error))
    else:
        messages.success(request, "Submitted for review.")
    return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)


@require_POST
@tenant_area("desk")
def desk_review(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    form = ReviewForm(request.POST)
    done = submit(
        form,
        lambda data: services.article_review(
            actor=request.membership,
            article=article,
            publish=data["decision"] == "publish",
            comment=data["comment"],
        ),
    )
    if done is None:
        return _render_article(request, article, form, status=400)
    messages.success(
        request, "Published." if done.status == ArticleStatus.PUBLISHED else "Sent back."
    )
    return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)


@require_POST
@tenant_area("desk")
def desk_archive(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = _desk_article(request, article_id)
    services.article_archive(actor=request.membership, article=article)
    messages.success(request, "Archived.")
    return redirect("kb:desk_article", tenant_slug=tenant_slug, article_id=article.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_area("desk")
def desk_ticket_articles(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """The ticket page's panel (HTMX) or its page without JS: articles
    linked to the ticket and those whose text is like it; POST links one."""
    membership = request.membership
    ticket = ticket_selectors.get_ticket_for(membership, key)
    status = 200
    if request.method == "POST":
        form = LinkForm(request.POST)
        if form.is_valid():
            article = selectors.get_article_for(membership, form.cleaned_data["article"])
            services.article_link(actor=membership, article=article, ticket=ticket)
        else:
            status = 400
    linked = list(selectors.articles_linked_to(membership=membership, ticket_id=ticket.pk))
    linked_ids = {a.pk for a in linked}
    result = _search_articles(membership, f"{ticket.title}", limit=SUGGESTIONS + len(linked))
    suggested = [h for h in result.hits if h.object_id not in linked_ids][:SUGGESTIONS]
    template = (
        "kb/_partials/desk_ticket_articles.html" if request.htmx else "kb/desk/ticket_articles.html"
    )
    return render(
        request,
        template,
        {"ticket": ticket, "linked": linked, "suggested": suggested},
        status=status,
    )


# --- Portal ------------------------------------------------------------------------------


@require_safe
@tenant_area("portal")
def portal_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    reader = selectors.portal_reader(request.membership)
    text = request.GET.get("q", "").strip()[:200]
    from_report = request.GET.get("from") == "report"
    if text:
        result = _search_articles(reader, text)
        hits, message, articles = result.hits, result.message, []
    else:
        hits, message = [], ""
        articles = list(
            selectors.visible_articles(request.membership, portal=True).order_by(
                "category", "title"
            )[:100]
        )
    return render(
        request,
        "kb/portal/list.html",
        {
            "text": text,
            "hits": hits,
            "message": message,
            "articles": articles,
            "from_report": from_report,
        },
    )


@require_safe
@tenant_area("portal")
def portal_article(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = selectors.get_article_for(request.membership, article_id, portal=True)
    from_report = request.GET.get("from") == "report"
    if request.method == "GET":
        services.article_viewed(reader=request.membership, article=article, from_report=from_report)
    return _render_portal_article(request, article, FeedbackForm(), from_report=from_report)


def _render_portal_article(
    request: TenantRequest,
    article: Article,
    form: FeedbackForm,
    *,
    from_report: bool,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "kb/portal/article.html",
        {
            "article": article,
            "body": render_markdown(article.body),
            "form": form,
            "given": selectors.reader_feedback(membership=request.membership, article=article),
            "from_report": from_report,
            "now": timezone.now(),
        },
        status=status,
    )


@require_POST
@tenant_area("portal")
def portal_feedback(request: TenantRequest, tenant_slug: str, article_id: int) -> HttpResponse:
    article = selectors.get_article_for(request.membership, article_id, portal=True)
    form = FeedbackForm(request.POST)
    from_report = request.POST.get("from") == "report"
    done = submit(
        form,
        lambda data: services.feedback_give(
            reader=request.membership,
            article=article,
            is_helpful=data["helpful"] == "yes",
            comment=data["comment"],
        ),
    )
    if done is None:
        for error in error_messages(form):
            messages.error(request, error)
        return _render_portal_article(request, article, form, from_report=from_report, status=400)
    messages.success(
        request,
        "Glad it helped — thanks for telling us."
        if done.is_helpful
        else "Thanks — we'll improve it. You can still report the problem.",
    )
    response = redirect("kb:portal_article", tenant_slug=tenant_slug, article_id=article.pk)
    if from_report:
        response["Location"] += "?from=report"
    return response


@require_safe
@tenant_area("portal")
def portal_suggest(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Articles matching what the requester is typing as a title (HTMX)."""
    text = request.GET.get("title", request.GET.get("q", "")).strip()[:200]
    hits = []
    if len(text) >= 3:
        reader = selectors.portal_reader(request.membership)
        hits = _search_articles(reader, text, limit=SUGGESTIONS).hits
    return render(request, "kb/_partials/report_suggestions.html", {"hits": hits, "text": text})
