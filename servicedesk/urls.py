"""The core's own URLs: accounts, the tenant admin area, health, the API's
schema and ``/api/v1/me/``. ``config.urls`` mounts them beside the apps'."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from servicedesk import api, health, tenant_admin, views
from servicedesk.forms import EmailAuthenticationForm, QueuedPasswordResetForm

accounts_patterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

tenant_admin_patterns: tuple[list[URLPattern], str] = (
    [
        path("", tenant_admin.overview, name="overview"),
        path("settings/", tenant_admin.tenant_settings, name="settings"),
        path("members/", tenant_admin.members, name="members"),
        path("members/<int:membership_id>/", tenant_admin.member_detail, name="member"),
        path(
            "members/<int:membership_id>/active/",
            tenant_admin.member_set_active,
            name="member_set_active",
        ),
        path(
            "invitations/<int:invitation_id>/resend/",
            tenant_admin.invitation_resend,
            name="invitation_resend",
        ),
        path(
            "invitations/<int:invitation_id>/revoke/",
            tenant_admin.invitation_revoke,
            name="invitation_revoke",
        ),
        path("teams/", tenant_admin.teams, name="teams"),
        path("teams/<slug:team_slug>/", tenant_admin.team_detail, name="team"),
        path("teams/<slug:team_slug>/members/", tenant_admin.team_members, name="team_members"),
        path("api-tokens/", tenant_admin.api_tokens, name="api_tokens"),
        path(
            "api-tokens/<int:token_id>/revoke/",
            tenant_admin.api_token_revoke,
            name="api_token_revoke",
        ),
    ],
    "tenant_admin",
)

# Under ``/t/<tenant_slug>/``.
tenant_patterns: list[URLPattern | URLResolver] = [
    path("", views.tenant_home, name="tenant_home"),
    path("admin/", include(tenant_admin_patterns)),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include(accounts_patterns)),
    path("tenants/", views.tenant_switcher, name="tenant_switcher"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline
    # script); its own stylesheet still sets inline styles.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api_schema")
        ),
        name="api_docs",
    ),
    path("api/v1/me/", api.MeView.as_view(), name="api_me"),
]
