"""What would change the answer.

Weights: each candidate's total is linear in one weight when the others are rescaled
proportionally, t(v) = O + v (S - O), with O its total from the other weights alone and S its
score on this weight. The top choice as v moves is the upper envelope of these lines; walking it
from the current weight finds exactly where another (model, deployment) takes over, in either
direction. Only lines not dominated by the current top at both ends (v = 0 and v = 1) can ever
take over, so the walk runs over a small Pareto front rather than every candidate.

Inputs: the decision is rerun with one input changed at a time (monthly requests x10 and /10,
each other data location, labelled examples 0 and x10) to see whether the verdict flips.
"""

from __future__ import annotations

from advisor.use_case import DATA_LOCATIONS, MAX_EXAMPLES, MAX_REQUESTS, WEIGHT_NAMES

from .candidates import Outcome, Prepared, Scored, evaluate
from .types import InputChange, WeightSensitivity

_EPS = 1e-12


def _choice(scored: Scored) -> tuple[str, str]:
    return scored.choice


def _lines(ranked: list[Scored], index: int, weight: float) -> list[tuple[float, float, int]]:
    """(O, S, position) per candidate for weight `index`: t(0) = O and t(1) = S."""
    rest = 1.0 - weight
    lines: list[tuple[float, float, int]] = []
    if rest > 1e-9:
        for position, scored in enumerate(ranked):
            s = scored.scores[index]
            lines.append(((scored.total - weight * s) / rest, s, position))
    else:  # the other weights are all 0: they share the rest equally
        for position, scored in enumerate(ranked):
            scores = scored.scores
            others = (sum(scores) - scores[index]) / (len(scores) - 1)
            lines.append((others, scores[index], position))
    return lines


def _front(lines: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """The lines that are best at some v in 0..1 could only be these: the top (position 0) and
    the Pareto front of the others that beat it at v = 0 or at v = 1."""
    top = lines[0]
    contenders = [line for line in lines[1:] if line[0] > top[0] or line[1] > top[1]]
    contenders.sort(key=lambda line: (-line[0], -line[1], line[2]))
    front = [top]
    best_s = float("-inf")
    for line in contenders:
        if line[1] > best_s:
            front.append(line)
            best_s = line[1]
    return front


def _walk(
    ranked: list[Scored], front: list[tuple[float, float, int]], start: float, direction: int
) -> tuple[float, int] | None:
    """From the top at `start`, follow the envelope up (+1) or down (-1) until another choice
    takes over; (value, position of the new top) or None within 0..1."""
    first = _choice(ranked[front[0][2]])
    current = front[0]
    v = start
    while True:
        o_c, s_c, _ = current
        slope_c = s_c - o_c
        best: tuple[float, float, int, tuple[float, float, int]] | None = None
        for line in front:
            if line is current:
                continue
            o, s, position = line
            slope_diff = (s - o) - slope_c
            if slope_diff * direction <= _EPS:
                continue
            crossing = (o_c - o) / slope_diff
            if direction > 0 and not v - 1e-9 <= crossing <= 1.0:
                continue
            if direction < 0 and not 0.0 <= crossing <= v + 1e-9:
                continue
            # Nearest crossing first; at the same point the steepest line takes over.
            key = (crossing * direction, -slope_diff * direction, position)
            if best is None or key < best[:3]:
                best = (*key, line)
        if best is None:
            return None
        crossing = best[0] * direction
        current = best[3]
        if _choice(ranked[current[2]]) != first:
            return (min(1.0, max(0.0, crossing)), current[2])
        v = crossing


def weight_sensitivity(outcome: Outcome) -> tuple[WeightSensitivity, ...]:
    """For each weight, where the top choice changes (the others rescaled proportionally)."""
    ranked = outcome.ranked
    result: list[WeightSensitivity] = []
    for index, name in enumerate(WEIGHT_NAMES):
        current = outcome.weights[index]
        if not ranked:
            result.append(WeightSensitivity(name, current, None, None, None, None, None))
            continue
        front = _front(_lines(ranked, index, current))
        above = _walk(ranked, front, current, +1) if len(front) > 1 else None
        below = _walk(ranked, front, current, -1) if len(front) > 1 else None
        nearest = None
        if above and below:
            nearest = above if above[0] - current <= current - below[0] else below
        else:
            nearest = above or below
        new_top = _choice(ranked[nearest[1]]) if nearest else (None, None)
        result.append(
            WeightSensitivity(
                weight=name,
                current=current,
                flips_at=nearest[0] if nearest else None,
                flips_below=below[0] if below else None,
                flips_above=above[0] if above else None,
                new_top_model=new_top[0],
                new_top_deployment=new_top[1],
            )
        )
    return tuple(result)


def _changes(prepared: Prepared) -> list[tuple[str, str, object]]:
    """(input, change, new value) for each single change worth asking about."""
    use_case = prepared.use_case
    changes: list[tuple[str, str, object]] = []
    requests = use_case.monthly_requests
    if requests > 0:
        changes.append(("monthly_requests", "x10", min(requests * 10, MAX_REQUESTS)))
        changes.append(("monthly_requests", "/10", requests // 10))
    for location in DATA_LOCATIONS:
        if location != use_case.data_location:
            changes.append(("data_location", f"-> {location}", location))
    examples = use_case.labelled_examples
    if examples > 0:
        changes.append(("labelled_examples", "-> 0", 0))
        changes.append(("labelled_examples", "x10", min(examples * 10, MAX_EXAMPLES)))
    return changes


def input_sensitivity(prepared: Prepared, outcome: Outcome) -> tuple[InputChange, ...]:
    """Each single input change, the verdict and top choice it leads to, and whether it flips
    the verdict between small and large."""
    verdict = outcome.verdict
    result: list[InputChange] = []
    use_case = prepared.use_case
    base = {
        "monthly_requests": use_case.monthly_requests,
        "data_location": use_case.data_location,
        "labelled_examples": use_case.labelled_examples,
    }
    for name, change, value in _changes(prepared):
        rerun = evaluate(prepared, explain=False, **{**base, name: value})
        top = rerun.ranked[0] if rerun.ranked else None
        new_verdict = rerun.verdict
        result.append(
            InputChange(
                input=name,
                change=change,
                value=value,
                verdict=new_verdict,
                top_model=top.option.model.key if top else None,
                top_deployment=top.option.deployment if top else None,
                flips_verdict=verdict is not None
                and new_verdict is not None
                and new_verdict != verdict,
            )
        )
    return tuple(result)
