"""Review and reply text: HTML stripped, whitespace tidied, length checked.

Text is stored as plain text and escaped when rendered; stripping tags here keeps markup
and scripts out of the e-mails, exports and API clients that may not escape it.
"""

from __future__ import annotations

import html
import re
import unicodedata

from django.conf import settings
from django.utils.html import strip_tags

from agora.core.validation import field_error

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)
_SCRIPTS = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)


def plain_text(value: str) -> str:
    """`value` without HTML (tags removed, entities decoded), control characters or
    runs of spaces; line breaks are kept (at most one blank line in a row)."""
    text = _SCRIPTS.sub(" ", value)
    text = _BLOCK_TAGS.sub("\n", text)
    # strip_tags leaves entities encoded; decode them, then strip again so `&lt;b&gt;`
    # cannot come back as a tag.
    text = strip_tags(html.unescape(strip_tags(text)))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_review_text(value: str, *, field: str = "text") -> str:
    text = plain_text(value)
    low, high = settings.AGORA_REVIEW_TEXT_MIN_LENGTH, settings.AGORA_REVIEW_TEXT_MAX_LENGTH
    if len(text) < low:
        raise field_error(field, f"write at least {low} characters (HTML is removed)", "too_short")
    if len(text) > high:
        raise field_error(field, f"write at most {high} characters", "too_long")
    return text


REPLY_MAX_LENGTH = 2000


def clean_reply_text(value: str) -> str:
    text = plain_text(value)
    if not text:
        raise field_error("text", "write the reply", "too_short")
    if len(text) > REPLY_MAX_LENGTH:
        raise field_error("text", f"write at most {REPLY_MAX_LENGTH} characters", "too_long")
    return text


def check_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise field_error("rating", "give a whole number of stars from 1 to 5", "rating_range")
    return rating
