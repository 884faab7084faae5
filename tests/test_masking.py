"""The secret mask: each form a secret may come back in, and nothing more."""

from __future__ import annotations

import base64
import json
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


@pytest.mark.parametrize(
    "secret", ['pa"ss\\w0rd-long-secret', "pässwörd-secret-xyz", "tab\tsecret-1234"]
)
def test_a_secret_is_masked_in_its_json_escaped_forms(secret: str) -> None:
    masker = Masker()
    masker.add(secret)
    for ascii_only in (True, False):
        text = json.dumps({"error": f"HTTP 401: {secret} rejected"}, ensure_ascii=ascii_only)
        masked = masker.mask(text)
        assert json.loads(masked) == {"error": "HTTP 401: *** rejected"}


@pytest.mark.parametrize("password", ["2026", "postgres", "20260110", "abcd"])
def test_a_short_or_common_database_password_is_masked_only_as_a_password(
    password: str,
) -> None:
    masker = Masker()
    masker.add_url_password(f"postgresql://postgres:{password}@db.internal:5432/state")
    ordinary = [
        "2026-01-10 ok; batch 20260110 covered 2026-01-09..2026-01-10",
        "+ daily_orders 2026-01-10 (missing) abcdef; postgres role ready",
        "postgresql://postgres@db.internal:5432/state",
        "state postgresql://postgres:***@db.internal/state unreachable",
        "see https://example.com/postgres/2026/abcd for details",
    ]
    for text in ordinary:
        assert masker.mask(text) == text
    url = f"postgresql://postgres:{password}@db.internal:5432/state"
    assert masker.mask(f"cannot reach {url}") == (
        "cannot reach postgresql://postgres:***@db.internal:5432/state"
    )
    assert masker.mask(f"dsn: host=db password={password} user=postgres") == (
        "dsn: host=db password=*** user=postgres"
    )
    basic = base64.b64encode(f"postgres:{password}".encode()).decode()
    assert masker.mask(f"Authorization: Basic {basic}") == "Authorization: Basic ***"


def test_a_long_database_password_is_masked_everywhere() -> None:
    masker = Masker()
    masker.add_url_password("postgresql://postgres:pgpw-Tt5Rr4Ee3Ww2Qq1@db/state")
    assert masker.mask("auth failed for pgpw-Tt5Rr4Ee3Ww2Qq1.") == "auth failed for ***."
    assert masker.mask("auth failed for pgpw-Tt5Rr...") == "auth failed for ***..."


@pytest.mark.parametrize("secret", ["2026", "abcd", "s3cr3t"])
def test_a_short_secret_is_masked_only_as_a_whole_token(secret: str) -> None:
    masker = Masker()
    masker.add(secret)
    for text in (
        "2026-01-10 batch 20260110 run 2026.01 ok",
        "abcdef s3cr3ts pipeline-abcd v2026x",
        "https://example.com/x/abcd-efgh?d=2026-01-10",
    ):
        assert masker.mask(text) == text
    assert masker.mask(f"token {secret} rejected") == "token *** rejected"
    assert masker.mask(f'{{"token": "{secret}"}}') == '{"token": "***"}'
    assert masker.mask(f"Authorization: Bearer {secret}") == "Authorization: Bearer ***"
    assert masker.mask(f"/api/{secret}/run?key={secret}&x=1") == "/api/***/run?key=***&x=1"


def test_a_plain_word_secret_does_not_mask_longer_words() -> None:
    masker = Masker()
    masker.add("postgres")
    assert masker.mask("postgresql://postgres@db") == "postgresql://***@db"
    masker = Masker()
    masker.add("postgrespostgres")  # long, but a cut prefix would still be a word's start
    assert masker.mask("postgresql://db") == "postgresql://db"
    assert masker.mask("got postgrespostgres") == "got ***"


def test_a_percent_encoded_url_password_is_masked_decoded_too() -> None:
    masker = Masker()
    masker.add_url_password("postgresql://postgres:p%C3%A4%22ss-w%C3%B6rd-1@db/state")
    assert masker.mask('login pä"ss-wörd-1 refused') == "login *** refused"
    assert masker.mask("postgresql://postgres:p%C3%A4%22ss-w%C3%B6rd-1@db") == (
        "postgresql://postgres:***@db"
    )
