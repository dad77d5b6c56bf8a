"""Is this person already known? Likely matches at first contact, across spellings and alphabets.

A person arriving by invitation, helpline or walk-in may already be in the programme under another
spelling: "Mohammed", "Muhammad", "محمد" and "Мухаммед" are one name. Names are transliterated to
Latin letters (`anyascii`), reduced to a consonant skeleton for phonetic blocking, and compared
token by token (Jaro-Winkler from `rapidfuzz`, in any order: given and family names get swapped);
the birth date and the nationality weigh in, and the same dossier reference is decisive.

Pure: `likely_matches(person, known)` scores candidates the caller has already narrowed down
(the same dossier reference, the same `name_key`, or the same birth date and a shared skeleton).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from anyascii import anyascii
from rapidfuzz.distance import Indel, JaroWinkler

_NO_HOUSEHOLD = UUID(int=0)
THRESHOLD = 0.78  # "possible existing household": shown to the coach, who decides
LIKELY = 0.86  # "likely the same person": shown first, with the reasons
_LETTERS = re.compile(r"[^a-z ]+")
# transliteration variants to one spelling, before the vowels go (order matters: "kh" before "h")
_SOUNDS = (
    ("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dj", "j"), ("ck", "k"), ("q", "k"), ("c", "k"),
    ("w", "v"), ("x", "ks"), ("z", "s"), ("d", "t"), ("b", "p"), ("g", "k"), ("v", "f"),
)  # fmt: skip
_VOWELS = re.compile(r"[aeiouy]")
_WRITTEN_VOWELS = re.compile(r"[aeiou]")


@dataclass(frozen=True)
class Person:
    """What first contact tells about a person (any field may be missing)."""

    person_id: str | None
    given_name: str | None
    family_name: str | None
    birth_date: date | None
    nationality: str | None


@dataclass(frozen=True)
class Known(Person):
    """A person the programme has met, and the household they belong to."""

    household_id: UUID = _NO_HOUSEHOLD


@dataclass(frozen=True)
class Match:
    """A likely existing person: their household, how sure, and why (no personal data)."""

    household_id: UUID
    person_id: str | None
    score: float
    reasons: tuple[str, ...]

    @property
    def likely(self) -> bool:
        return self.score >= LIKELY


def tokens(name: str | None) -> list[str]:
    """A name as lowercase Latin tokens: 'Ибрагим  Al-Hassan' -> ['ibragim', 'al', 'hassan']."""
    if not name:
        return []
    return _LETTERS.sub(" ", anyascii(name).lower()).split()


def skeleton(token: str) -> str:
    """The consonants of a token, spelling variants folded: 'mohammed', 'mukhammed', 'mhmd' -> 'mhmt'."""
    folded = _fold(token)
    consonants = _VOWELS.sub("", folded).removesuffix("h")  # "Aminah", "فاطمة" (ftmh): a silent end
    return re.sub(r"(.)\1+", r"\1", consonants) or folded[:1]


def skeletons(person: Person) -> list[str]:
    """The skeletons of a person's name tokens, particles ("al", "el", "de", "van") left out."""
    names = [t for t in tokens(person.given_name) + tokens(person.family_name) if len(t) > 2]
    return sorted({skeleton(t) for t in names})


def name_key(person: Person) -> str:
    """One key for every spelling and order of a name: its skeletons, sorted ("l mhmt")."""
    return " ".join(skeletons(person))


def _name_similarity(left: Sequence[str], right: Sequence[str]) -> float:
    """Each token of the shorter name against its best partner in the other, in any order."""
    if not left or not right:
        return 0.0
    shorter, longer = (left, right) if len(left) <= len(right) else (right, left)
    best = [max(_token_similarity(a, b) for b in longer) for a in shorter]
    coverage = len(shorter) / len(longer)
    # the weakest token weighs as much as all of them: a shared family name does not make
    # "Amina Example" and "Yasmine Example" one person
    return (sum(best) / len(best) + min(best)) / 2 * (0.85 + 0.15 * coverage)


def _fold(token: str) -> str:
    for written, heard in _SOUNDS:
        token = token.replace(written, heard)
    return token


def _token_similarity(a: str, b: str) -> float:
    """Spelling variants folded first, then Jaro-Winkler (forgiving of endings) averaged with the
    Indel ratio (strict about the letters in between); a name written without vowels
    (transliterated from Arabic or Hebrew script) is compared by its consonants alone."""
    if not _WRITTEN_VOWELS.search(a) or not _WRITTEN_VOWELS.search(b):
        return 0.95 if skeleton(a) == skeleton(b) else 0.0
    fa, fb = _fold(a), _fold(b)
    return (JaroWinkler.similarity(fa, fb) + Indel.normalized_similarity(fa, fb)) / 2


def score(person: Person, known: Known) -> Match:
    """How likely `known` is `person`, with the reasons a coach can check."""
    if person.person_id and person.person_id == known.person_id:
        return Match(known.household_id, known.person_id, 1.0, ("same dossier reference",))
    names = _name_similarity(tokens(person.given_name) + tokens(person.family_name),
                             tokens(known.given_name) + tokens(known.family_name))  # fmt: skip
    reasons = [f"similar name ({names:.2f})"] if names >= 0.8 else []
    born = _agreement(person.birth_date, known.birth_date)
    reasons += ["same birth date"] if born == 1.0 else []
    nation = _agreement(person.nationality, known.nationality)
    reasons += ["same nationality"] if nation == 1.0 else []
    total = 0.6 * names + 0.3 * born + 0.1 * nation if names >= 0.7 else 0.0  # the name decides first
    return Match(known.household_id, known.person_id, round(total, 3), tuple(reasons))


def _agreement(left: object | None, right: object | None) -> float:
    if left is None or right is None:
        return 0.5
    return 1.0 if left == right else 0.0


def likely_matches(
    people: Iterable[Person], known: Iterable[Known], threshold: float = THRESHOLD
) -> list[Match]:
    """The households that likely hold one of `people`, the surest first (one row per household)."""
    candidates = list(known)
    best: dict[UUID, Match] = {}
    for person in people:
        for candidate in candidates:
            match = score(person, candidate)
            kept = best.get(match.household_id)
            if match.score >= threshold and (kept is None or match.score > kept.score):
                best[match.household_id] = match
    return sorted(best.values(), key=lambda m: (-m.score, str(m.household_id)))
