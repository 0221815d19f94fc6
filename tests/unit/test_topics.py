import pytest

from shouwang.contract import topics
from shouwang.domain.model import SensorKind

PREFIX = "shouwang/v1"


def test_a_reading_topic_names_hub_sensor_and_kind() -> None:
    parsed = topics.parse("shouwang/v1/hubs/h-0042/water", PREFIX)
    assert parsed == topics.ReadingTopic("h-0042", "water", SensorKind.WATER)


def test_a_second_sensor_of_a_kind_keeps_its_suffix() -> None:
    parsed = topics.parse("shouwang/v1/hubs/h-1/door.balcony", PREFIX)
    assert isinstance(parsed, topics.ReadingTopic)
    assert (parsed.sensor, parsed.kind) == ("door.balcony", SensorKind.DOOR)


def test_the_status_topic_is_presence() -> None:
    assert topics.parse("shouwang/v1/hubs/h-1/status", PREFIX) == topics.StatusTopic("h-1")


@pytest.mark.parametrize("topic", [
    "shouwang/v1/hubs/h-1/radiation",
    "shouwang/v1/hubs/h-1/water/extra",
    "shouwang/v2/hubs/h-1/water",
    "shouwang/v1/hubs//water",
    "shouwang/v1/hubs/h 1/water",
    "shouwang/v1/hubs/h-1/door.",
])
def test_topics_outside_the_contract_are_refused_with_a_reason(topic: str) -> None:
    with pytest.raises(topics.TopicError) as refused:
        topics.parse(topic, PREFIX)
    assert str(refused.value)


def test_the_hub_is_named_even_when_the_rest_is_wrong() -> None:
    assert topics.hub_id_from("shouwang/v1/hubs/h-7/radiation", PREFIX) == "h-7"
    assert topics.hub_id_from("elsewhere/h-7", PREFIX) is None


def test_the_subscription_hears_topics_with_a_level_missing_or_one_too_many() -> None:
    assert topics.hub_subscription("shouwang/v1") == "shouwang/v1/hubs/#"


@pytest.mark.parametrize("topic", [
    "shouwang/v1/hubs/hub-001",
    "shouwang/v1/hubs/hub-001/water/extra",
    "shouwang/v1/hubs/hub-001\n/water",
    "shouwang/v1/hubs/" + "h" * 65 + "/water",
])
def test_a_topic_with_missing_or_extra_levels_or_a_bad_hub_id_is_refused(topic: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.parse(topic, "shouwang/v1")


def test_the_hub_a_bad_topic_names_fits_the_hub_id_column() -> None:
    assert topics.hub_id_from("p/hubs/" + "h" * 100 + "/water", "p") == "h" * 64


def test_a_huge_topic_makes_a_short_reason() -> None:
    with pytest.raises(topics.TopicError) as refused:
        topics.parse("shouwang/v1/hubs/h-1/" + "x" * 60_000, "shouwang/v1")
    assert len(str(refused.value)) < 400
