from decimal import Decimal

from django import template

register = template.Library()

_SCALES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


@register.filter
def count_short(value: int | None, undisclosed: str = "undisclosed") -> str:
    """70000000000 -> '70B'; 1_400_000_000_000 -> '1.4T'; None -> 'undisclosed'."""
    if value is None:
        return undisclosed
    for scale, suffix in _SCALES:
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return str(value)


@register.filter
def percent(value: Decimal | float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


@register.filter
def usd(value: Decimal | float | None) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"${value:,.2f}" if value >= 0.1 else f"${value:,.3f}"
