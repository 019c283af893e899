"""The use-case form. It only gathers the fields; the use case's own validation
(advisor/use_case.py) says what is wrong, so the form, the API and the command line answer
bad input with the same messages."""

from typing import Any

from django import forms

from evaluations.models import DomainEvalSet

from .use_case import (
    DATA_LOCATIONS,
    DATA_SENSITIVITIES,
    ML_EXPERTISE,
    TASK_CATEGORIES,
    WEIGHT_NAMES,
    WEIGHT_PRESETS,
)

LABELS = {
    "classification": "Classification",
    "extraction": "Information extraction",
    "summarisation": "Summarisation",
    "question_answering": "Question answering",
    "chat": "Chat / assistant",
    "code": "Code",
    "reasoning": "Multi-step reasoning",
    "translation": "Translation",
    "generation": "Text generation",
    "public": "Public",
    "internal": "Internal",
    "confidential": "Confidential",
    "regulated": "Regulated (health, finance, ...)",
    "anywhere": "Anywhere (any provider)",
    "region": "Within our region",
    "private_cloud": "Our private cloud only",
    "on_premises": "Never leaves our premises",
    "none": "None",
    "some": "Some",
    "strong": "Strong",
}


def _choices(values):
    return [(value, LABELS.get(value, value)) for value in values]


class UseCaseForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    task_categories = forms.MultipleChoiceField(
        choices=_choices(TASK_CATEGORIES), widget=forms.CheckboxSelectMultiple, required=False
    )
    domain = forms.CharField(required=False, help_text="e.g. health care, insurance claims")
    languages = forms.CharField(
        required=False, initial="en", help_text="Language codes, separated by commas: de, en"
    )
    data_sensitivity = forms.ChoiceField(choices=_choices(DATA_SENSITIVITIES), initial="internal")
    data_location = forms.ChoiceField(
        label="Where data may be sent", choices=_choices(DATA_LOCATIONS[::-1]), initial="anywhere"
    )
    needs_ownership = forms.BooleanField(
        label="We must own the model (open weights, our licence)", required=False
    )
    labelled_examples = forms.CharField(
        initial="0", help_text="Examples of your own, labelled, that a model could be tuned on."
    )
    monthly_requests = forms.CharField(initial="10000")
    input_tokens = forms.CharField(label="Input tokens per request", initial="500")
    output_tokens = forms.CharField(label="Output tokens per request", initial="200")
    latency_p95_ms = forms.CharField(label="Latency p95 (ms)", required=False)
    monthly_budget_usd = forms.CharField(label="Monthly budget (USD)", required=False)
    ml_expertise = forms.ChoiceField(
        label="ML expertise in the team", choices=_choices(ML_EXPERTISE), initial="some"
    )
    distinct_tasks = forms.CharField(
        initial="1", help_text="How many different jobs the model(s) must do."
    )
    min_accuracy = forms.CharField(
        label="Minimum accuracy (0 to 1)", required=False, help_text="Leave empty if none."
    )
    preset = forms.ChoiceField(
        label="Weights preset",
        required=False,
        choices=[("", "Custom")] + [(key, p.label) for key, p in WEIGHT_PRESETS.items()],
        help_text="Fills the four weights below; adjust them freely.",
    )
    weight_accuracy = forms.CharField(label="Accuracy", initial="0.3")
    weight_cost = forms.CharField(label="Cost", initial="0.3")
    weight_privacy = forms.CharField(label="Privacy", initial="0.2")
    weight_generality = forms.CharField(label="Generality", initial="0.2")
    domain_eval_set = forms.ChoiceField(label="Domain evaluation set", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = DomainEvalSet.objects.order_by("name").values_list("name", flat=True).distinct()
        self.fields["domain_eval_set"].choices = [("", "None")] + [(n, n) for n in names]

    def use_case_data(self) -> dict[str, Any]:
        """The fields as the advisor's JSON; values are checked by UseCase.from_dict."""
        data = self.cleaned_data
        preset = WEIGHT_PRESETS.get(data.get("preset") or "")
        weights = (
            preset.weights.as_dict()
            if preset and self._preset_changed()
            else {name: _number(data.get(f"weight_{name}")) for name in WEIGHT_NAMES}
        )
        return {
            "name": data.get("name", ""),
            "description": data.get("description", ""),
            "task_categories": list(data.get("task_categories") or []),
            "domain": data.get("domain", ""),
            "languages": [c.strip() for c in (data.get("languages") or "").split(",") if c.strip()],
            "data_sensitivity": data.get("data_sensitivity"),
            "data_location": data.get("data_location"),
            "needs_ownership": bool(data.get("needs_ownership")),
            "labelled_examples": _number(data.get("labelled_examples")),
            "monthly_requests": _number(data.get("monthly_requests")),
            "input_tokens": _number(data.get("input_tokens")),
            "output_tokens": _number(data.get("output_tokens")),
            "latency_p95_ms": _number(data.get("latency_p95_ms"), empty=None),
            "monthly_budget_usd": _number(data.get("monthly_budget_usd"), empty=None),
            "ml_expertise": data.get("ml_expertise"),
            "distinct_tasks": _number(data.get("distinct_tasks")),
            "min_accuracy": _number(data.get("min_accuracy"), empty=None),
            "weights": weights,
            "domain_eval_set": data.get("domain_eval_set") or None,
        }

    def _preset_changed(self) -> bool:
        return "preset" in self.changed_data and self.data.get("last_preset") != self.data.get(
            "preset"
        )

    def add_use_case_errors(self, errors: dict[str, str]) -> None:
        for key, message in errors.items():
            field = key.replace("weights.", "weight_") if key.startswith("weights.") else key
            if key == "weights":
                field = "weight_accuracy"
            self.add_error(field if field in self.fields else None, f"{message}.")

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Form values for a saved use case (to edit or re-run it)."""
        initial = {k: v for k, v in data.items() if k in cls.base_fields}
        initial["languages"] = ", ".join(data.get("languages") or [])
        for name, value in (data.get("weights") or {}).items():
            initial[f"weight_{name}"] = round(value, 3)
        return initial


def _number(text: Any, *, empty: Any = "") -> Any:
    """'12,000' -> 12000, '0.8' -> 0.8; anything else is passed on for the use case to refuse."""
    if text in (None, ""):
        return empty
    cleaned = str(text).replace(",", "").replace("_", "").strip()
    for kind in (int, float):
        try:
            return kind(cleaned)
        except ValueError:
            pass
    return text
