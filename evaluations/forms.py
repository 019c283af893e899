from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from catalog.models import LanguageModel

from .importers import format_size
from .models import Backend, Device
from .specs import JobSpec, JobSpecError, parse_model_args


class EvalJobForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=LanguageModel.objects.exclude(weights="never_released").order_by("name"),
        to_field_name="key",
        help_text="The catalog model to evaluate.",
    )
    backend = forms.ChoiceField(choices=Backend.choices, initial=Backend.HF)
    model_args = forms.CharField(
        label="Model arguments",
        required=False,
        help_text="lm-eval's form: pretrained=org/name,revision=main,dtype=bfloat16. "
        "API keys are never entered here: workers read them from their environment.",
        widget=forms.TextInput(attrs={"size": 70}),
    )
    tasks = forms.CharField(
        help_text="lm-eval task names, separated by commas (e.g. mmlu, hellaswag, "
        "rightsize_demo_mc).",
        widget=forms.TextInput(attrs={"size": 70, "list": "task-suggestions"}),
    )
    device = forms.ChoiceField(choices=Device.choices, required=False)
    num_fewshot = forms.IntegerField(label="Shots", required=False, min_value=0, max_value=100)
    limit = forms.IntegerField(
        required=False, min_value=1, help_text="Documents per task; empty for all."
    )
    batch_size = forms.IntegerField(initial=1, min_value=1, max_value=1024)
    seed = forms.IntegerField(initial=1234)
    apply_chat_template = forms.BooleanField(label="Use the chat template", required=False)
    priority = forms.IntegerField(
        initial=5, min_value=0, max_value=9, help_text="0 runs first, 9 last."
    )
    force = forms.BooleanField(
        label="Run again even if an identical finished job exists", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].initial = settings.EVAL_DEFAULT_DEVICE

    def spec(self) -> JobSpec:
        """The job spec from cleaned data; model-argument syntax errors land on the form."""
        data = self.cleaned_data
        try:
            model_args = parse_model_args(data.get("model_args") or "")
        except JobSpecError as exc:
            self.add_error("model_args", exc.message)
            raise
        return JobSpec(
            model_key=data["model"].key,
            backend=data["backend"],
            tasks=tuple(t.strip() for t in data["tasks"].split(",")),
            model_args=model_args,
            num_fewshot=data.get("num_fewshot"),
            limit=data.get("limit"),
            batch_size=data.get("batch_size") or 1,
            seed=data["seed"] if data.get("seed") is not None else 1234,
            apply_chat_template=data.get("apply_chat_template", False),
            device=data.get("device") or "",
            priority=data["priority"] if data.get("priority") is not None else 5,
        )

    def add_spec_error(self, error: JobSpecError) -> None:
        field = error.field if error.field in self.fields else None
        if field == "model_key":
            field = "model"
        self.add_error(field, error.message)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (the pattern from Django's file-upload documentation)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


# ---- Upload checks (security hardening). Nothing in Rightsize unpacks archives: a compressed
# or binary upload is refused here with a clear message, before anything reads it whole, rather
# than reported later as "not UTF-8 text". The parsers still check size, encoding and JSON.
_ARCHIVE_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
)
_BINARY_CONTENT_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf")
_ARCHIVE_CONTENT_TYPES = frozenset(
    {
        "application/zip", "application/x-zip-compressed", "application/gzip",
        "application/x-gzip", "application/x-tar", "application/x-bzip2", "application/x-xz",
        "application/x-7z-compressed", "application/vnd.rar", "application/zstd",
    }
)  # fmt: skip


def check_text_upload(upload) -> None:
    """Refuse an upload over IMPORT_MAX_BYTES, an archive or compressed file (by its first
    bytes or declared type) and a declared binary type, naming the file."""
    name = upload.name
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            f"{name} is {format_size(upload.size)}, over the "
            f"{format_size(settings.IMPORT_MAX_BYTES)} limit."
        )
    head = upload.read(262)
    upload.seek(0)
    what = next((label for magic, label in _ARCHIVE_SIGNATURES if head.startswith(magic)), None)
    if what is None and head[257:262] == b"ustar":
        what = "a tar archive"
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if what is None and content_type in _ARCHIVE_CONTENT_TYPES:
        what = f"an archive ({content_type})"
    if what is not None:
        raise ValidationError(
            f"{name} is {what}: archives are not unpacked here. Upload the uncompressed "
            "file itself."
        )
    if content_type.startswith(_BINARY_CONTENT_TYPES):
        raise ValidationError(f"{name} is {content_type}, not a UTF-8 text file.")


class ResultImportForm(forms.Form):
    files = MultipleFileField(
        label="lm-eval result files",
        help_text="results_*.json from lm-eval 0.4 (--output_path) or 0.3; one or many.",
    )
    model = forms.ModelChoiceField(
        queryset=LanguageModel.objects.order_by("name"),
        to_field_name="key",
        required=False,
        help_text="Only if the files' model name matches no catalog model.",
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if not files:  # a list with no usable file passes MultipleFileField's own check
            raise ValidationError("Choose at least one result file.")
        for upload in files:
            check_text_upload(upload)
        return files


class DomainSetForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="e.g. claims-triage. A new upload of the "
                           "same name with other content becomes a new version.")  # fmt: skip
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    file = forms.FileField(
        label="JSONL file",
        help_text='One question per line: {"question", "choices", "answer": index} for multiple '
        'choice, or {"question", "answer": text} for generation.',
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_text_upload(upload)
        return upload
