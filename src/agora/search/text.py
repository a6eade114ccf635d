"""Words: how text is cut into terms, which words carry no meaning, and how far apart two
spellings are. The same rules on both databases, so both correct a query the same way."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+", re.UNICODE)
MIN_TERM = 2
MAX_TERM = 40

# Words a query can do without (PostgreSQL's English configuration drops them from
# documents; SQLite's tokenizer keeps them, so the query drops them on both).
STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have"),
        *("i", "in", "is", "it", "its", "me", "my", "near", "of", "on", "or", "our"),
        *("the", "to", "with", "you", "your"),
    }
)


def words(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text)]


def terms(text: str) -> set[str]:
    """The vocabulary words of a text: what a query word may be corrected to."""
    return {w for w in words(text) if MIN_TERM <= len(w) <= MAX_TERM and not w.isdigit()}


def query_words(text: str) -> list[str]:
    """The words of a query that carry meaning, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in words(text)[:12]:
        if word not in STOPWORDS and len(word) <= MAX_TERM:
            seen.setdefault(word, None)
    return list(seen)


def plural_forms(word: str) -> set[str]:
    """The word and the singular/plural forms a stemmer folds together (tyre, tyres;
    battery, batteries), so a query word in another number is not taken for a typo."""
    forms = {word, f"{word}s", f"{word}es"}
    if word.endswith("ies") and len(word) > 4:
        forms.add(f"{word[:-3]}y")
    elif word.endswith("es") and len(word) > 3:
        forms.add(word[:-2])
    if word.endswith("s") and len(word) > 3:
        forms.add(word[:-1])
    if word.endswith("y") and len(word) > 2:
        forms.add(f"{word[:-1]}ies")
    return forms


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau–Levenshtein distance (optimal string alignment: a swap of two neighbours
    costs one), or `limit` when it is at least that."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) >= limit:
            return limit
        previous2, previous = previous, current
    return min(previous[-1], limit)


def typo_allowance(word: str) -> int:
    """How many edits a word may be off by: none for very short words (too many
    neighbours), one up to five letters, two beyond."""
    if len(word) <= 3:
        return 0
    return 1 if len(word) <= 5 else 2


def trigrams(word: str) -> list[str]:
    padded = f"  {word} "
    return sorted({padded[i : i + 3] for i in range(len(padded) - 2)})
