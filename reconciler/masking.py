"""Secret masking: every secret the process reads, in every form it may come back in.

Secrets are registered where they are read from the environment (platform tokens,
webhook URLs, signing secrets, SMTP passwords, header values, the PostgreSQL state
URL) or named by a loaded pipeline. ``mask`` then replaces, in any text:

- the value itself, percent-encoded (``quote``, ``quote_plus``, either hex case),
  JSON-escaped (``ensure_ascii`` on and off) and base64-encoded (standard and URL-safe,
  with or without padding);
- ``base64(user:password)``, the Basic authentication form, when the user is known;
- for a URL: its path, each path segment and query value that could be a secret, the
  fragment and the password of its user part, in the same encodings;
- a prefix of a long secret cut by an error message (``dapi0123456789ab...``):
  ``PREFIX_MIN`` characters or more of its start (for a URL: past its host).

A form that could be ordinary text (shorter than ``UNAMBIGUOUS``, or a plain word or
number shorter than ``LONG``: ``2026``, ``postgres``) is masked only as a whole token,
never inside ``2026-01-10`` or ``batch 20260110``; a database password of that kind only
where it is a password (``://user:PASSWORD@``, ``password=PASSWORD``), as the user name
of the same URL is often the same word.

One module, used wherever text leaves the reconciler: command output (``MaskedStream``),
state rows that carry free text (errors, notification details) and, through them,
``status``, ``history``, reports and exports.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MASK = "***"
MIN_LENGTH = 4  # a shorter value would mask ordinary words
PREFIX_MIN = 6  # characters of a secret's start that count as a leak
LONG = 12  # only secrets at least this long are masked by prefix
UNAMBIGUOUS = 8  # a shorter form may be ordinary text: masked only as a whole token
_PLAIN = re.compile(r"[A-Za-z]+|[0-9]+")  # a word or a number: ambiguous below LONG
_WORD = re.compile(r"[a-z]{1,12}")  # a plain path word ("services", "hooks", "v1")
_HEX = re.compile(r"%[0-9A-F]{2}")

# environment variable names a pipeline model may hold secrets in, by field
SECRET_FIELDS = ("token_env", "url_env", "secret_env", "password_env", "headers_env")


def _encodings(value: str) -> set[str]:
    out = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    # as it stands inside a JSON string (``"``, ``\\``, control and non-ASCII characters)
    out |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    out |= {_HEX.sub(lambda m: m.group(0).lower(), v) for v in list(out)}
    raw = value.encode()
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = b64.decode()
        out |= {text, text.rstrip("=")}
    return out


def _basic(user: str, password: str) -> set[str]:
    text = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {text, text.rstrip("=")}


def _secretish(part: str) -> bool:
    """A URL part that may be a secret: not a plain lower-case word such as ``hooks``,
    nor a short number such as a version."""
    if len(part) < MIN_LENGTH or _WORD.fullmatch(part):
        return False
    return not (part.isdigit() and len(part) < 8)


def _url_parts(value: str) -> tuple[set[str], list[tuple[str, int]]] | None:
    """(forms to mask, (text, shortest prefix masked)) of a secret URL; None if not one."""
    try:
        parts = urlsplit(value)
        password = parts.password
        user = parts.username
    except ValueError:
        return None
    if not (parts.scheme and parts.netloc):
        return None
    pieces = {s for s in parts.path.split("/") if _secretish(s)}
    if pieces:  # the whole path too, as a receiver's "Cannot POST /path" echoes it
        pieces |= {parts.path, parts.path.lstrip("/")}
    values = {v for _, v in parse_qsl(parts.query, keep_blank_values=True) if _secretish(v)}
    if values:
        pieces |= values | {parts.query}
    if len(parts.fragment) >= MIN_LENGTH:
        pieces.add(parts.fragment)
    forms: set[str] = set()
    if password:
        pieces.add(password)
        forms |= _basic(user or "", password)
    for piece in pieces:
        forms |= _encodings(piece)
    # a cut URL is masked once it reaches into its first secret part
    head = len(f"{parts.scheme}://{parts.netloc}")
    secret = [p for p in pieces if p not in (parts.path, parts.path.lstrip("/"), parts.query)]
    starts = [value.find(p, head) for p in secret if value.find(p, head) >= 0]
    prefixes = [(value, min(starts) + MIN_LENGTH)] if starts else []
    prefixes += [(p, PREFIX_MIN) for p in secret if len(p) >= LONG]
    return forms, prefixes


def _ambiguous(form: str) -> bool:
    """A form that may be ordinary text: short, or a plain word or number."""
    return len(form) < UNAMBIGUOUS or (len(form) < LONG and bool(_PLAIN.fullmatch(form)))


# how a form is found, weakest first: only where it is a password, as a whole token, anywhere
CONTEXT, TOKEN, ANYWHERE = 0, 1, 2
_EDGE_BEFORE = r"(?<![\w.-])"  # not inside a word, a date (2026-01-10) or a dotted name
_EDGE_AFTER = r"(?![\w-]|\.\w)"


def _alternative(form: str, how: int) -> str:
    text = re.escape(form)
    if how == ANYWHERE:
        return text
    if how == TOKEN:
        return f"{_EDGE_BEFORE}{text}{_EDGE_AFTER}"
    return f"(?<=:){text}(?=@)|(?<=password=){text}{_EDGE_AFTER}"


class Masker:
    """Registered secrets and the one pattern that finds them all (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str | None, bool]] = set()
        self._forms: dict[str, int] = {}  # form -> how it is found (CONTEXT...ANYWHERE)
        self._prefixes: dict[str, int] = {}  # text -> shortest prefix masked
        self._pattern: re.Pattern[str] | None = None
        self._starts: dict[str, list[str]] = {}

    def add(
        self, value: str | None, *, user: str | None = None, password_only: bool = False
    ) -> None:
        """Register ``value`` (with ``user``: also its Basic authentication form).

        ``password_only``: a database password, which, when it could be ordinary text,
        is masked only where it stands as a password (see the module's docstring).
        """
        value = (value or "").strip()
        if len(value) < MIN_LENGTH or (value, user, password_only) in self._seen:
            return  # (10,000 pipelines may name the same few secrets)
        self._seen.add((value, user, password_only))
        forms = _encodings(value)
        plain = bool(_PLAIN.fullmatch(value))  # a cut "postgr..." would be a word's start
        prefixes = [(value, PREFIX_MIN)] if len(value) >= LONG and not plain else []
        url = _url_parts(value)
        if url is not None:
            forms |= url[0]
            prefixes = url[1]  # (a URL's start, its scheme and host, is no secret)
        if user:
            forms |= _basic(user, value)
        found: dict[str, int] = {}
        for form in forms:
            if len(form) < MIN_LENGTH:
                continue
            if not _ambiguous(form):
                found[form] = ANYWHERE
            else:
                found[form] = CONTEXT if password_only and form == value else TOKEN
        with self._lock:
            if all(self._forms.get(f, -1) >= how for f, how in found.items()) and all(
                p in self._prefixes for p, _ in prefixes
            ):
                return
            for form, how in found.items():
                self._forms[form] = max(how, self._forms.get(form, how))
            for text, shortest in prefixes:
                self._prefixes[text] = min(shortest, self._prefixes.get(text, shortest))
            self._pattern = None

    def add_url_password(self, url: str) -> None:
        """Register the password of a URL that is not itself a secret (a database URL).

        A password that could be ordinary text (``2026``, ``postgres``) is masked only
        where it stands as a password; the user name is never masked, even when the same.
        """
        try:
            parts = urlsplit(url)
            password, user = parts.password, parts.username
        except ValueError:
            return
        # (the URL holds the password percent-encoded; the server is sent it decoded)
        for secret in {password, unquote(password)} if password else ():
            for form in (secret, *_encodings(secret)):
                self.add(form, password_only=True)
            self.add(secret, user=unquote(user or ""), password_only=True)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._forms.clear()
            self._prefixes.clear()
            self._pattern = None

    def _compiled(self) -> tuple[re.Pattern[str] | None, dict[str, list[str]]]:
        with self._lock:
            if self._pattern is None and (self._forms or self._prefixes):
                # longest first: a URL is masked whole before its segments are looked for
                ordered = sorted(self._forms.items(), key=lambda item: len(item[0]), reverse=True)
                alternatives = [_alternative(form, how) for form, how in ordered]
                starts: dict[str, list[str]] = {}
                for text, shortest in self._prefixes.items():
                    starts.setdefault(text[:shortest], []).append(text)
                alternatives += [re.escape(a) for a in sorted(starts, key=len, reverse=True)]
                self._pattern = re.compile("|".join(alternatives))
                self._starts = starts
            return self._pattern, self._starts

    def mask(self, text: str) -> str:
        pattern, starts = self._compiled()
        if pattern is None or not text:
            return text
        out: list[str] = []
        at = 0
        for found in pattern.finditer(text):
            if found.start() < at:
                continue
            end = found.end()
            for full in starts.get(found.group(0), ()):  # a cut secret: as far as it goes
                i, j = found.start(), 0
                while i < len(text) and j < len(full) and text[i] == full[j]:
                    i, j = i + 1, j + 1
                end = max(end, i)
            out += [text[at : found.start()], MASK]
            at = end
        out.append(text[at:])
        return "".join(out)


_MASKER = Masker()


def register(value: str | None, *, user: str | None = None) -> None:
    """Register a secret of this process (see the module's docstring for its forms)."""
    _MASKER.add(value, user=user)


def mask(text: str) -> str:
    """``text`` with every registered secret, in every known form, replaced by ``***``."""
    return _MASKER.mask(text)


def register_url_password(url: str) -> None:
    """Register the password of a URL that is not itself a secret (a database URL)."""
    _MASKER.add_url_password(url)


def mask_opt(text: str | None) -> str | None:
    return None if text is None else _MASKER.mask(text)


def mask_data(value: Any) -> Any:
    """Strings inside JSON-like data (dicts, lists) masked; other values as they are."""
    if isinstance(value, str):
        return _MASKER.mask(value)
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value


def register_env(names: Iterable[str | None], env: Mapping[str, str]) -> None:
    """Register the values of these environment variables (those that are set).

    A JSON object of headers (``headers_env``) registers each value, and the credential
    after an authentication scheme (``Bearer <token>``, ``Basic <base64>``).
    """
    import json

    for name in names:
        value = env.get(name or "", "")
        register(value)
        try:
            headers = json.loads(value) if value.lstrip().startswith("{") else None
        except ValueError:
            headers = None
        if isinstance(headers, dict):
            for item in headers.values():
                if isinstance(item, str):
                    register(item)
                    if " " in item.strip():
                        register(item.strip().split(" ", 1)[1])


def register_config(config: Any, env: Mapping[str, str]) -> None:
    """Register every secret a pipeline's config names: the values of its ``*_env`` keys
    at any depth (``trigger.token_env``, each notification's ``url_env``...), and an
    SMTP password with its user for the Basic/``AUTH PLAIN`` forms."""
    if isinstance(config, list | tuple):
        for item in config:
            register_config(item, env)
        return
    if not isinstance(config, Mapping):
        return
    names = [v for k, v in config.items() if str(k).rsplit(".", 1)[-1] in SECRET_FIELDS]
    register_env([n for n in names if isinstance(n, str)], env)
    user_env, password_env = config.get("username_env"), config.get("password_env")
    if isinstance(user_env, str) and isinstance(password_env, str) and env.get(user_env):
        register(env.get(password_env), user=env[user_env])
    for value in config.values():
        if isinstance(value, list | tuple | Mapping):
            register_config(value, env)


def mask_uncaught_tracebacks() -> None:
    """From now on, print an uncaught exception's traceback masked (``--debug``: the
    exception is re-raised past the masked streams, and its message may hold a secret)."""
    sys.excepthook = _masked_excepthook


def _masked_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    sys.stderr.write(mask("".join(traceback.format_exception(kind, value, tb))))
    sys.stderr.flush()


class MaskedStream(io.TextIOBase):
    """A text stream that masks what is written to it before passing it on."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(mask(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)
