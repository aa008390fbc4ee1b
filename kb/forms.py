"""The knowledge base's forms: they parse input, services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from kb.models import Article, Audience
from kb.services import BODY_MAX, TITLE_MAX, ArticleFields
from servicedesk.models import Team


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18}),
        max_length=BODY_MAX,
        required=False,
        help_text="Markdown: **bold**, lists, `code`, links.",
    )
    category = forms.CharField(max_length=80, required=False)
    tags = forms.CharField(
        max_length=600, required=False, help_text="Separated by spaces or commas."
    )
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.AGENTS)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        help_text="Who may read it when only named teams may.",
        widget=forms.CheckboxSelectMultiple,
    )
    owner_team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        label="Owning team",
        help_text="Its members review the article.",
    )
    review_due = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Review due"
    )

    def __init__(self, *args: Any, tenant_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.for_tenant(tenant_id).order_by("name")
        self.fields["teams"].queryset = teams  # type: ignore[attr-defined]
        self.fields["owner_team"].queryset = teams  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, article: Article) -> dict[str, Any]:
        return {
            "title": article.title,
            "body": article.body,
            "category": article.category,
            "tags": " ".join(article.tags),
            "audience": article.audience,
            "teams": list(article.teams.for_tenant(article.tenant_id)),
            "owner_team": article.owner_team,
            "review_due": article.review_due,
        }

    def fields_value(self) -> ArticleFields:
        data = self.cleaned_data
        return ArticleFields(
            title=data["title"],
            body=data["body"],
            category=data["category"],
            tags=data["tags"].replace(",", " ").split(),
            audience=data["audience"],
            teams=list(data["teams"]),
            owner_team=data["owner_team"],
            review_due=data["review_due"],
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("publish", "Publish"), ("send_back", "Send back")])
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")])
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Anything we should add? (optional)",
    )


class LinkForm(forms.Form):
    article = forms.IntegerField(min_value=1, max_value=2**62)
