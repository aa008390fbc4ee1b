from django import template
from django.utils.safestring import SafeString

from servicedesk.markup import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: str) -> SafeString:
    """``{{ ticket.description|markdown }}``: sanitised HTML."""
    return render_markdown(value)
