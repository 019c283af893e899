"""The use case a project manager describes: every field checked, with a message they understand."""

import math

import pytest

from advisor.use_case import (
    FIELDS,
    WEIGHT_NAMES,
    WEIGHT_PRESETS,
    UseCase,
    UseCaseInvalid,
    Weights,
)

from . import use_case_data


def errors_for(**changes) -> dict[str, str]:
    with pytest.raises(UseCaseInvalid) as caught:
        UseCase.from_dict(use_case_data(**changes))
    return caught.value.errors


def test_a_valid_use_case_builds_and_round_trips_with_exactly_the_json_keys():
    use_case = UseCase.from_dict(use_case_data(domain_eval_set="tickets-2024"))

    data = use_case.as_dict()

    assert tuple(data) == FIELDS
    assert UseCase.from_dict(data) == use_case
    assert use_case.task_categories == ("classification",)
    assert use_case.domain_eval_set == "tickets-2024"


def test_the_domain_eval_set_is_optional():
    data = use_case_data()
    data.pop("domain_eval_set", None)

    assert UseCase.from_dict(data).domain_eval_set is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "must not be empty"),
        ("name", "   ", "must not be empty"),
        ("name", 5, "must be text"),
        ("name", None, "must be text"),
        ("name", "x" * 201, "must be at most 200 characters"),
        ("description", None, "must be text"),
        ("domain", ["health"], "must be text"),
        ("task_categories", [], "must be a list of one or more of: classification"),
        ("task_categories", "classification", "must be a list of one or more of"),
        ("task_categories", ["poetry"], "must be a list of one or more of"),
        ("task_categories", [3], "must be a list of one or more of"),
        ("languages", [], "must be a list of one or more language codes"),
        ("languages", ["english"], "such as en, de or pt-BR"),
        ("languages", ["en", 5], "must be a list of one or more language codes"),
        ("languages", "en", "must be a list of one or more language codes"),
        ("data_sensitivity", "secret", "must be one of: public, internal, confidential, regulated"),
        ("data_sensitivity", None, "must be one of"),
        ("data_location", "cloud", "must be one of: on_premises, private_cloud, region, anywhere"),
        ("needs_ownership", "yes", "must be yes (true) or no (false)"),
        ("needs_ownership", 1, "must be yes (true) or no (false)"),
        ("labelled_examples", -1, "must be a whole number of at least 0"),
        ("labelled_examples", 1.5, "must be a whole number of at least 0"),
        ("labelled_examples", "10", "must be a whole number of at least 0"),
        ("labelled_examples", True, "must be a whole number of at least 0"),
        ("labelled_examples", None, "must be a whole number of at least 0"),
        ("monthly_requests", -1, "must be a whole number of at least 0"),
        ("monthly_requests", float("nan"), "must be a whole number of at least 0"),
        ("monthly_requests", 10**13, "must be at most 1,000,000,000,000"),
        ("input_tokens", 0, "must be a whole number of at least 1"),
        ("output_tokens", 0, "must be a whole number of at least 1"),
        ("latency_p95_ms", 0, "must be a whole number of at least 1, or empty"),
        ("latency_p95_ms", "fast", "must be a whole number of at least 1, or empty"),
        ("monthly_budget_usd", -1, "must be an amount of at least 0, or empty"),
        ("monthly_budget_usd", float("inf"), "must be an amount of at least 0, or empty"),
        ("monthly_budget_usd", "100", "must be an amount of at least 0, or empty"),
        ("ml_expertise", "expert", "must be one of: none, some, strong"),
        ("distinct_tasks", 0, "must be a whole number of at least 1"),
        ("distinct_tasks", 1001, "must be at most 1,000"),
        ("min_accuracy", 1.5, "must be between 0 and 1, or empty"),
        ("min_accuracy", -0.1, "must be between 0 and 1, or empty"),
        ("min_accuracy", float("nan"), "must be between 0 and 1, or empty"),
        ("min_accuracy", False, "must be between 0 and 1, or empty"),
        ("domain_eval_set", 5, "must be the name of a domain evaluation set, or empty"),
        ("weights", [0.25, 0.25, 0.25, 0.25], "must give a weight for each of: accuracy, cost"),
    ],
)
def test_a_bad_value_names_the_field_and_says_what_it_must_be(field, value, message):
    errors = errors_for(**{field: value})

    assert list(errors) == [field]
    assert message in errors[field]


def test_the_message_reads_field_colon_rule():
    with pytest.raises(UseCaseInvalid) as caught:
        UseCase.from_dict(use_case_data(monthly_requests=-5))

    assert str(caught.value) == "monthly_requests: must be a whole number of at least 0"


def test_every_wrong_field_is_reported_at_once():
    errors = errors_for(monthly_requests=-1, data_location="moon", min_accuracy=2)

    assert set(errors) == {"monthly_requests", "data_location", "min_accuracy"}


def test_a_missing_field_is_required_and_an_unknown_one_is_refused():
    data = use_case_data(colour="blue")
    del data["monthly_requests"]

    with pytest.raises(UseCaseInvalid) as caught:
        UseCase.from_dict(data)

    assert caught.value.errors == {
        "colour": "is not a field of a use case",
        "monthly_requests": "is required",
    }


@pytest.mark.parametrize("data", [None, [], "use case", 42])
def test_input_that_is_not_an_object_is_refused_as_a_whole(data):
    with pytest.raises(UseCaseInvalid) as caught:
        UseCase.from_dict(data)

    assert caught.value.errors == {"__all__": "must be an object with the use case's fields"}


def weights_with(**changes):
    return {"accuracy": 1, "cost": 1, "privacy": 1, "generality": 1, **changes}


@pytest.mark.parametrize(
    ("weights", "key", "message"),
    [
        ({"accuracy": 1, "cost": 1, "privacy": 1}, "weights.generality", "is required"),
        (weights_with(accuracy=-1), "weights.accuracy", "must be a number of at least 0"),
        (weights_with(accuracy="a"), "weights.accuracy", "must be a number of at least 0"),
        (weights_with(accuracy=0, cost=0, privacy=0, generality=0), "weights", "above 0"),
        (weights_with(speed=1), "weights.speed", "is not a weight"),
    ],
)
def test_bad_weights_name_the_weight(weights, key, message):
    errors = errors_for(weights=weights)

    assert list(errors) == [key]
    assert message in errors[key]


def test_weights_are_normalised_keeping_their_proportions():
    use_case = UseCase.from_dict(
        use_case_data(weights={"accuracy": 2, "cost": 1, "privacy": 1, "generality": 0})
    )

    assert use_case.weights.as_dict() == {
        "accuracy": 0.5,
        "cost": 0.25,
        "privacy": 0.25,
        "generality": 0.0,
    }


def test_whole_numbers_sent_as_floats_are_accepted_and_categories_deduplicated():
    use_case = UseCase.from_dict(
        use_case_data(monthly_requests=1e6, task_categories=["chat", "code", "chat"])
    )

    assert use_case.monthly_requests == 1_000_000
    assert isinstance(use_case.monthly_requests, int)
    assert use_case.task_categories == ("chat", "code")


def test_setting_one_weight_rescales_the_others_proportionally():
    weights = Weights(accuracy=0.4, cost=0.2, privacy=0.2, generality=0.2)

    changed = weights.with_weight("privacy", 0.6)

    assert changed.privacy == 0.6
    assert math.isclose(changed.accuracy, 0.2)
    assert math.isclose(changed.cost, 0.1)
    assert math.isclose(sum(changed.as_tuple()), 1.0)


def test_lowering_the_only_weight_shares_the_rest_equally():
    weights = Weights(accuracy=0, cost=0, privacy=1, generality=0)

    changed = weights.with_weight("privacy", 0.4)

    assert changed.as_tuple() == pytest.approx((0.2, 0.2, 0.4, 0.2))


def test_changed_validates_like_from_dict():
    use_case = UseCase.from_dict(use_case_data())

    assert use_case.changed(monthly_requests=10).monthly_requests == 10
    with pytest.raises(UseCaseInvalid):
        use_case.changed(monthly_requests=-10)


@pytest.mark.parametrize("key", sorted(WEIGHT_PRESETS))
def test_each_preset_is_a_valid_normalised_weighting(key):
    preset = WEIGHT_PRESETS[key]

    use_case = UseCase.from_dict(use_case_data(weights=preset.weights.as_dict()))

    assert preset.label and preset.description
    assert math.isclose(sum(preset.weights.as_tuple()), 1.0)
    assert all(value >= 0 for value in preset.weights.as_tuple())
    assert use_case.weights == preset.weights.normalised()


def test_presets_cover_the_kinds_of_organisation_and_weigh_what_each_cares_about():
    presets = {key: preset.weights for key, preset in WEIGHT_PRESETS.items()}

    assert set(presets) == {"hospital", "startup", "enterprise_assistant", "research"}
    for weights, first in (
        (presets["hospital"], "privacy"),
        (presets["startup"], "cost"),
        (presets["research"], "accuracy"),
    ):
        values = weights.as_dict()
        assert max(values, key=values.get) == first
    assistant = presets["enterprise_assistant"].as_dict()
    assert assistant["generality"] == max(assistant.values())
    assert set(WEIGHT_NAMES) == set(assistant)
