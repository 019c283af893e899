from django.urls import path

from . import views

app_name = "advisor"

urlpatterns = [
    path("", views.advise, name="advise"),
    path("recommendations/", views.recommendation_list, name="recommendation-list"),
    path("notices/", views.notice_list, name="notices"),
    path("r/<uuid:slug>/", views.recommendation_detail, name="recommendation"),
    path("r/<uuid:slug>/export.md", views.recommendation_export, name="recommendation-export"),
    path("r/<uuid:slug>/rerun/", views.recommendation_rerun, name="recommendation-rerun"),
    path(
        "r/<uuid:slug>/queue-evaluations/",
        views.proposed_evaluations_queue,
        name="queue-evaluations",
    ),
]
