"""Forms of the catalog's own pages (catalog admins curate the rest in the admin)."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from .models import CheckpointLocation, FinetuneMethod, HardwareProfile, LanguageModel, Weights


class CheckpointForm(forms.Form):
    """An engineer's finetuned checkpoint; `catalog.services.checkpoint_register` checks it."""

    base_model = forms.ModelChoiceField(
        queryset=LanguageModel.objects.filter(weights=Weights.OPEN).order_by("name"),
        to_field_name="key",
        help_text="The catalog model it was finetuned from (open weights only).",
    )
    name = forms.CharField(max_length=200, help_text="How the catalog will name it.")
    key = forms.CharField(
        max_length=100,
        required=False,
        help_text="Stable identifier (a-z, 0-9, . _ -); empty: made from the name.",
    )
    method = forms.ChoiceField(choices=FinetuneMethod.choices, initial=FinetuneMethod.LORA)
    data_description = forms.CharField(
        label="Training data",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="What it was tuned on (kind, size, period). Describe it only: the data "
        "itself stays with you.",
    )
    gpu_hours = forms.DecimalField(
        label="GPU-hours", min_value=Decimal(0), max_digits=10, decimal_places=2, initial=0
    )
    hardware = forms.ModelChoiceField(
        queryset=HardwareProfile.objects.order_by("name"),
        to_field_name="key",
        required=False,
        help_text="A catalog hardware profile prices the GPU-hours.",
    )
    hardware_description = forms.CharField(
        label="Hardware (free text)",
        max_length=200,
        required=False,
        help_text="When it is not in the catalog, or details: 'CPU', '8 x H100 on-prem'.",
    )
    trained_on = forms.DateField(
        label="Trained on", widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.now
    )
    location_kind = forms.ChoiceField(
        label="Where it lives", choices=CheckpointLocation.choices, initial=CheckpointLocation.HUB
    )
    location = forms.CharField(
        max_length=500,
        help_text="Hub id (org/name), or a folder under a model root; an adapter's hub id or "
        "folder.",
        widget=forms.TextInput(attrs={"size": 70}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("key") and data.get("name"):
            data["key"] = slugify(data["name"])[:100]
        return data

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the service's errors on the fields they name; the rest above the form."""
        for name, messages in errors.items():
            self.add_error(name if name in self.fields else None, messages)
