"""Pure helpers of the API backends: Retry-After parsing, redaction, server messages, status classification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotmess.errors import BackendError
from hotmess.models import RetryableError
from hotmess.models._http import ApiKey, classify_status, parse_retry_after, redact, server_message
from tests.support.helpers import SECRET

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after-ms": "1200", "retry-after": "9"}, 1.2),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after": format_datetime(NOW + timedelta(seconds=42), usegmt=True)}, 42.0),
        ({"retry-after": format_datetime(NOW - timedelta(seconds=42), usegmt=True)}, 0.0),
        ({"retry-after": "tomorrow-ish"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_seconds_round_trip(seconds: float) -> None:
    assert parse_retry_after({"retry-after": repr(seconds)}) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"message": "bad   thing\\nhappened", "type": "x"}}', "bad thing happened"),
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"detail": [{"msg": "field required"}]}', '[{"msg": "field required"}]'),
        (b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', "Overloaded"),
        (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
        (b"", "(empty body)"),
    ],
)
def test_server_message(body: bytes, expected: str) -> None:
    assert server_message(body) == expected


def test_server_message_is_short_and_masks_keys() -> None:
    text = server_message(b"x" * 1000)
    assert len(text) == 300 and text.endswith("...")
    assert SECRET not in server_message(f'{{"error": "Incorrect API key provided: {SECRET}"}}'.encode())
    assert "sk-proj-" not in redact("Incorrect API key provided: sk-proj-****abcd")


def test_api_key_never_prints() -> None:
    key = ApiKey(SECRET, env="X")
    assert SECRET not in repr(key) and SECRET not in str(key) and SECRET not in f"{key}"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


def classify(
    status: int, body: bytes = b"{}", headers: dict[str, str] | None = None, key: ApiKey | None = None
) -> Exception:
    return classify_status(
        status, body, headers or {}, url="http://h/v1/x", model="m", label="server", key=key, key_env="K"
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, "rate_limit"),
        (500, "server"),
        (502, "server"),
        (503, "server"),
        (529, "server"),
        (408, "timeout"),
        (409, "server"),
    ],
)
def test_transient_statuses(status: int, kind: str) -> None:
    error = classify(status, headers={"retry-after": "3"})
    assert isinstance(error, RetryableError) and error.kind == kind
    if status != 408:
        assert error.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "K is not set"),
        (403, "K is not set"),
        (404, "model name"),
        (400, "options"),
        (422, "options"),
        (413, "options"),
    ],
)
def test_fatal_statuses(status: int, hint: str) -> None:
    error = classify(status)
    assert isinstance(error, BackendError) and hint in str(error) and f"HTTP {status}" in str(error)


def test_quota_exhaustion_is_fatal() -> None:
    body = b'{"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}'
    assert isinstance(classify(429, body), BackendError)


def test_wrong_key_hint_and_masking() -> None:
    error = classify(401, f'{{"error": {{"message": "bad key {SECRET}"}}}}'.encode(), key=ApiKey(SECRET, env="K"))
    assert "set K to a valid key" in str(error) and SECRET not in str(error)
