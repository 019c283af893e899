import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisor.services import UseCaseError, advice_compute


class Command(BaseCommand):
    help = (
        "Recommend a small or a large model for a use case given as JSON (the advisor's keys); "
        "prints the same JSON the API returns, or a text summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="A use-case JSON file, or - for stdin.")
        parser.add_argument("--format", choices=("json", "text"), default="json")

    def handle(self, *args, input: str, format: str, **options):
        try:
            text = sys.stdin.read() if input == "-" else Path(input).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{input}: cannot read the file ({exc.strerror}).") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{input}: not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
        try:
            advice = advice_compute(data=data)
        except UseCaseError as exc:
            problems = "\n".join(f"  {field}: {message}" for field, message in exc.errors.items())
            raise CommandError(f"The use case needs attention:\n{problems}") from exc
        if format == "json":
            self.stdout.write(json.dumps(advice.result, indent=2))
            return
        self._text(advice.result)

    def _text(self, result: dict) -> None:
        write = self.stdout.write
        write(f"Verdict: {result['verdict'] or 'no candidate'} model")
        write(f"Confidence: {result['confidence']['level']} ({result['confidence']['reason']})")
        write("")
        write(f"{'#':>2}  {'model':<28} {'deployment':<22} {'USD/month':>12}  total")
        for rank, c in enumerate(result["ranking"][:10], start=1):
            write(
                f"{rank:>2}  {c['model_name'][:28]:<28} {c['deployment']:<22} "
                f"{c['monthly_cost_usd']:>12,.2f}  {c['total']:.3f}"
            )
        flips = [
            f"{name} weight at {w['flips_at']:.2f}"
            for name, w in result["sensitivity"].get("weights", {}).items()
            if w.get("flips_at") is not None
        ]
        if flips:
            write("")
            write("The top choice changes with: " + "; ".join(flips))
        for change in result["sensitivity"].get("inputs", []):
            if change.get("flips_verdict"):
                write(f"The verdict flips with {change['input']} {change['change']}.")
        if result["proposed_evaluations"]:
            write("")
            write("Evaluations that would decide:")
            for p in result["proposed_evaluations"]:
                write(f"  {p['model']} on {', '.join(p['tasks'])}: {p['reason']}")
