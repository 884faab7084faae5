"""The secret mask: each form a secret may come back in, and nothing more."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from reconciler.masking import MASK, Masker

TOKEN = "dapi0123456789abcdef0123456789abcdef"
HOOK = "https://hooks.example.com/services/T0AAA1/B0BBB2/xoxb-very-secret-4f9a?sig=Zq81kLmN"


@pytest.fixture
def masker() -> Iterator[Masker]:
    m = Masker()
    m.add(TOKEN)
    m.add(HOOK)
    m.add("pw-S3cret:/+=", user="alerts@example.com")
    yield m


@pytest.mark.parametrize(
    "leak",
    [
        TOKEN,
        base64.b64encode(TOKEN.encode()).decode(),
        TOKEN[:14] + "...",  # cut by an error message
        HOOK,
        quote(HOOK, safe=""),
        "Cannot POST /services/T0AAA1/B0BBB2/xoxb-very-secret-4f9a",
        "bad segment xoxb-very-secret-4f9a",
        "T0AAA1",
        "sig=Zq81kLmN",
        HOOK[:45] + "…",
        "pw-S3cret:/+=",
        quote("pw-S3cret:/+=", safe=""),
        quote_plus("pw-S3cret:/+="),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote("pw-S3cret:/+=", safe="")),
        base64.b64encode(b"alerts@example.com:pw-S3cret:/+=").decode(),
        base64.b64encode(b"alerts@example.com:pw-S3cret:/+=").decode().rstrip("="),
    ],
)
def test_every_form_is_masked(masker: Masker, leak: str) -> None:
    text = masker.mask(f"HTTP 404: {leak} (end)")
    assert text.startswith("HTTP 404: ") and text.endswith(" (end)")
    assert MASK in text
    for part in ("T0AAA1", "xoxb", "S3cret", TOKEN[:10], "Zq81kLmN"):
        assert part not in text


def test_ordinary_text_is_left_alone(masker: Masker) -> None:
    text = "https://hooks.example.com/services/ answered 503; dapi tokens; 2026-03-01"
    assert masker.mask(text) == text
    assert Masker().mask(TOKEN) == TOKEN  # nothing registered


def test_a_url_without_secret_parts_is_masked_whole_only() -> None:
    masker = Masker()
    masker.add("https://hooks.example.com/services/hook")
    assert masker.mask("https://example.org/x failed; see /services/hook") == (
        "https://example.org/x failed; see /services/hook"
    )
    assert masker.mask("POST https://hooks.example.com/services/hook: 500") == "POST ***: 500"
