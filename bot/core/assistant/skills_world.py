"""Skills on the world: translation from the phrasebook, facts from the table of countries.

A mixin of `SimulatedAssistant`. Both answer only from their data and say "I don't know" for
anything else: a phrase not in the phrasebook, a country not in the table, an attribute (a
population, a president) the table does not hold.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from ..replies import quote_user_text
from .knowledge import Country
from .skills_base import SkillBase
from .text import clip, strip_end, words
from .turns import Answer, Turn

#: Languages people ask for that the phrasebook does not have: answered honestly.
OTHER_LANGUAGES = frozenset({"chinese", "mandarin", "cantonese", "russian", "arabic", "korean", "hindi", "bengali", "urdu", "swahili", "greek",
                             "polish", "turkish", "swedish", "norwegian", "danish", "finnish", "latin", "hebrew", "persian", "farsi", "thai",
                             "vietnamese", "indonesian", "malay", "czech", "hungarian", "romanian", "ukrainian", "irish", "welsh", "catalan",
                             "esperanto", "klingon", "tagalog", "zulu"})


class WorldSkills(SkillBase):
    # ---- translation ----------------------------------------------------------------------

    _TRANSLATE = (
        re.compile(r"\btranslate\s+(?:(?:the )?(?:word|phrase|sentence|expression)\s+)?(?P<p>.+?)\s+(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+(?: portuguese)?)\s*[?.!]*$", re.I),
        re.compile(r"\btranslate\s+(?:this\s+|it\s+)?(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+)\s*[:,-]?\s*(?P<p>.+?)[?.!]*$", re.I),
        re.compile(r"\b(?:what(?:'s| is)|whats|give me|tell me)\s+(?:the\s+)?(?P<l>[a-zà-ÿ]+)\s+for\s+(?P<p>.+?)\s*[?.!]*$", re.I),
        re.compile(r"\bhow (?:do|would|can|could|should) (?:you|i|we|one|they) (?:say|write|spell|translate)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*[?.!]*$", re.I),
        re.compile(r"\bwhat(?:'s| is| are)?\s+(?:the\s+)?(?P<l>[a-zà-ÿ]+)\s+(?:word|phrase|translation|term)s?\s+(?:for|of)\s+(?P<p>.+?)\s*[?.!]*$", re.I),
        re.compile(r"\b(?:what(?:'s| is)|whats)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*[?.!]*$", re.I),
        re.compile(r"^(?:say|write|tell me)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*(?:please)?[?.!]*$", re.I),
        re.compile(r"^(?P<p>[^?]{1,40}?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*(?:please)?\s*[?!.]*$", re.I),
        re.compile(r"^(?P<l>[a-zà-ÿ]+)\s+(?:for|of)\s+(?P<p>.+?)\s*[?.!]*$", re.I),
    )

    def _translate(self, text: str, last: Turn, depth: str) -> Answer | None:
        for pattern in self._TRANSLATE:
            match = pattern.search(text)
            if not match:
                continue
            language = strip_end(match.group("l"))
            phrase = re.sub(r"^(?:the (?:word|phrase|sentence|expression)|the|a|an)\s+(?=\S)", "", strip_end(match.group("p")), flags=re.I)
            phrase = strip_end(phrase)
            code = self.phrasebook.language(language)
            if code is None:
                if language.casefold() in OTHER_LANGUAGES or text.lower().startswith("translate"):
                    return self._no_language(language)
                continue
            if not phrase:
                continue
            return self._translation(phrase, code)
        if re.match(r"^(?:please\s+)?translate\b", text, re.I):
            return Answer("Tell me what and into which language, e.g. *Translate 'thank you' to French*. I know "
                          + ", ".join(self.phrasebook.languages.values()) + ".", "translate-help", {"skill": "translate-help"})
        return None

    def _translation(self, phrase: str, code: str) -> Answer:
        language = self.phrasebook.languages[code]
        entry = self.phrasebook.lookup(phrase) or self.phrasebook.part_of(phrase)
        meta = {"skill": "translate", "phrase": phrase, "language": code}
        if entry is None:
            sample = ", ".join(f"“{k}”" for k, _ in list(self.phrasebook.phrases.values())[:6])
            return Answer(f"I don't know how to say “{quote_user_text(clip(phrase, 80))}” in {language}: it isn't in my phrasebook "
                          f"({len(self.phrasebook.phrases)} everyday words and phrases, such as {sample}), and I won't guess. "
                          "A real instruction-tuned model learned translation from its training data; "
                          "I only know what ships with the course.", "translate-unknown", meta)
        english, translations = entry
        if code not in translations:
            return Answer(f"I don't know “{english}” in {language}: my phrasebook has no {language} entry for it.", "translate-unknown", meta)
        meta["phrase"] = english
        rest = _untranslated(phrase, english)
        if rest:  # "I love machine learning": the phrasebook has "machine learning", not the sentence
            return Answer(f"I can only translate part of that, so this is not a translation of the whole sentence: "
                          f"“{english}” is **{translations[code]}** in {language}. I don't know "
                          f"“{quote_user_text(clip(rest, 60))}” in {language}: it isn't in my phrasebook, and I won't guess.",
                          "translate", dict(meta, partial=True))
        return Answer(f"{translations[code]}\n_(“{english}” in {language}.)_", "translate", meta)

    def _no_language(self, language: str) -> Answer:
        known = ", ".join(self.phrasebook.languages.values())
        return Answer(f"I don't know {quote_user_text(clip(language.capitalize(), 30))}, sorry: my phrasebook covers {known}.",
                      "translate-unknown", {"skill": "translate-unknown"})

    # ---- facts ----------------------------------------------------------------------------

    _CAPITAL = re.compile(r"\bcapital(?:\s+city)?\s+(?:of|for|in)\s+(?P<c>[^?!.,;]+)|(?P<c2>[\w .'-]+?)(?:'s|s')\s+capital\b|\b(?P<c3>[\w .'-]+?)\s+capital(?:\s+city)?\s*\??$", re.I)
    _REVERSE = re.compile(r"^(?:is\s+)?(?P<city>[\w .'-]+?)\s+(?:is\s+)?(?:the\s+)?capital\s+of\s+(?:which|what)\s+country|which country(?:'s| has| is)\s+(?:its\s+|the\s+)?capital(?: city)?(?: is)?\s+(?P<city2>[\w .'-]+?)\s*\??$|^(?P<city3>[\w .'-]+?) is the capital of\s*\??$", re.I)
    _LANGUAGE = re.compile(r"\b(?:language|languages)\b.*\b(?:spoken|speak|of|in|there)\b|\b(?:they|people|you|we|i) speak\b", re.I)
    _CURRENCY = re.compile(r"\b(currency|money)\b", re.I)
    _OTHER_ATTRIBUTE = re.compile(r"\b(population|how many people|inhabitants|president|prime minister|leader|king|queen|ruler|"
                                  r"area|how big|size|gdp|economy|weather|temperature|climate|time zone|timezone|what time|flag|"
                                  r"anthem|national (?:dish|animal|sport|flower)|founded|independence|religion|"
                                  r"tallest|largest city|biggest city|famous for|mayor|elevation|located|where is)\b", re.I)

    def _facts(self, text: str, last: Turn, depth: str) -> Answer | None:
        reverse = self._REVERSE.search(text)
        if reverse:
            city = strip_end(next(g for g in reverse.groups() if g))
            country = self.facts.by_capital(re.sub(r"^(?:is|the)\s+", "", city, flags=re.I))
            if country:
                return Answer(f"{country.capital} is the capital of {country.the_name}.", "capital", {"skill": "capital", "country": country.name})
            return Answer(f"I don't know a country whose capital is {quote_user_text(clip(city, 40))}: it isn't in my table of world capitals.",
                          "country-unknown", {"skill": "country-unknown"})
        if re.search(r"\bcapital", text, re.I):
            country = self.facts.find_country_in(text)
            if country is None:
                match = self._CAPITAL.search(text)
                if match:
                    name = strip_end(next(g for g in match.groups() if g))
                    name = re.sub(r"^(?:what(?:'s| is)?|which|where(?:'s| is)?|is|the|tell me)\s+", "", name, flags=re.I)
                    country = self.facts.country(name)
                    if country is None and not self.index.is_course_question(text):
                        return Answer(f"I don't know the capital of “{quote_user_text(clip(name, 40))}”: it isn't a country in my "
                                      "table of world capitals (the names are in English, e.g. *Germany*, *Japan*).",
                                      "country-unknown", {"skill": "country-unknown"})
            if country is not None and not (self._OTHER_ATTRIBUTE.search(text) and not re.search(r"\bcapital (?:city )?(?:of|for)\b", text, re.I)):
                return self._country_answer(country, "capital")
        country = self.facts.find_country_in(text)
        if country is None and last.meta.get("country") and re.search(r"\b(there|its|it|they|their|that country|this country|the country)\b", text, re.I):
            country = self.facts.country(last.meta["country"])
            if country is not None and not (self._LANGUAGE.search(text) or self._CURRENCY.search(text) or self._OTHER_ATTRIBUTE.search(text)
                                            or re.search(r"\bcapital\b", text, re.I)):
                country = None
            if country is not None and re.search(r"\bcapital\b", text, re.I):
                return self._country_answer(country, "capital")
        if country is not None:
            if self._LANGUAGE.search(text):
                return self._country_answer(country, "languages")
            if self._CURRENCY.search(text):
                return self._country_answer(country, "currency")
            attribute = self._OTHER_ATTRIBUTE.search(text)
            if attribute and not self.index.is_course_question(text):
                return self._not_in_table(country, attribute.group(1).lower())
        of_capital = self._capital_city_in(text)
        attribute = self._OTHER_ATTRIBUTE.search(text)
        if of_capital is not None and attribute:
            return self._not_in_table(of_capital, attribute.group(1).lower(), city_name=of_capital.capital)
        return None

    def _capital_city_in(self, text: str) -> Country | None:
        for word in re.findall(r"[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+)*", text):
            found = self.facts.by_capital(word)
            if found:
                return found
        return None

    def _country_answer(self, country: Country, attribute: str) -> Answer:
        meta = {"skill": "capital" if attribute == "capital" else "country-fact", "country": country.name, "attribute": attribute}
        if attribute == "capital":
            note = f" ({country.note})" if country.note else ""
            return Answer(f"The capital of {country.the_name} is {country.capital}.{note}", "capital", meta)
        if attribute == "languages" and country.languages:
            spoken = " and ".join([", ".join(country.languages[:-1]), country.languages[-1]] if len(country.languages) > 1 else country.languages)
            return Answer(f"The main language{'s' if len(country.languages) > 1 else ''} of {country.the_name}: {spoken}.", "country-fact", meta)
        if attribute == "currency" and country.currency:
            return Answer(f"The currency of {country.the_name} is the {country.currency}.", "country-fact", meta)
        return self._not_in_table(country, "currency" if attribute == "currency" else "languages")

    def _not_in_table(self, country: Country, attribute: str, city_name: str | None = None) -> Answer:
        subject = city_name or country.the_name
        tip = (f"I can tell you that {city_name} is the capital of {country.the_name}." if city_name
               else f"I can tell you its capital: {country.capital}.")
        return Answer(f"I don't know the {attribute} of {subject}: my knowledge base has world capitals (and languages and "
                      f"currencies for some countries), not that, and I won't guess. {tip}",
                      "country-unknown", {"skill": "country-unknown", "country": country.name, "attribute": "capital"})


def _untranslated(asked: str, entry: str) -> str:
    """The words of what was asked that the phrasebook entry does not cover (typos forgiven), or ""."""
    have = words(entry)
    extra = [w for w in words(asked) if w not in ("the", "a", "an", "to")
             and not any(w == h or (len(w) > 3 and fuzz.ratio(w, h) >= 80) for h in have)]
    return " ".join(extra) if extra and len(words(asked)) > len(have) else ""
