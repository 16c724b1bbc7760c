"""What the assistant knows beyond the course: a phrasebook and a small table of world facts.

Both ship as YAML in `data/` and are all the assistant may state about the world: a question
they cannot answer is answered with "I don't know", never with a guess. Names are matched
after normalising case, accents and punctuation, with rapidfuzz for small typos ("Germnay").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from .text import words

DATA_DIR = Path(__file__).parent / "data"
#: How close a misspelt name must be to a known one (rapidfuzz ratio, 0–100).
FUZZY_NAME = 80

#: Other ways people name the languages, keyed by language code.
LANGUAGE_NAMES = {
    "es": ("spanish", "espanol", "castilian", "es"), "fr": ("french", "francais", "fr"),
    "de": ("german", "deutsch", "de"), "it": ("italian", "italiano", "it"),
    "pt": ("portuguese", "portugues", "pt", "brazilian portuguese"), "nl": ("dutch", "nederlands", "nl"),
    "ja": ("japanese", "nihongo", "ja"), "en": ("english", "en"),
}


def fold(text: str) -> str:
    """Lower case, accents removed, words only: "Côte d'Ivoire" → "cote d ivoire"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(words(text.replace("'", " ")))


@dataclass(frozen=True)
class Country:
    name: str
    capital: str
    languages: tuple[str, ...] = ()
    currency: str | None = None
    note: str | None = None  # e.g. a second capital or seat of government

    @property
    def the_name(self) -> str:
        """The name as it reads in a sentence: "the United Kingdom", "the Netherlands", "France"."""
        plural_or_title = ("United ", "Republic of", "Democratic Republic", "Czech Republic", "Dominican Republic",
                           "Central African", "Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Comoros",
                           "Seychelles", "Marshall Islands", "Solomon Islands", "Vatican")
        return f"the {self.name}" if self.name.startswith(plural_or_title) else self.name


class Phrasebook:
    def __init__(self, phrases: dict[str, dict[str, str]], languages: dict[str, str]):
        self.languages = languages  # code → English name
        self.phrases = {fold(k): (k, v) for k, v in phrases.items()}
        self._names = {name: code for code in languages for name in (*LANGUAGE_NAMES.get(code, ()), fold(languages[code]))}
        self._reverse: dict[str, str] = {}
        for key, (_, translations) in self.phrases.items():
            for text in translations.values():
                self._reverse.setdefault(fold(text), key)

    def language(self, name: str) -> str | None:
        """The code of a language named in English or in itself ("Spanish", "español", "es")."""
        return self._names.get(fold(name))

    def lookup(self, phrase: str) -> tuple[str, dict[str, str]] | None:
        """The phrase's entry, tolerating small typos and a translation given back to us."""
        key = fold(phrase)
        if key in self.phrases:
            return self.phrases[key]
        if key in self._reverse:
            return self.phrases[self._reverse[key]]
        for article in ("the ", "a ", "an ", "to "):
            if key.startswith(article) and key[len(article):] in self.phrases:
                return self.phrases[key[len(article):]]
        best = process.extractOne(key, list(self.phrases), scorer=fuzz.ratio, score_cutoff=FUZZY_NAME) if len(key) > 4 else None
        return self.phrases[best[0]] if best else None


    def part_of(self, phrase: str) -> tuple[str, dict[str, str]] | None:
        """The longest phrasebook entry found word for word inside a longer phrase, for a partial answer."""
        key = f" {fold(phrase)} "
        best = max((k for k in self.phrases if len(k) > 2 and f" {k} " in key), key=len, default=None)
        return self.phrases[best] if best else None


class Facts:
    def __init__(self, countries: list[Country], aliases: dict[str, str]):
        self.countries = {fold(c.name): c for c in countries}
        self.aliases = {fold(a): fold(n) for a, n in aliases.items()}
        self.capitals = {fold(c.capital): c for c in countries}

    def country(self, name: str) -> Country | None:
        key = fold(name)
        for prefix in ("the ", "republic of "):
            if key.startswith(prefix) and key[len(prefix):] in self.countries:
                key = key[len(prefix):]
        key = self.aliases.get(key, key)
        if key in self.countries:
            return self.countries[key]
        if len(key) < 5:
            return None
        best = process.extractOne(key, list(self.countries) + list(self.aliases), scorer=fuzz.ratio, score_cutoff=FUZZY_NAME)
        if best is None:
            return None
        return self.countries[self.aliases.get(best[0], best[0])]

    def by_capital(self, city: str) -> Country | None:
        return self.capitals.get(fold(city))

    def find_country_in(self, text: str) -> Country | None:
        """A country named anywhere in `text` (longest name first)."""
        folded = " " + fold(text) + " "
        names = sorted(list(self.countries) + list(self.aliases), key=len, reverse=True)
        for name in names:
            if f" {name} " in folded:
                return self.countries[self.aliases.get(name, name)]
        return None


def load_phrasebook(path: Path = DATA_DIR / "phrasebook.yaml") -> Phrasebook:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Phrasebook({str(k): {c: str(t) for c, t in v.items()} for k, v in data["phrases"].items()}, dict(data["languages"]))


def load_facts(path: Path = DATA_DIR / "facts.yaml") -> Facts:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    extra = {fold(e["country"]): e for e in data.get("languages", []) or []}
    money = {fold(e["country"]): e for e in data.get("currency", []) or data.get("currencies", []) or []}
    countries, aliases = [], {}
    for entry in data["capitals"]:
        name = entry["country"]
        langs = extra.get(fold(name), {}).get("languages", [])
        cur = money.get(fold(name), {}).get("currency")
        countries.append(Country(name, entry["capital"], tuple(langs if isinstance(langs, list) else [langs]), cur,
                                 entry.get("note")))
        for alias in entry.get("aliases", []) or []:
            aliases[alias] = name
    return Facts(countries, aliases)
