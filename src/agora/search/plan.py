"""From what a person typed to what the database matches.

Each meaningful word of the query becomes a group the document must match by any member:
- a word the vocabulary knows (in either number) matches as itself and its synonyms;
- otherwise a word still being typed matches as a prefix (`elec` → electrician, electrical);
- otherwise a misspelling matches the nearest vocabulary words within its edit allowance
  (`servcie` → service), and the plan says what it corrected, for "did you mean";
- a word matching nothing stays, so the search honestly finds nothing.

Vocabulary lookups take one query for all known words, and one per unknown word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections

from agora.search.backends import backend_for
from agora.search.models import SearchTerm
from agora.search.synonyms import synonyms_of
from agora.search.text import edit_distance, plural_forms, query_words, typo_allowance

CANDIDATES = 30
MAX_CORRECTIONS = 3


@dataclass(frozen=True)
class Group:
    word: str
    words: frozenset[str]
    prefix: str | None = None
    corrected_to: str | None = None


@dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def corrected(self) -> str | None:
        """The query as it was understood, when a word was corrected."""
        if not any(g.corrected_to for g in self.groups):
            return None
        return " ".join(g.corrected_to or g.word for g in self.groups)

    def matchable(self) -> list[tuple[frozenset[str], str | None]]:
        return [(g.words, g.prefix) for g in self.groups]


def _expanded(word: str) -> frozenset[str]:
    """The word's forms in either number, and the synonyms of any of them."""
    found: set[str] = set()
    for form in plural_forms(word):
        found |= synonyms_of(form)
    return frozenset(found)


def _in_a_group(word: str) -> bool:
    return any(len(synonyms_of(form)) > 1 for form in plural_forms(word))


def plan_for(text: str, *, alias: str = "default") -> Plan:
    query = query_words(text)
    if not query:
        return Plan()
    backend = backend_for(alias)
    forms = {w: _expanded(w) for w in query}
    lookups = set().union(*forms.values())
    known = set(
        SearchTerm.objects.using(alias).filter(term__in=lookups).values_list("term", flat=True)
    )
    groups: list[Group] = []
    with connections[alias].cursor() as cursor:
        for position, word in enumerate(query):
            expanded = forms[word]
            if known & expanded or _in_a_group(word):
                # Known in some number, or one of a synonym group's words.
                synonyms = {w for w in expanded if len(synonyms_of(w)) > 1}
                groups.append(
                    Group(word=word, words=frozenset({word} | synonyms | (expanded & known)))
                )
                continue
            is_last = position == len(query) - 1
            if len(word) >= (2 if is_last else 3) and _has_prefix(word, alias):
                groups.append(Group(word=word, words=frozenset({word}), prefix=word))
                continue
            corrections = _nearest(word, backend.term_candidates(cursor, word, CANDIDATES))
            if corrections:
                words: set[str] = set()
                for correction in corrections:
                    words |= synonyms_of(correction)
                groups.append(Group(word=word, words=frozenset(words), corrected_to=corrections[0]))
            else:
                groups.append(Group(word=word, words=frozenset({word})))
    return Plan(groups=tuple(groups))


def _has_prefix(word: str, alias: str) -> bool:
    # An index range scan on the primary key: the first term at or after `word`.
    following = SearchTerm.objects.using(alias).filter(term__gt=word).order_by("term")
    first = following.values_list("term", flat=True).first()
    return first is not None and first.startswith(word)


def _nearest(word: str, candidates: list[str]) -> list[str]:
    allowance = typo_allowance(word)
    if not allowance:
        return []
    scored = sorted(
        (edit_distance(word, candidate, allowance + 1), candidate) for candidate in set(candidates)
    )
    best = [(d, c) for d, c in scored if d <= allowance]
    if not best:
        return []
    closest = best[0][0]
    return [c for d, c in best if d == closest][:MAX_CORRECTIONS]
