"""A saved recommendation as Markdown, to paste into a decision document."""

from .models import Recommendation


def recommendation_markdown(recommendation: Recommendation, url: str) -> str:
    result, use_case = recommendation.result, recommendation.use_case
    confidence = result["confidence"]
    lines = [
        f"# {recommendation.name}",
        "",
        f"**Verdict: {result['verdict'] or 'no candidate'} model** "
        f"(confidence {confidence['level']}: {confidence['reason']})",
        "",
        f"Saved {recommendation.created_at:%Y-%m-%d %H:%M} UTC by {recommendation.owner}. "
        f"Permalink: {url}",
        "",
        "## Use case",
        "",
    ]
    for key, value in use_case.items():
        if key == "weights":
            value = ", ".join(f"{k} {v:.2f}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "–"
        lines.append(f"- {key.replace('_', ' ')}: {value if value not in (None, '') else '–'}")
    lines += [
        "",
        "## Ranking",
        "",
        "| # | model | deployment | monthly cost (USD) | accuracy | cost | privacy | generality "
        "| total |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rank, c in enumerate(result["ranking"][:10], start=1):
        s = c["scores"]
        lines.append(
            f"| {rank} | {c['model_name']} | {c['deployment']} ({c['option']}) | "
            f"{c['monthly_cost_usd']:,.2f} | {s['accuracy']:.2f} | {s['cost']:.2f} | "
            f"{s['privacy']:.2f} | {s['generality']:.2f} | {c['total']:.3f} |"
        )
    lines += ["", "## Evidence", ""]
    for item in recommendation.evidence:
        lines.append(f"- {item['kind']}: {item['label']} {item.get('url') or ''}".rstrip())
    lines += ["", "## What would change the answer", ""]
    for name, weight in result["sensitivity"].get("weights", {}).items():
        if weight.get("flips_at") is not None:
            top = weight["new_top"]
            lines.append(
                f"- {name} weight at {weight['flips_at']:.2f} (now {weight['current']:.2f}): "
                f"{top['model']} ({top['deployment']}) would lead"
            )
    for change in result["sensitivity"].get("inputs", []):
        if change.get("flips_verdict"):
            lines.append(
                f"- {change['input']} {change['change']}: the verdict would become "
                f"{change['verdict']}"
            )
    excluded = result["excluded"]
    if excluded:
        lines += ["", "## Excluded", ""]
        lines += [
            f"- {e['model_name']} ({e['deployment'] or 'all deployments'}): {e['reason']}"
            for e in excluded[:30]
        ]
    if result["proposed_evaluations"]:
        lines += ["", "## Evaluations that would decide", ""]
        lines += [
            f"- {p['model']} on {', '.join(p['tasks'])}: {p['reason']}"
            for p in result["proposed_evaluations"]
        ]
    return "\n".join(lines) + "\n"
