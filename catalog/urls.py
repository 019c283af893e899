from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_list, name="model-list"),
    path("models/<str:key>/", views.model_detail, name="model-detail"),
    path("checkpoints/new/", views.checkpoint_create, name="checkpoint-create"),
]
