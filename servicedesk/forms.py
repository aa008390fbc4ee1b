from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string

from servicedesk.links import site_domain, site_is_https
from servicedesk.models import API_SCOPES, Role, Team, Tenant, User, timezone_names
from servicedesk.nesting import NestingTooDeep, check_json_text_depth
from servicedesk.selectors import active_member_users, staff_users
from servicedesk.tasks import enqueue, send_email

T = TypeVar("T")


def posted(request: HttpRequest) -> QueryDict | None:
    """Data to bind a form to: the POST body on a POST (even an empty one,
    which then fails validation), else None for an unbound form."""
    return request.POST if request.method == "POST" else None


def submit(form: forms.Form, action: Callable[[dict[str, Any]], T]) -> T | None:
    """Validate a bound form and hand its data to a service.

    Returns what the service returned, or None when the form or the service
    refused; a service's ``ValidationError`` then shows on the form, by field
    where it names one the form has.
    """
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None


def error_messages(form: forms.Form) -> list[str]:
    """Every error of a form, flattened, for a flash message."""
    return [str(error) for errors in form.errors.values() for error in errors]


class BoundedJSONField(forms.JSONField):
    """Django's JSON form field, refusing JSON nested deeper than
    :data:`~servicedesk.nesting.MAX_NESTING_DEPTH` with a form error (Django's
    own field parses it recursively into a ``RecursionError``)."""

    default_error_messages: ClassVar = {
        "nesting_too_deep": "This is nested deeper than %(limit)s levels.",
    }

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not self.disabled:
            try:
                check_json_text_depth(value)
            except NestingTooDeep as exc:
                raise ValidationError(
                    self.error_messages["nesting_too_deep"],
                    code="nesting_too_deep",
                    params={"limit": exc.limit},
                ) from exc
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Parsed again to show the form with its errors.
        if isinstance(data, str) and not self.disabled:
            try:
                check_json_text_depth(data)
            except NestingTooDeep:
                return InvalidJSONInput(data)
        return super().bound_data(data, initial)


class PersonChoiceField(forms.ModelChoiceField):
    """Choose a person, shown by name; the queryset is set per tenant."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the e-mail goes through the task queue, so a
    slow or refusing mail server neither stalls nor breaks the page, and its
    link points at ``SITE_URL``."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django takes the link's host from the request's Host header (port
        # and all: ALLOWED_HOSTS ignores the port) and its scheme from the
        # request; a link that leaves the system names the configured site.
        kwargs["domain_override"] = site_domain()
        kwargs["use_https"] = site_is_https()
        super().save(*args, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        enqueue(send_email, subject, body, to_email)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for e-mail as the login."""

    username = forms.EmailField(
        label="E-mail",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid_login": "That e-mail and password do not match an account. "
            "Passwords are case-sensitive.",
        }


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REQUESTER)


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)


class TenantSettingsForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Times on this organisation's pages are shown in this zone.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["timezone"]).choices = [
            (name, name) for name in timezone_names()
        ]


class MemberFilterForm(forms.Form):
    """The filters above the member list (GET); every field is optional."""

    q = forms.CharField(label="Name or e-mail", max_length=100, required=False)
    role = forms.ChoiceField(choices=[("", "Any role"), *Role.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("active", "Active"), ("inactive", "Deactivated")],
        required=False,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(
        label="Short name",
        max_length=50,
        required=False,
        help_text="Used in addresses; made from the name when left empty.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class TeamEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class StaffChoiceForm(forms.Form):
    """Pick one of the tenant's agents, leads or admins (never a foreign user)."""

    user = PersonChoiceField(queryset=User.objects.none(), label="Add agent")

    def __init__(self, *args: Any, tenant: Tenant, team: Team | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        queryset = staff_users(tenant=tenant)
        if team is not None:
            queryset = queryset.exclude(pk__in=team.members.values("pk"))
        cast(PersonChoiceField, self.fields["user"]).queryset = queryset


class TeamLeadForm(forms.Form):
    lead = PersonChoiceField(
        queryset=User.objects.none(), required=False, label="Lead", empty_label="No lead"
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["lead"]).queryset = staff_users(tenant=tenant)


class AcceptInvitationForm(forms.Form):
    """Account details for a person invited who has no account yet."""

    full_name = forms.CharField(max_length=150, label="Your name")
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = User(email=self.email, full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class MemberChoiceField(forms.ModelChoiceField):
    """Choose a member, shown by name and e-mail (names need not be unique)."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} <{obj.email}>" if obj.full_name else str(obj.email)


class ApiTokenForm(forms.Form):
    """Issue an API token for one of the tenant's active members."""

    user = MemberChoiceField(
        queryset=User.objects.none(),
        label="Member",
        help_text="The token acts as this person, within their role.",
    )
    name = forms.CharField(
        max_length=100, help_text="What will use the token, e.g. “Monitoring alerts”."
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="What the token may do."
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=3650,
        required=False,
        initial=90,
        help_text="Leave empty for a token that does not expire.",
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["user"]).queryset = active_member_users(tenant=tenant)
        # Read per form, so scopes other apps register later are offered too.
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [
            (scope, f"{scope} — {description}") for scope, description in API_SCOPES.items()
        ]
