"""What would change the answer.

Weights: each candidate's total is linear in one weight when the others are rescaled
proportionally, t(v) = O + v (S - O), with O its total from the other weights alone and S its
score on this weight. The top choice as v moves is the upper envelope of these lines; walking it
from the current weight finds exactly where another (model, deployment) takes over, in either
direction. Only lines not dominated by the current top at both ends (v = 0 and v = 1) can ever
take over, so the walk runs over a small Pareto front rather than every candidate (the lines and
the front are found for all candidates at once, with numpy).

Inputs: the decision is rerun with one input changed at a time (monthly requests x10 and /10,
each other data location, labelled examples 0 and x10) to see whether the verdict flips; a rerun
finds only the top candidate, and reuses the costs of another with the same volume and labelled
examples.
"""

from __future__ import annotations

import numpy as np

from advisor.use_case import DATA_LOCATIONS, MAX_EXAMPLES, MAX_REQUESTS, WEIGHT_NAMES

from .candidates import Outcome, Prepared, scenario, top_option
from .types import InputChange, WeightSensitivity

_EPS = 1e-12

Line = tuple[float, float, int]  # (O, S, position in the ranking)


def _lines(outcome: Outcome, index: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """(O, S) per candidate for weight `index`: t(0) = O and t(1) = S."""
    scores = outcome.scores
    s = scores[index]
    rest = 1.0 - weight
    if rest > 1e-9:
        return (outcome.totals - weight * s) / rest, s
    # The other weights are all 0: they share the rest equally.
    total = scores[0] + scores[1] + scores[2] + scores[3]
    return (total - s) / (len(scores) - 1), s


def _front(o: np.ndarray, s: np.ndarray) -> list[Line]:
    """The lines that are best at some v in 0..1 could only be these: the top (position 0) and
    the Pareto front of the others that beat it at v = 0 or at v = 1."""
    front: list[Line] = [(float(o[0]), float(s[0]), 0)]
    positions = np.flatnonzero((o[1:] > o[0]) | (s[1:] > s[0])) + 1
    if not len(positions):
        return front
    order = np.lexsort((positions, -s[positions], -o[positions]))
    positions = positions[order]
    o_sorted, s_sorted = o[positions], s[positions]
    # Kept when its S beats every S before it (in this order).
    keep = np.ones(len(positions), dtype=bool)
    keep[1:] = s_sorted[1:] > np.maximum.accumulate(s_sorted)[:-1]
    front.extend(
        zip(o_sorted[keep].tolist(), s_sorted[keep].tolist(), positions[keep].tolist(), strict=True)
    )
    return front


def _walk(
    choices: np.ndarray, front: list[Line], start: float, direction: int
) -> tuple[float, int] | None:
    """From the top at `start`, follow the envelope up (+1) or down (-1) until another choice
    takes over; (value, position of the new top) or None within 0..1."""
    first = choices[front[0][2]]
    current = front[0]
    v = start
    while True:
        o_c, s_c, _ = current
        slope_c = s_c - o_c
        best: tuple[float, float, int, Line] | None = None
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
        if choices[current[2]] != first:
            return (min(1.0, max(0.0, crossing)), current[2])
        v = crossing


def weight_sensitivity(outcome: Outcome) -> tuple[WeightSensitivity, ...]:
    """For each weight, where the top choice changes (the others rescaled proportionally)."""
    result: list[WeightSensitivity] = []
    for index, name in enumerate(WEIGHT_NAMES):
        current = outcome.weights[index]
        if not len(outcome):
            result.append(WeightSensitivity(name, current, None, None, None, None, None))
            continue
        front = _front(*_lines(outcome, index, current))
        above = _walk(outcome.choices, front, current, +1) if len(front) > 1 else None
        below = _walk(outcome.choices, front, current, -1) if len(front) > 1 else None
        nearest = None
        if above and below:
            nearest = above if above[0] - current <= current - below[0] else below
        else:
            nearest = above or below
        new_top = outcome.choice(nearest[1]) if nearest else (None, None)
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
    options = prepared.columns.options
    base = {
        "monthly_requests": use_case.monthly_requests,
        "data_location": use_case.data_location,
        "labelled_examples": use_case.labelled_examples,
    }
    for name, change, value in _changes(prepared):
        inputs = {**base, name: value}
        found = scenario(prepared, inputs["monthly_requests"], inputs["labelled_examples"])
        row = top_option(prepared, inputs["data_location"], found)
        top = None if row is None else options[row]
        new_verdict = None if top is None else ("small" if top.model.small else "large")
        result.append(
            InputChange(
                input=name,
                change=change,
                value=value,
                verdict=new_verdict,
                top_model=top.model.key if top else None,
                top_deployment=top.deployment if top else None,
                flips_verdict=verdict is not None
                and new_verdict is not None
                and new_verdict != verdict,
            )
        )
    return tuple(result)
