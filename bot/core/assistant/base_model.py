"""A real, miniature base model: a word-level n-gram language model that only continues text.

It is counted at start-up from the course's lessons and the small corpus in `data/corpus/`
(lists of questions, FAQ pages, a forum thread, encyclopedia paragraphs, stories) and samples
a continuation token by token, with a seed so the same prompt gives the same text. It has no
notion of instructions: shown "What is the capital of France?", it writes what usually follows
such a line in its data, which is more questions. That is Chapter 7's point, made by a model.

It backs off (Katz-style, without discounting): the next word is drawn from what followed the
longest context seen in the data, and only a context never seen falls back to a shorter one.
Sampling from the longest context keeps the text locally fluent, which is what a student needs
to see: fluent continuation, no instruction following.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from .knowledge import DATA_DIR

ORDER = 4  # tokens of context, plus one predicted
NEWLINE = "\n"
_TOKEN = re.compile(r"\n|[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_NO_SPACE_BEFORE = set(".,;:!?)]}%'’”") | {"n't", "'s"}
_NO_SPACE_AFTER = set("([{“$#")
_ENDS = set(".?!")
_PUNCT = set(".,;:!?)]}")


#: Markup and quotes carry no words; dropping them keeps the model's text clean.
_DROP = set('"*`_#>|“”') | {"'"}


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.replace("\r", "")) if t not in _DROP]


def detokenize(tokens: Iterable[str]) -> str:
    out = ""
    quote_open = False
    for tok in tokens:
        if tok == NEWLINE:
            out = out.rstrip(" ") + "\n"
            continue
        if tok == '"':
            if quote_open:
                out = out.rstrip(" ") + '"'
            else:
                out += ("" if not out or out.endswith(("\n", " ", "(")) else " ") + '"'
            quote_open = not quote_open
            continue
        glue = not out or out.endswith("\n") or out[-1] in _NO_SPACE_AFTER or tok in _NO_SPACE_BEFORE
        out += tok if glue else " " + tok
    return out.strip()


class NgramModel:
    def __init__(self, order: int = ORDER):
        self.order = order
        self.counts: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        self.tokens = 0

    def train(self, text: str) -> None:
        """Count every n-gram of a document; paragraphs are separated by a blank line."""
        for paragraph in re.split(r"\n\s*\n", text):
            toks = [t for t in tokenize(paragraph.strip())]
            if not toks:
                continue
            toks = [NEWLINE, *toks, NEWLINE]
            self.tokens += len(toks)
            for i in range(1, len(toks)):
                for n in range(0, self.order):
                    if i - n < 0:
                        break
                    self.counts[tuple(toks[i - n:i])][toks[i]] += 1

    def next_distribution(self, context: list[str]) -> Counter:
        """Counts of each next token after the longest context the data has seen."""
        for n in range(min(self.order - 1, len(context)), -1, -1):
            seen = self.counts.get(tuple(context[len(context) - n:]) if n else ())
            if seen:
                return seen
        return Counter()

    def log_likelihood(self, text: str) -> tuple[float, int]:
        """How surprising `text` is to this model: (total nats, tokens), each token predicted
        from the ones before it, as if the text began a paragraph (a final newline is a token:
        the end of the paragraph).

        Sampling backs off to the longest seen context; a likelihood must give every token some
        probability, so here the contexts are interpolated instead (Witten–Bell): a context seen
        c times with t distinct continuations gives a word it saw k times (k + t·P_shorter)/(c + t),
        down to a uniform share over the vocabulary plus one for unseen words. An unseen word thus
        costs a large but finite amount, and a fluent text costs less than a jumbled one."""
        vocabulary = len(self.counts.get((), ())) + 1
        totals: dict[tuple[str, ...], int] = {}
        context = [NEWLINE]
        nats = 0.0
        tokens = tokenize(text.lstrip())
        for tok in tokens:
            probability = 1 / vocabulary
            for n in range(0, min(self.order - 1, len(context)) + 1):
                key = tuple(context[len(context) - n:]) if n else ()
                seen = self.counts.get(key)
                if not seen:  # a longer context containing this one was never seen either
                    break
                if key not in totals:
                    totals[key] = sum(seen.values())
                probability = (seen[tok] + len(seen) * probability) / (totals[key] + len(seen))
            nats -= math.log(probability)
            context.append(tok)
        return nats, len(tokens)

    def continue_text(self, prompt: str, seed: int | None = None, max_tokens: int = 45, max_lines: int = 3) -> str:
        """Sample a continuation of `prompt`: the text a base model would write next."""
        rng = random.Random(zlib.crc32(prompt.encode("utf-8")) if seed is None else seed)
        context = [NEWLINE, *tokenize(prompt.strip())]
        out: list[str] = []
        lines = 0
        for _ in range(max_tokens):
            dist = self.next_distribution(context)
            if not dist:
                break
            if context[-1] in _ENDS:  # no "?," or "..": punctuation does not follow a sentence's end
                dist = Counter({t: w for t, w in dist.items() if t not in _PUNCT}) or dist
            choices, weights = zip(*sorted(dist.items()), strict=True)
            tok = rng.choices(choices, weights=weights)[0]
            if tok == NEWLINE:
                if not out or out[-1] == NEWLINE:
                    context.append(tok)
                    continue
                lines += 1
                if lines >= max_lines:
                    break
            out.append(tok)
            context.append(tok)
        text = detokenize(out)
        return text or "…"


def build_base_model(texts: Iterable[str], corpus_dir: Path = DATA_DIR / "corpus") -> NgramModel:
    model = NgramModel()
    for text in texts:
        model.train(text)
    for path in sorted(corpus_dir.glob("*.txt")) if corpus_dir.is_dir() else []:
        model.train(path.read_text(encoding="utf-8"))
    return model
