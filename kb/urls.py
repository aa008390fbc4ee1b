from django.urls import path

from kb import views

app_name = "kb"

urlpatterns = [
    path("desk/kb/", views.desk_list, name="desk_list"),
    path("desk/kb/overdue/", views.desk_overdue, name="desk_overdue"),
    path("desk/kb/new/", views.desk_create, name="desk_create"),
    path("desk/kb/from-ticket/<str:key>/", views.desk_from_ticket, name="desk_from_ticket"),
    path("desk/kb/<int:article_id>/", views.desk_article, name="desk_article"),
    path("desk/kb/<int:article_id>/edit/", views.desk_edit, name="desk_edit"),
    path("desk/kb/<int:article_id>/diff/", views.desk_diff, name="desk_diff"),
    path(
        "desk/kb/<int:article_id>/revisions/<int:revision_number>/restore/",
        views.desk_restore,
        name="desk_restore",
    ),
    path("desk/kb/<int:article_id>/submit/", views.desk_submit, name="desk_submit"),
    path("desk/kb/<int:article_id>/review/", views.desk_review, name="desk_review"),
    path("desk/kb/<int:article_id>/archive/", views.desk_archive, name="desk_archive"),
    path(
        "desk/tickets/<str:key>/articles/", views.desk_ticket_articles, name="desk_ticket_articles"
    ),
    path("portal/kb/", views.portal_list, name="portal_list"),
    path("portal/kb/suggest/", views.portal_suggest, name="portal_suggest"),
    path("portal/kb/<int:article_id>/", views.portal_article, name="portal_article"),
    path("portal/kb/<int:article_id>/feedback/", views.portal_feedback, name="portal_feedback"),
]
