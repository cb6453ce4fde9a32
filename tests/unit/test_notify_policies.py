"""Deadline policies are data: the most specific one applies, and a bad file says what is wrong."""

from __future__ import annotations

import re

import pytest

from services.notify.policies import PolicyFileError, load_policies, parse_policies

CATCH_ALL = {"id": "default", "version": 1, "window": 30}


def book(*policies: dict):
    return parse_policies({"policy": [CATCH_ALL, *policies]})


def test_the_bundled_policies_load_and_cover_every_inquiry():
    bundled = load_policies()
    assert bundled.select("embassy", "CN", "letter").label == "embassy-v1"
    assert bundled.select("un_body", "KZ", "email").calendar == "CH-GE"
    assert bundled.select("court", "KZ", "letter").label == "default-v1"


def test_the_most_specific_policy_wins_kind_over_country_over_channel():
    policies = book(
        {"id": "embassy", "version": 1, "recipient_kind": "embassy", "window": 20},
        {"id": "embassy-cn", "version": 1, "recipient_kind": "embassy", "country": "CN",
         "window": 15},
        {"id": "cn", "version": 1, "country": "CN", "window": 40},
        {"id": "by-fax", "version": 1, "channel": "fax", "window": 5},
    )
    assert policies.select("embassy", "CN", "fax").id == "embassy-cn"
    assert policies.select("embassy", "KZ", "fax").id == "embassy"
    assert policies.select("police", "CN", "fax").id == "cn"
    assert policies.select("police", "KZ", "fax").id == "by-fax"
    assert policies.select("police", "KZ", "letter").id == "default"


@pytest.mark.parametrize("document, message", [
    ({"policy": [{"id": "embassy", "version": 1, "recipient_kind": "embassy", "window": 20}]},
     "no catch-all policy"),
    ({"policy": [CATCH_ALL, {**CATCH_ALL, "version": 2}]}, "policy default is defined twice"),
    ({"policy": [CATCH_ALL, {"id": "x", "version": 1, "window": 3}]},
     "policies default and x apply to the same inquiries"),
    ({"policy": [CATCH_ALL, {"id": "x", "version": 1, "recipient_kind": "embasy", "window": 3}]},
     "policy x: recipient_kind"),
    ({"policy": [{**CATCH_ALL, "window": 0}]}, "policy default: window"),
    ({"policy": [{**CATCH_ALL, "days": "working"}]}, "policy default: days"),
    ({"policy": [{**CATCH_ALL, "calendar": "ZZ"}]}, "calendar ZZ is not known"),
    ({"policy": [{**CATCH_ALL, "windoww": 3}]}, "policy default: windoww"),
    ({}, re.escape("no [[policy]] entries")),
])
def test_a_bad_policy_file_is_refused_naming_the_policy_and_the_problem(document, message):
    with pytest.raises(PolicyFileError, match=f"^policies.toml: .*{message}"):
        parse_policies(document, source="policies.toml")


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "policies.toml"
    path.write_text("[[policy]\nid = 1")
    with pytest.raises(PolicyFileError, match=f"{path}: not valid TOML"):
        load_policies(path)


def test_a_policy_change_shows_in_its_digest_but_its_description_does_not():
    before = book().policies[0]
    assert before.digest() == before.model_copy(update={"description": "new words"}).digest()
    assert before.digest() != before.model_copy(update={"window": 31}).digest()
