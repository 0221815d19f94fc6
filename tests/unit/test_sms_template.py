"""The SMS gateway's body: the community's template with the number and the text put in its strings."""

from __future__ import annotations

import json

from dispatch.sms import fill


def test_placeholders_are_filled_in_strings_at_any_depth() -> None:
    template = {"to": ["{phone}"], "msg": {"body": "{text}", "ref": "alert-{alert_id}"}, "retries": 2}
    filled = fill(template, {"phone": "+8613800000000", "text": "王秀英 长时间无动静", "alert_id": "7"})
    assert filled == {"to": ["+8613800000000"], "msg": {"body": "王秀英 长时间无动静", "ref": "alert-7"},
                      "retries": 2}
    assert template["to"] == ["{phone}"]  # the template itself is left as it was


def test_nothing_in_the_text_can_change_the_bodys_shape() -> None:
    text = '", "to": "+10000000000", "x": "{phone}'
    filled = fill({"to": "{phone}", "text": "{text}"}, {"text": text, "phone": "+8613800000000"})
    assert json.loads(json.dumps(filled)) == {"to": "+8613800000000",
                                              "text": '", "to": "+10000000000", "x": "{phone}'}
