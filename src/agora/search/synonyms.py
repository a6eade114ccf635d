"""Words people use for the same trade or thing. A query word is searched as itself or any
word of its group, so `plumber` finds the Plumbing category and `tires` finds tyres.

Stemming (English, on both databases) already folds most plurals; groups hold what it
cannot: trade vs. trade work (plumber / plumbing), spelling (tyre / tire), abbreviations
(MOT) and everyday names (sparky)."""

from __future__ import annotations

GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "plumber plumbers plumbing plumb",
        "electrician electricians electrical electric electrics sparky",
        "tyre tyres tire tires",
        "mot mots roadworthiness",
        "mechanic mechanics garage garages workshop workshops",
        "car cars vehicle vehicles auto automotive motor",
        "service services servicing",
        "repair repairs fix fixing",
        "cleaner cleaners cleaning clean",
        "painter painters painting decorator decorators decorating",
        "gardener gardeners gardening landscaping landscaper",
        "handyman handymen handyperson odd-jobs",
        "boiler boilers heating",
        "locksmith locksmiths locks",
        "battery batteries",
        "ev electric-vehicle",
        "van vans",
        "motorbike motorbikes motorcycle motorcycles",
    )
)

_BY_WORD: dict[str, frozenset[str]] = {word: group for group in GROUPS for word in group}


def synonyms_of(word: str) -> frozenset[str]:
    """The word and every word of its group (single words only: a group's hyphenated
    entries are matched by the tokenizer as two words and kept out of query expansion)."""
    group = _BY_WORD.get(word)
    if group is None:
        return frozenset({word})
    return frozenset(w for w in group if "-" not in w) | {word}


def expand_for_index(words: list[str]) -> list[str]:
    """Category names with their synonyms, for the `categories` text of a document."""
    expanded: list[str] = []
    for word in words:
        expanded.append(word)
        expanded.extend(sorted(synonyms_of(word) - {word}))
    return expanded
