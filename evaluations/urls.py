from django.urls import path

from . import comparison, views

app_name = "evaluations"

urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/new/", views.job_create, name="job-create"),
    path("jobs/compare/", views.job_compare, name="job-compare"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("models/<str:key>/runs/", views.model_runs, name="model-runs"),
    path("matrix/", views.results_matrix, name="matrix"),
    path("import/", views.results_import, name="import"),
    path("domain-sets/", views.domain_sets, name="domain-sets"),
    path("domain-sets/<int:pk>/compare/", comparison.domain_set_compare, name="domain-set-compare"),
]
