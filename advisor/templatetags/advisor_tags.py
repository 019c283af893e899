from django import template

register = template.Library()


@register.filter
def source_url(source: str, evidence: list[dict]) -> str:
    """The link behind an engine figure's source, from the recommendation's evidence list."""
    for item in evidence or ():
        if item.get("source") == source:
            return item.get("url") or ""
    return ""


@register.filter
def label(value: str) -> str:
    """snake_case -> words: self_hosted_finetuned -> self-hosted, finetuned."""
    words = {
        "api": "hosted API",
        "self_hosted": "self-hosted",
        "self_hosted_finetuned": "self-hosted, finetuned",
        "api_anywhere": "a third-party API (anywhere)",
        "api_region": "a third-party API (in region)",
        "on_premises": "your premises",
        "private_cloud": "your private cloud",
    }
    return words.get(value, str(value).replace("_", " "))


@register.filter
def usd(value) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"
