from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.api import api

admin.site.site_header = "Rightsize administration"
admin.site.site_title = "Rightsize admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:model-list"), name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", include("accounts.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("advisor/", include("advisor.urls")),
]
