"""Webhook rules without a network: signatures, the secret, which URLs and replies mean what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from services.notify.channels.errors import ChannelNotConfigured, DeliveryFailed
from services.notify.channels.signing import signature, verify_signature
from services.notify.channels.webhook import check_url, classify_status, load_webhook_secret
from services.notify.config import Settings

SECRET = SecretStr("s" * 40)
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
BODY = b'{"alert_id":"a1"}'


def test_a_signature_verifies_against_the_same_secret_body_and_timestamp():
    header = signature(SECRET, STAMP, BODY)

    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, STAMP, BODY, header, NOW)
    assert verify_signature("s" * 40, STAMP, BODY, header, NOW + timedelta(minutes=4))


@pytest.mark.parametrize("secret, timestamp, body, now", [
    (SECRET, STAMP, b'{"alert_id":"a2"}', NOW),  # tampered body
    (SecretStr("t" * 40), STAMP, BODY, NOW),  # wrong secret
    (SECRET, str(int(NOW.timestamp()) + 1), BODY, NOW),  # timestamp changed after signing
    (SECRET, STAMP, BODY, NOW + timedelta(minutes=6)),  # stale: replayed later
    (SECRET, STAMP, BODY, NOW - timedelta(minutes=6)),  # from the future
])
def test_anything_changed_or_late_fails_verification(secret, timestamp, body, now):
    assert not verify_signature(secret, timestamp, body, signature(SECRET, STAMP, BODY), now)


@pytest.mark.parametrize("timestamp", ["", "+" + STAMP, f" {STAMP}", "1e9", "١٧٤٠"])
def test_a_malformed_timestamp_fails_verification(timestamp):
    header = signature(SECRET, timestamp, BODY)
    assert not verify_signature(SECRET, timestamp, BODY, header, NOW)


@pytest.mark.parametrize("header", ["", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "ü"])
def test_a_malformed_or_guessed_header_fails_verification(header):
    assert not verify_signature(SECRET, STAMP, BODY, header, NOW)


def test_the_tolerance_is_the_receivers_choice():
    header = signature(SECRET, STAMP, BODY)
    later = NOW + timedelta(seconds=90)

    assert not verify_signature(SECRET, STAMP, BODY, header, later, timedelta(seconds=60))
    assert verify_signature(SECRET, STAMP, BODY, header, later, timedelta(seconds=120))


def test_there_is_no_default_secret():
    with pytest.raises(ChannelNotConfigured):
        load_webhook_secret(Settings())


def test_a_short_secret_is_refused():
    with pytest.raises(ChannelNotConfigured):
        load_webhook_secret(Settings(webhook_secret="too-short"))


def test_the_secret_is_read_from_a_file_without_its_trailing_newline(tmp_path):
    path = tmp_path / "webhook-secret"
    path.write_text("k" * 40 + "\n")

    assert load_webhook_secret(Settings(webhook_secret_file=path)).get_secret_value() == "k" * 40


def test_a_missing_secret_file_or_two_secrets_are_refused(tmp_path):
    with pytest.raises(ChannelNotConfigured):
        load_webhook_secret(Settings(webhook_secret_file=tmp_path / "absent"))
    (tmp_path / "s").write_text("k" * 40)
    with pytest.raises(ChannelNotConfigured):
        load_webhook_secret(Settings(webhook_secret="k" * 40, webhook_secret_file=tmp_path / "s"))


@pytest.mark.parametrize("url", [
    "https://hooks.example.org/casetracker", "http://127.0.0.1:8080/hook",
    "http://127.8.9.10/hook", "http://[::1]:9000/hook", "http://localhost/hook",
])
def test_https_anywhere_and_http_on_loopback_are_accepted(url):
    check_url(url, allow_http_loopback=True)


@pytest.mark.parametrize("url, allow", [
    ("http://hooks.example.org/casetracker", True),
    ("http://10.0.0.5/hook", True),
    ("http://127.0.0.1.example.org/hook", True),
    ("http://127.0.0.1:8080/hook", False),
    ("ftp://hooks.example.org/", True),
    ("hooks.example.org/hook", True),
    ("https:///hook", True),
    ("https://hooks.example.org:99999/", True),
])
def test_any_other_url_is_refused_for_good(url, allow):
    with pytest.raises(DeliveryFailed) as refused:
        check_url(url, allow_http_loopback=allow)
    assert not refused.value.retryable
    assert "example" not in refused.value.error and "127" not in refused.value.error


@pytest.mark.parametrize("status, retryable", [
    (408, True), (429, True), (500, True), (502, True), (503, True),
    (400, False), (401, False), (403, False), (404, False), (410, False), (422, False),
    (301, False), (302, False), (307, False), (308, False),
])
def test_replies_say_whether_to_try_again(status, retryable):
    failure = classify_status(status)
    assert failure is not None and failure.retryable is retryable
    assert str(status) in failure.error


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_a_delivery(status):
    assert classify_status(status) is None
