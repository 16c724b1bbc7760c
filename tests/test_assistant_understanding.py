"""Question understanding (issue 14): intents, concepts (whole names, typos, no stem that merges a
technical term with an everyday verb), parts; answers by intent through the real companion on a
real SQLite file; the FAQ and the new glossary fields checked with file:line and reloaded by
`/course reload`; the optional model grounded on the concepts asked; the wrong-with-citation count."""

from __future__ import annotations

import shutil

import pytest
from test_content_errors import errors, tree

from bot.core.assistant.evaluation import Report, cites_lesson, run_eval
from bot.core.assistant.understanding import Understanding, depth_of, intent_of, split_parts
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import load_course
from bot.core.users import Actor

CH07 = "ch07-fine-tuning-to-follow-instructions"


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(load_course(DEFAULT_CONTENT_DIR))


@pytest.fixture
async def core(tmp_path):
    """On SQLite only: these test the assistant's understanding of language; the history it
    stores is tested on both databases in test_assistant.py."""
    companion = await Companion.create(Settings(database=tmp_path / "c.db", content_dir=DEFAULT_CONTENT_DIR), clock=ManualClock())
    yield companion
    await companion.close()


def ann(user: str = "ann", instructor: bool = False) -> Actor:
    return Actor("test", user, user.title(), is_instructor=instructor)


@pytest.mark.parametrize("text, intent", [
    ("what is RLHF", "define"),
    ("what is the KL penalty for?", "purpose"),
    ("what does the reward model do", "purpose"),
    ("why do we need RLHF", "why"),
    ("how does reward modeling work", "how"),
    ("difference between RLHF and instruction tuning", "difference"),
    ("base model vs instruct model", "difference"),
    ("list the phases of RLHF", "list"),
    ("steps of the PPO phase plz", "list"),
    ("how does the PPO step work", "how"),
    ("give me an example of distillation", "example"),
    ("explain PPO like I'm five", "simpler"),
    ("tell me about the alignment tax in simple words", "simpler"),
    ("where in the lesson is the alignment tax", "where"),
    ("what's the formula for the KL penalty", "detail"),
    ("who invented PPO", "detail"),
])
def test_the_intent_of_a_question(text, intent):
    assert intent_of(text)[0] == intent


def test_concepts_are_whole_names_with_typos_and_plurals(understanding):
    names = lambda text: [c.term.term for c in understanding.concepts(text)]  # noqa: E731
    assert names("explain reward models simply") == ["reward model"]
    assert names("whats a reward modle") == ["reward model"]  # a typo
    assert names("reward modeling vs the reward model") == ["reward modeling", "reward model"]  # each span its best name
    assert names("what's the difference between RLHF and instruction tuning?") == ["RLHF", "instruction tuning"]
    assert names("the alignment tax") == ["alignment tax"]  # the longer name wins over "alignment"
    # no stemming: the verb "transform" is not the transformer architecture, "honestly" is not honesty
    assert names("how do you transform a base model into an assistant") == ["base model", "assistant"]
    assert names("honestly, what is it") == []
    assert names("what is the transformer architecture") == ["transformer architecture"]
    assert names("how do I bake bread") == []


def test_the_asked_depth():
    assert depth_of("explain RLHF in detail") == "deep" and depth_of("tell me everything about PPO") == "deep"
    assert depth_of("what is the alignment tax, briefly") == "short" and depth_of("what is RLHF") is None


async def test_an_answer_goes_as_deep_as_asked(core):
    deep = await say(core, "explain the alignment tax in detail", user="deep")
    short = await say(core, "what is RLHF briefly", user="short")
    plain = await say(core, "what is RLHF", user="plain")
    assert "The lesson, *The Alignment Tax*" in deep and "creative writing" in deep
    assert "in short" in short and len(short) < len(plain) + 40


def test_multi_part_questions_split_but_concept_lists_do_not():
    assert split_parts("what is SFT and why is it needed?") == ["what is SFT", "why is it needed?"]
    assert split_parts("capital of France and its population") == ["capital of France", "its population"]
    assert split_parts("what are SFT and PPO?") == ["what are SFT and PPO?"]
    assert split_parts("difference between RLHF and instruction tuning") == ["difference between RLHF and instruction tuning"]


def test_a_plus_sign_splits_parts_and_the_object_of_need_is_asked(understanding):
    assert split_parts("what is SFT + what is PPO") == ["what is SFT", "what is PPO"]
    assert [c.term.term for c in understanding.understand("why do models like ChatGPT need RLHF").asked][0] == "RLHF"
    assert [c.term.term for c in understanding.understand("what is ChatGPT and RLHF").asked][0] == "assistant"  # not a why/how


async def test_a_reply_giving_no_reason_to_a_why_is_not_cited(core):
    reply = await core.chat(ann(), "why do models like ChatGPT go beyond supervised fine-tuning with RLHF")
    assert "not sure" in reply.text and not cites_lesson(reply)


async def say(core: Companion, *messages: str, user: str = "ann") -> str:
    reply = None
    for message in messages:
        reply = await core.chat(ann(user), message)
    return reply.text


async def test_a_named_topic_wins_over_the_history(core):
    fresh = await say(core, "explain reward models simply", user="fresh")
    assert "reward model" in fresh and "refers to" not in fresh
    after = await say(core, "what is the alignment tax?", "explain reward models simply", user="after")
    assert "reward model" in after and "alignment tax" not in after.split("📖")[0]
    pointer = await say(core, "what is the alignment tax?", "explain that more simply", user="pointer")
    assert "alignment tax" in pointer.lower()  # a pointer still follows the history


async def test_each_intent_gets_its_own_passage(core):
    assert "judge" in await say(core, "what is the purpose of the reward model?", user="a")
    assert "Helpfulness: Providing" not in await say(core, "tell me about the alignment tax in simple words", user="b")
    why = await say(core, "why would RLHF make a model worse at creative writing?", user="c")
    assert "alignment tax" in why and "I don't know" not in why and "The Alignment Tax" in why
    where = await say(core, "where in the lesson is the KL penalty explained?", user="d")
    assert "Reinforcement Learning from Human Feedback" in where


async def test_both_sides_of_a_difference_are_answered(core):
    text = await say(core, "what's the difference between RLHF and instruction tuning?")
    assert "RLHF" in text and "instruction tuning" in text and "reward model" in text


async def test_other_chapters_details_not_given_and_partial_knowledge_are_said(core):
    other = await say(core, "what is the transformer architecture?", user="a")
    assert "another part of the course" in other and "Chapters 3-4" in other and "transform it into" not in other
    formula = await say(core, "what's the formula for the KL penalty?", user="b")
    assert "don't know" in formula and "doesn't give" in formula and "not a formula" in formula
    partial = await say(core, "translate 'I love machine learning' to German", user="c")
    assert "maschinelles Lernen" in partial and "not a translation of the whole sentence" in partial and "i love" in partial
    both = await say(core, "capital of France and its population", user="d")
    assert "Paris" in both and "don't know the population" in both
    lora = await say(core, "how does LoRA fine-tuning work?", user="e")
    assert lora.startswith("I don't know about LoRA")
    slang = await say(core, "yo what's rlhf", user="f")
    assert not slang.startswith("I don't know") and "reward modeling" in slang


def faq_tree(tmp_path, faq: str, glossary: str | None = None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    lesson = "# One\n\n<!-- SHALLOW -->\n## Basics\nShort words.\n<!-- /SHALLOW -->\n\n<!-- DEEP -->\n## Details\nLong words.\n<!-- /DEEP -->\n"
    root = tree(tmp_path, lesson=lesson)
    (root / "ch01" / "faq.yaml").write_text(faq, encoding="utf-8")
    if glossary is not None:
        (root / "ch01" / "glossary.yaml").write_text(glossary, encoding="utf-8")
    return root


def test_faq_problems_name_file_and_line(tmp_path):
    root = faq_tree(tmp_path,
                    "questions:\n"
                    "  - question: Why words?\n    answer: Because.\n    section: Detials\n    depth: deep\n"
                    "  - question: How long?\n    anwser: Long.\n    section: Details\n    depth: deep\n"
                    "  - question: why words?\n    answer: Again.\n    section: Details\n    depth: deep\n"
                    "  - question: Where?\n    paraphrases: where\n    answer: Here.\n    section: Basics\n    depth: middle\n")
    found = errors(root)
    assert any("ch01/faq.yaml:4:" in e and "Detials" in e and "Details" in e for e in found), found
    assert any("faq.yaml:7:" in e and "anwser" in e and "answer" in e for e in found), found
    assert any("faq.yaml:6:" in e and "`answer` is required" in e for e in found), found
    assert any("faq.yaml:10:" in e and "already asked at line 2" in e for e in found), found
    assert any("faq.yaml:15:" in e and "paraphrases" in e for e in found), found
    assert any("faq.yaml:18:" in e and "depth must be" in e for e in found), found
    good = faq_tree(tmp_path / "good", "questions:\n  - question: Why words?\n    paraphrases: [\"Why use words?\"]\n"
                    "    answer: Because.\n    section: Details\n    depth: deep\n")
    assert errors(good) == []


def test_glossary_contrast_must_name_a_term(tmp_path):
    glossary = ("terms:\n"
                "  - term: token\n    definition: A piece.\n    section: Basics\n    depth: shallow\n"
                "    contrast:\n      wrod: \"Different.\"\n"
                "  - term: word\n    definition: A word.\n    section: Basics\n    depth: shallow\n    purpose: 7\n")
    found = errors(faq_tree(tmp_path, "questions: []\n", glossary))
    assert any("glossary.yaml:7:" in e and "'wrod'" in e and "word" in e for e in found), found
    assert any("glossary.yaml:12:" in e and "`purpose` must be text" in e for e in found), found


async def test_course_reload_brings_in_a_new_faq(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    settings = Settings(database=tmp_path / "c.db", content_dir=content, instructors=frozenset({"test:teacher"}))
    core = await Companion.create(settings, clock=ManualClock())
    try:
        question = "how do annotators choose which response wins?"
        before = await core.chat(ann("a"), question)
        assert "FAQ-ANSWER-MARK" not in before.text
        faq = content / CH07 / "faq.yaml"
        faq.write_text(faq.read_text(encoding="utf-8") + (
            '\n  - question: "How do annotators choose which response wins?"\n'
            '    answer: "FAQ-ANSWER-MARK: humans rank them (Response A > Response B > Response C)."\n'
            '    section: "Reinforcement Learning from Human Feedback (RLHF)"\n    depth: deep\n'), encoding="utf-8")
        reloaded = await handle_text(core, ann("teacher", instructor=True), "/course reload")
        assert "Reloaded" in reloaded.text
        after = await core.chat(ann("b"), question)
        assert "FAQ-ANSWER-MARK" in after.text and "Reinforcement Learning from Human Feedback" in after.text
    finally:
        await core.close()


async def test_the_model_is_grounded_on_the_concepts_asked(core):
    simulated = core.assistant.simulated
    docs, notes = simulated.grounding("what's the difference between RLHF and instruction tuning?")
    titles = [d.title for d in docs]
    assert titles[:2] == ["Reinforcement Learning from Human Feedback (RLHF)", "From Completion to Conversational Assistant"]
    assert any(n.startswith("[Glossary: RLHF]") for n in notes) and any("[Glossary: instruction tuning]" in n for n in notes)
    docs, notes = simulated.grounding("what is the transformer architecture?")
    assert [d.title for d in docs] == ["Congratulations! 🎉"] and "only names it" in notes[0]


async def test_the_report_counts_wrong_answers_that_cite_a_source(core):
    cases = [{"id": "cited-wrong", "category": "why", "turns": [{"say": "what is RLHF?", "expect": {"contains": ["bananas"]}}]},
             {"id": "uncited-wrong", "category": "why", "turns": [{"say": "hello", "expect": {"contains": ["bananas"]}}]},
             {"id": "right", "category": "define", "turns": [{"say": "what is RLHF?", "expect": {"contains": ["reward"]}}]}]
    report: Report = await run_eval(core, cases)
    assert report.wrong_cited == 1 and report.judged_turns == 3
    assert "wrong answers that cite a source: 1 of 3" in report.table()


def test_the_understanding_set_covers_every_intent():
    from pathlib import Path

    from bot.core.assistant.evaluation import load_cases

    cases = load_cases(Path(__file__).parent / "assistant_eval_understanding.yaml")
    assert len(cases) >= 60 and len({c["id"] for c in cases}) == len(cases)
    assert {c["category"] for c in cases} == {"define", "purpose", "why", "how", "difference", "list", "example", "simpler",
                                              "where", "multipart", "other_chapter", "not_in_course", "followup"}


# ---- round 2: the classes of the first blind run's failures ------------------------------------

def test_outline_problems_name_file_and_line(tmp_path):
    course = ("title: Test course\nchapters:\n  - number: 1\n    folder: ch01\n    title: One\n"
              "outline:\n"
              "  - number: 2\n    title: Two\n    vocabulary: [stride, Stride]\n"
              "  - number: 1\n    title: Again\n    vocabulary: [x]\n"
              "  - number: 3\n    title: Three\n"
              "  - number: 4\n    title: Four\n    vocabulary: [widget]\n    pages: 3\n")
    found = errors(tree(tmp_path, course=course))
    assert any("course.yaml:9:" in e and "'Stride' is already in the outline (line 9)" in e for e in found), found
    assert any("course.yaml:10:" in e and "chapter 1 has content" in e for e in found), found
    assert any("course.yaml:13:" in e and "needs a vocabulary" in e for e in found), found
    assert any("course.yaml:18:" in e and "unknown outline field 'pages'" in e for e in found), found
    (tmp_path / "good").mkdir()
    good = tree(tmp_path / "good", course=course.split("outline:")[0] + "outline:\n  - number: 2\n    title: Two\n    vocabulary: [stride]\n")
    assert errors(good) == []


def test_an_outline_phrase_cannot_be_a_term_this_course_teaches(tmp_path):
    root = faq_tree(tmp_path, "questions: []\n", "terms:\n  - term: token\n    definition: A piece.\n    section: Basics\n    depth: shallow\n")
    course = (root / "course.yaml").read_text(encoding="utf-8") + "outline:\n  - number: 2\n    title: Two\n    vocabulary: [Token]\n"
    (root / "course.yaml").write_text(course, encoding="utf-8")
    assert any("course.yaml:9:" in e and "'Token' is a glossary term" in e for e in errors(root))


def test_other_chapters_vocabulary_is_found_longest_first(understanding):
    hits = understanding.elsewhere("how does multi head attention use a causal mask?")
    assert [(h.phrase, h.chapter.number) for h in hits] == [("multi-head attention", 3), ("causal mask", 3)]
    assert [h.phrase for h in understanding.elsewhere("explain top-k sampling and temprature")] == ["top-k sampling", "temperature"]
    assert understanding.elsewhere("what is RLHF?") == []


async def test_a_request_that_is_only_the_steps_of_something_gets_the_lessons_list(core):
    steps = await say(core, "steps of the PPO phase plz", user="a")
    assert steps.startswith("From the lesson, Phase 3 - Reinforcement Learning (PPO):") and '1. Use the reward model as the "judge"' in steps


async def test_the_lessons_chat_panel_is_found_however_it_is_named(core):
    for n, text in enumerate(["where can i try talking to the simulated chat model?", "what's the chat thing in this chapter supposed to show me?"]):
        panel = await say(core, text, user=f"p{n}")
        assert "chat panel" in panel and "simulated instruction-tuned model" in panel and "How It Works" in panel


async def test_another_chapters_term_as_the_scene_does_not_take_over_the_question(core):
    why = await say(core, "ok so why do we even need instruction tuning after all the pretraining", user="a")
    assert why.startswith("Why **instruction tuning**") and "document completer" in why  # answered about this chapter's term
    assert "Side note: chapter 5 itself isn't in the content I have" in why  # and honest that pretraining isn't here
    about = await say(core, "what happens after pretraining?", user="b")
    assert "belongs to Chapter 5" in about  # nothing of this chapter asked: the notice still wins
    topic = await say(core, "how does pretraining work before instruction tuning?", user="c")
    assert "belongs to Chapter 5" in topic  # the term is the topic, this chapter's term the scene
    dataset = await say(core, "example of a big pretraining dataset?", user="d")
    assert "The Pile" in dataset and "belongs to Chapter 5" in dataset  # the lesson's mention answers it, with where it is taught
    both = await say(core, "how big a GPT-2 does it suggest building, and what dataset for pretraining it?", user="e")
    assert "117M" in both and "The Pile" in both  # "for pretraining GPT-2": this chapter's GPT-2 is what it's for, not asked of the line


async def test_a_concept_of_another_chapter_says_where_it_is_taught(core):
    bpe = await say(core, "what is byte pair encoding?", user="a")
    assert bpe.startswith("**byte pair encoding** belongs to Chapter 2 (*Working with Text Data*)") and "don't know" in bpe
    assert "places it in the course" in bpe  # the pipeline's "(Ch 2)": where this chapter names it, not an answer
    spam = await say(core, "how would I build a spam classifier with a GPT?", user="b")
    assert "Chapter 6" in spam and "document completer" not in spam
    mention = await say(core, "explain positional embeddings", user="c")
    assert "Chapter 2" in mention and "places it in the course" in mention  # and where chapter 7 names that chapter
    mine = await say(core, "what is instruction tuning?", user="d")
    assert "another part of the course" not in mine  # this chapter's own term is still answered
    weather = await say(core, "what's the temperature in Paris today?", user="f")
    assert "Chapter 5" not in weather  # an everyday word in an everyday question is not a course term
    versus = await say(core, "what's the difference between a spam classifier and an instruction-tuned model?", user="e")
    assert "follows commands" in versus and "Chapter 6" in versus and "can't compare" in versus


async def test_course_reload_brings_in_a_new_outline(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    settings = Settings(database=tmp_path / "c.db", content_dir=content, instructors=frozenset({"test:teacher"}))
    core = await Companion.create(settings, clock=ManualClock())
    try:
        assert "Chapter 6" not in (await core.chat(ann("a"), "what is a frobnicator head?")).text
        course = content / "course.yaml"
        course.write_text(course.read_text(encoding="utf-8").replace("[spam classifier,", "[frobnicator head, spam classifier,"), encoding="utf-8")
        assert "Reloaded" in (await handle_text(core, ann("teacher", instructor=True), "/course reload")).text
        assert "Chapter 6" in (await core.chat(ann("b"), "what is a frobnicator head?")).text
    finally:
        await core.close()


@pytest.mark.parametrize("text, kind", [
    ("what batch size is used for SFT?", "spec"), ("which loss does the reward model use", "spec"),
    ("what's the exact architecture of the reward model", "spec"), ("how do I mask padding tokens?", "spec"),
    ("show me the pytorch code for PPO", "spec"), ("which learning rate for SFT", "number"),
    ("what exactly is RLHF", None),  # "exactly" alone asks for a definition, not a detail
])
def test_detail_requests_are_recognised(text, kind):
    intent, found = intent_of(text)
    assert (found if intent == "detail" else None) == kind


async def test_a_detail_the_lesson_does_not_state_is_named_as_unknown(core):
    batch = await say(core, "what batch size do they use for instruction tuning?", user="a")
    assert batch.startswith("I don't know the batch size for instruction tuning")
    counted = await say(core, "precisely how many responses are generated per prompt for reward modeling?", user="b")
    assert counted.startswith("I don't know that number")  # "Phase 2" is a label, not a count of responses
    stated = await say(core, "how many instruction-response pairs does a typical dataset have?", user="c")
    assert "10K-100K" in stated and "don't know" not in stated
    both = await say(core, "what does the reward model do and what loss function is it trained with?", user="d")
    assert "judge" in both and "I don't know the loss function for reward model" in both and "I answered the part I know" in both


async def test_sections_answer_questions_no_glossary_term_names(core):
    after = await say(core, "what should I do after finishing the course?", user="a")
    assert "Implement from scratch" in after and "What's Next?" in after
    recap = await say(core, "what did we learn in the whole course?", user="b")
    assert "Tokenization and embeddings" in recap and "Congratulations" in recap
    frameworks = await say(core, "which frameworks does the lesson recommend?", user="c")
    assert "PyTorch/JAX" in frameworks
    gist = await say(core, "what is this chapter about in one sentence?", user="d")
    assert "A base model completes text" in gist
    panel = await say(core, "what is the Try the Chat thing?", user="e")
    assert "panel" in panel and "simulated instruction-tuned" in panel
    weather = await say(core, "what's the weather next week?", user="f")
    assert weather.startswith("I don't know") and "📖" not in weather  # no near miss cited


async def test_an_example_request_picks_units_that_exemplify_the_word_asked(core):
    datasets = await say(core, "give an example of a dataset for instruction tuning", user="a")
    assert "Alpaca/Dolly" in datasets and "Translate" not in datasets
    instructions = await say(core, "what are some example instructions the model is trained on?", user="b")
    assert "Translate 'Hello' to Spanish" in instructions


async def test_follow_ups_resolve_the_items_of_the_previous_answer(core):
    second = await say(core, "what are the phases of rlhf", "explain the second one more", user="a")
    assert second.startswith("That one is **Phase 2 - Reward Modeling**") and "human preferences" in second
    which_one = await say(core, "list the data collection strategies", "which one uses GPT-4?", user="b")
    assert "Distillation" in which_one and "Human-written" not in which_one
    prose = await say(core, "what are the data collection strategies", "explain the first one", user="c")
    assert "annotators" in prose  # the answer named them in prose; its section lists them
    them = await say(core, "why does rlhf matter", "list them", user="d")
    assert "1. Helpfulness" in them and "3. Honesty" in them
    assert "first" not in (await say(core, "first, what is rlhf?", user="e"))[:40]  # "first," is no pointer


def test_item_resolution():
    from bot.core.assistant.items import asks_for_them, items_of, ordinal, which
    items = items_of("From the lesson:\n1. Phase 1 - SFT\n2. Phase 2 - Reward Modeling\n• Phase 3 - PPO")
    assert items == ["Phase 1 - SFT", "Phase 2 - Reward Modeling", "Phase 3 - PPO"]
    assert ordinal("tell me about the last one", 3) == 2 and ordinal("the 2nd step?", 3) == 1 and ordinal("first, why?", 3) is None
    assert which("which one is about reward?", items) == 1 and which("what is PPO", items) is None
    assert which("what about the ppo one?", items) == 2 and which("the last one", items) is None  # an ordinal is no name
    assert asks_for_them("list them") and not asks_for_them("list the phases")


async def test_a_simpler_answer_keeps_the_key_words_of_the_definition(core):
    simple = await say(core, "distillation for dummies", user="a")
    assert "GPT-4" in simple and "smaller models" in simple
    tax = await say(core, "explain the alignment tax simply", user="b")
    assert "raw capability" in tax and "safe" in tax


async def test_the_opposite_of_the_last_term_is_the_term_the_glossary_contrasts_it_with(core):
    opposite = await say(core, "what does autocomplete mean", "and what's the opposite called?", user="a")
    assert "contrasts **autocomplete** with **assistant**" in opposite
    labelled = await say(core, "what r the phases of rlhf", "go deeper on number 3", user="b")
    assert labelled.startswith("That one is **Phase 3") and "PPO" in labelled  # "Phase N" lines are items, and the section has all three


async def test_a_quantity_the_lesson_states_is_found_wherever_it_is(core):
    data = await say(core, "how much data do i need to instruction tune a model", user="a")
    assert "10K-100K" in data and "don't know" not in data
    named = await say(core, "which datasets are named in the lesson", user="b")
    assert "Alpaca/Dolly" in named and "The Pile" in named and "Typical dataset" not in named


async def test_where_a_section_is_answered_with_the_place_not_its_content(core):
    where = await say(core, "where's the part about datasets?", user="a")
    assert where.startswith("That is in Chapter 7, section *Instruction Datasets*")


# ---- round 3: the coverage gate, the whole-question fallback, sub-lists, sequences, the outline ----------

from bot.core.assistant.coverage import aspect_words, best_unit, gate_fails, uncovered  # noqa: E402
from bot.core.command_line import handle_text


def test_aspect_words_leave_out_fillers_intent_words_and_the_concept():
    assert aspect_words("how does the value head inside the reward model work", ["reward model"]) == ["value", "head"]
    assert aspect_words("what is PPO?", ["PPO"]) == []
    assert aspect_words("why do we even need this?") == []


def test_the_gate_accepts_a_passage_that_addresses_the_rest_of_the_question():
    passage = "Balance with KL-divergence penalty to prevent drift from original model"
    assert gate_fails("how does the kl penalty stop the model straying", passage, ["kl penalty"]) == []  # general synonyms
    assert gate_fails("what does the reward model predict", "trained to predict human preferences", ["reward model"]) == []
    assert uncovered("why are responses ranked", "Humans rank them (Response A > Response B)") == []  # morphology


def test_the_gate_names_the_aspect_a_passage_does_not_give():
    definition = "Proximal Policy Optimization, used in phase 3 of RLHF to maximize the reward."
    assert gate_fails("does PPO use a replay buffer", definition, ["PPO"]) == ["replay", "buffer"]
    assert gate_fails("how can we avoid the alignment tax", "The trade-off in which RLHF can reduce raw capability",
                      ["alignment tax"]) == ["avoid"]


def test_best_unit_needs_a_clear_winner_that_covers_most_words():
    units = [("a", "Humans rank them (Response A > Response B > Response C)"),
             ("b", "Hire annotators to write instruction-response pairs"),
             ("c", "Collect real conversations with privacy safeguards")]
    pick = lambda q: best_unit(q, units, lambda pair: pair[1], lambda s: 1.0)  # noqa: E731
    assert pick("why do people put the answers in order") == units[0]
    assert pick("why do penguins huddle in winter") is None  # nothing covers it
    assert pick("how long is it") is None  # one word is not a paraphrase


async def test_an_aspect_the_lesson_does_not_give_is_said_to_be_unknown(core):
    reply = await say(core, "does ppo use a replay buffer")
    assert "don't know" in reply and "replay buffer" in reply and "not an answer to that" in reply
    reply = await say(core, "does the reward model use a transformer", user="bo")
    assert "don't know" in reply and "Base model prompt" not in reply
    reply = await say(core, "how does the kl penalty keep the model from drifting", user="cy")
    assert "prevent drift" in reply and "don't know" not in reply
    reply = await say(core, "what is sft and does it use a replay buffer?", user="di")
    assert "instruction-response pairs" in reply and "don't know" in reply


async def test_a_paraphrase_of_the_lesson_finds_its_passage(core):
    reply = await say(core, "why do people put the generated replies in order from best to worst")
    assert "Humans rank them" in reply
    assert "don't know" in await say(core, "why do penguins huddle together in winter", user="bo")


async def test_a_list_under_a_named_item_and_the_next_item(core):
    reply = await say(core, "what are the steps of phase two")
    assert "Humans rank them" in reply and "Phase 1 - Supervised" not in reply
    assert "Phase 3 - Reinforcement Learning" in await say(core, "what comes next")
    assert "Phase 2 - Reward Modeling" in await say(core, "and what comes before that")
    assert "last" in await say(core, "explain phase 3", "what happens after that", user="bo")


async def test_a_lesson_example_named_by_its_topic(core):
    reply = await say(core, "what was that example about paris")
    assert "The capital of France is Paris" in reply and "refers to" not in reply
    assert "refers to" in await say(core, "give me that example", user="bo")


def test_outline_phrases_match_in_any_order_and_form(understanding):
    found = understanding.elsewhere("how are weights that were pretrained loaded")
    assert found and found[0].chapter.number == 5
    found = understanding.elsewhere("what does the classification chapter teach")
    assert found and found[0].chapter.number == 6


# ---- round 4: the gate's aspect words by English word frequency (wordfreq, offline) --------------------

@pytest.fixture(autouse=True)
def _vocabulary_restored():
    from bot.core.assistant import coverage
    saved = (set(coverage._course_words), set(coverage._lesson_words))
    yield
    coverage.register_vocabulary(*saved)


def test_word_frequency_decides_everyday_words_and_typos():
    from bot.core.assistant import coverage
    coverage.register_vocabulary(["PPO", "RLHF", "mask"], ["rlhf", "annotators", "instruction-response"])
    for everyday in ("honestly", "exam", "marketing", "sentence", "enough"):
        assert coverage.everyday(everyday), everyday
    for rare in ("replay", "buffer", "critic", "lora", "sycophancy", "mask"):
        assert not coverage.everyday(rare), rare  # rare English, or a word of the course's own term names
    assert coverage.typo_of("waht") == "what" and coverage.typo_of("expalin") == "explain"
    assert coverage.typo_of("diffrence") == "difference"
    assert coverage.typo_of("lora") is None and coverage.typo_of("rlhf") is None  # a lesson word is never a typo


def test_gate_words_keep_rare_aspects_and_drop_the_setting():
    from bot.core.assistant.coverage import gate_words, register_vocabulary
    register_vocabulary(["PPO", "KL", "penalty"], [])
    assert gate_words("i have my final exam tomorrow, whats the kl penalty", ["kl penalty"]) == []
    assert gate_words("explain the kl penalty in one sentence, honestly", ["kl penalty"]) == []
    assert gate_words("does ppo use a replay buffer", ["ppo"]) == ["replay", "buffer"]
    assert gate_words("is distillation allowed by the license", ["distillation"]) == ["license"]  # asked, in its clause


async def test_noise_words_do_not_refuse_and_rare_aspects_still_do(core):
    reply = await say(core, "ok so my exam is on friday, what does the reward model do")
    assert "judge" in reply and "don't know" not in reply
    assert "don't know" not in await say(core, "expalin the kl penalty pls", user="bo")
    assert "don't know" in await say(core, "does rlhf use beam search", user="cy")


async def test_another_chapter_in_passing_is_a_side_remark(core):
    reply = await say(core, "I built my GPT in chapter 4, what is the reward model for")
    assert "judge" in reply and "Side note: chapter 4" in reply


async def test_a_reply_that_says_it_does_not_know_names_the_closest_part_without_citing_it(core):
    """The wrong-with-citation lever: a hedged reply points at the closest passage for the student, but
    never presents it as its source (no "📖 Source:" line, no Read button), so it can't lend a wrong
    passage the lesson's authority; a confident answer still cites."""
    hedged = await core.chat(ann(), "what's the formula for the KL penalty?")
    assert hedged.text.startswith("I don't know") and "closest part of the lesson, which is not an answer" in hedged.text
    assert "Reinforcement Learning from Human Feedback (RLHF)" in hedged.text
    assert not hedged.buttons and not cites_lesson(hedged)
    sure = await core.chat(ann("bob"), "how big is a typical instruction dataset?")
    assert "10K-100K" in sure.text and cites_lesson(sure) and "Data Collection Strategies" in sure.buttons[0].label


# ---- round 6: the asked concept, premise clauses, calibrated citations ---------------------------

def test_the_asking_clause_and_its_concepts(understanding):
    from bot.core.assistant.understanding import Question
    text = "instruction tuning already teaches the format, so why bother with the RL part"
    question = Question(text, "why", understanding.concepts(text))
    assert question.asking_clause == "why bother with the RL part"
    assert [c.term.term for c in question.asked] == ["RLHF"]  # "RL" names RLHF; instruction tuning is the premise
    one = Question("what is PPO in RLHF", "define", understanding.concepts("what is PPO in RLHF"))
    assert one.asking_clause == one.text and [c.term.term for c in one.asked] == ["PPO", "RLHF"]


def test_chat_register_and_the_students_situation_are_not_aspects():
    from bot.core.assistant.coverage import gate_words, register_vocabulary
    register_vocabulary(["alignment", "tax", "SFT"], [])
    assert gate_words("isnt sft enough, exam tmrw", ["sft"]) == []
    assert gate_words("explain the alignment tax, my prof mentioned it and I zoned out", ["alignment tax"]) == []
    assert gate_words("does sft use a replay buffer", ["sft"]) == ["replay", "buffer"]  # rare words still asked


async def test_a_guess_about_a_premise_concept_is_hedged_and_not_cited(core):
    """When the asking clause names nothing the engine knows, the answer about the premise's concept is
    the closest thing, said so to the student, and carries no citation; the asked concept otherwise wins."""
    unsure = await core.chat(ann(), "I get what SFT does, so why do people stack extra training on top of it")
    assert unsure.text.startswith("I'm not sure") and "closest part of the lesson" in unsure.text
    assert not unsure.buttons and not cites_lesson(unsure)
    asked = await core.chat(ann("bob"), "what is PPO in RLHF")
    assert asked.text.startswith("**PPO**") and cites_lesson(asked)


async def test_a_why_answer_cites_the_section_that_says_why(core):
    """RLHF's glossary *why* and *purpose* are said in "Why RLHF Matters", not in RLHF's own section."""
    for n, question in enumerate(["why do we need RLHF?", "what is RLHF for?"]):
        reply = await core.chat(ann(f"u{n}"), question)
        assert "human values" in reply.text and cites_lesson(reply) and "Why RLHF Matters" in reply.buttons[0].label
    own = await core.chat(ann("v"), "what is the reward model for?")  # said in its own section: cited there
    assert "Reinforcement Learning from Human Feedback" in own.buttons[0].label


# ---- round 8 -------------------------------------------------------------------------------

def test_a_pointer_is_found_where_it_is_said():
    from bot.core.assistant.items import ordinal, pointer_span, quoted_names
    text = "why is there a penalty in the last one?"
    start, end = pointer_span(text, 3)
    assert text[start:end] == "the last one" and ordinal(text, 3) == 2
    assert pointer_span("first, what is RLHF?", 3) is None  # not a pointer
    assert quoted_names('Read papers: "Attention is All You Need", "Language Models are Few-Shot Learners"') == [
        "Attention is All You Need", "Language Models are Few-Shot Learners"]


def test_how_a_thing_is_used_is_not_how_it_is_trained(understanding):
    from bot.core.assistant.faq_match import FaqIndex
    faq = FaqIndex(load_course(DEFAULT_CONTENT_DIR), understanding)
    used = faq.match(understanding.understand("how is the reward model used?"))
    trained = faq.match(understanding.understand("how is the reward model trained?"))
    assert used is not None and "judge" in used.answer
    assert trained is not None and "rank" in trained.answer and "judge" not in trained.answer


def test_an_faq_phrasing_must_share_more_than_the_concept(understanding):
    from bot.core.assistant.faq_match import FaqIndex
    faq = FaqIndex(load_course(DEFAULT_CONTENT_DIR), understanding)
    assert faq.match(understanding.understand("rlhf aligns the model with what exactly?")) is None
    assert faq.match(understanding.understand("what is the downside of rlhf?")) is not None


async def test_a_question_about_a_listed_item_is_answered_about_it(core):
    await core.chat(ann(), "what papers does the lesson suggest?")  # the four suggestions: the second is "Experiment"
    reply = await core.chat(ann(), "who wrote the second one?")
    assert "don't know" in reply.text and "Experiment" in reply.text and not cites_lesson(reply)
    await core.chat(ann("cy"), "what papers should I read after this course")  # one line, two titles: a title each
    reply = await core.chat(ann("cy"), "who wrote the second one?")
    assert "don't know" in reply.text and "Few-Shot Learners" in reply.text and not cites_lesson(reply)
    await core.chat(ann("bo"), "what are the phases of RLHF?")
    reply = await core.chat(ann("bo"), "why is there a penalty in the last one?")
    assert "drift" in reply.text and cites_lesson(reply)


async def test_how_many_without_a_number_is_not_cited(core):
    reply = await core.chat(ann(), "how many responses per prompt are generated for ranking?")
    assert reply.text.startswith("I don't know that number") and not cites_lesson(reply)
    reply = await core.chat(ann(), "how many instruction-response pairs does a typical dataset have?")
    assert "10K-100K" in reply.text and cites_lesson(reply)


async def test_where_names_both_pages_of_a_passage_given_twice(core):
    reply = await core.chat(ann(), "which part has the translate hello to spanish example?")
    assert "*Instruction Datasets* (deep" in reply.text and "*How It Works* (shallow" in reply.text
    assert "Hola" in reply.text and cites_lesson(reply)


def test_an_aside_about_my_english_is_not_a_question():
    from bot.core.assistant.simulated import _about_my_english
    assert _about_my_english("more simple please, english is not my first language") == "more simple please"
    assert _about_my_english("my english is not very good") == "explain that more simply"
    assert _about_my_english("what is the English for hola?") == "what is the English for hola?"


def test_a_name_before_a_kind_word_is_an_instance_but_a_sentence_opening_is_not():
    from bot.core.assistant.skills_sections import _names_a
    assert _names_a("The Pile dataset for pretraining", "dataset")
    assert _names_a("Alpaca/Dolly datasets for instruction tuning", "dataset")
    assert _names_a("Hugging Face Transformers library", "librari")
    assert not _names_a("Typical dataset sizes: 10K-100K instruction-response pairs", "dataset")
    assert not _names_a("Typical dataset sizes: 10K-100K instruction-response pairs", "instruct")  # "100K instruction"
    assert not _names_a("After seeing thousands of examples, the model learns to follow ANY instruction!", "instruct")


def test_the_part_named_before_its_whole_is_asked(understanding):
    assert [c.term.term for c in understanding.understand("what's the goal of the honesty part of alignment").asked][0] == "honesty"


async def test_a_named_instance_is_narrowed_to_the_purpose_and_carried_to_a_follow_up(core):
    first = await core.chat(ann(), "is there a real dataset I could use for instruction tuning?")
    assert "Alpaca" in first.text and "Pile" not in first.text and "What's Next?" in first.text
    second = await core.chat(ann(), "and the one for pretraining?")
    assert "Pile" in second.text and "Alpaca" not in second.text


async def test_a_labelled_step_is_answered_with_its_lines_unless_a_concept_inside_it_is_asked(core):
    steps = await core.chat(ann(), "steps of phase 3?")
    assert "KL-divergence penalty" in steps.text and "judge" in steps.text and "Phase 3" in steps.text
    inside = await core.chat(ann("bo"), "what is the KL penalty in phase 3")
    assert "Phase 3 - " not in inside.text and "drift" in inside.text


async def test_an_everyday_word_the_passage_lacks_gives_the_closest_part_uncited(core):
    reply = await core.chat(ann(), "which job does the judge serve in phase 3")  # "serve": everyday wording
    assert reply.text.startswith("I'm not sure") and "judge" in reply.text and not cites_lesson(reply)
    assert "which may not answer exactly that" in reply.text and "Reinforcement Learning from Human Feedback" in reply.text
    reply = await core.chat(ann(), "does ppo use beam search")  # two everyday words side by side: a term the lesson lacks
    assert reply.text.startswith("I don't know that") and "beam search" in reply.text and not cites_lesson(reply)


def test_an_inflection_of_an_everyday_word_is_everyday_for_the_hedge_only():
    from bot.core.assistant.coverage import everyday, lemma_zipf, zipf
    assert lemma_zipf("separates") >= 4.0 > zipf("separates")
    assert everyday("separates", inflected=True) and not everyday("separates")
    assert not everyday("annealed", inflected=True)  # not a word's inflection that wordfreq knows: rare
    assert lemma_zipf("lora") == zipf("lora")


def test_numbered_questions_are_parts():
    assert split_parts("1) why does a base model answer with a question 2) what are the RLHF phases") == [
        "why does a base model answer with a question", "what are the RLHF phases"]
    assert split_parts("a) what is SFT b) what is PPO") == ["what is SFT", "what is PPO"]
    assert split_parts("what happens in phase 1) and 2)") == ["what happens in phase 1) and 2)"]  # not counted from the start


async def test_a_follow_up_that_names_its_noun_is_asked_about_it(core):
    await core.chat(ann(), "what is instruction tuning")
    reply = await core.chat(ann(), "how many examples does that take?")  # a number, not an example
    assert "10K-100K" in reply.text
    await core.chat(ann("bo"), "how large is a typical instruction dataset")
    reply = await core.chat(ann("bo"), "show me an example of one pair")  # of a pair, not of the dataset size's section
    assert "Hola" in reply.text and "Data Collection" not in reply.text
    from bot.core.assistant.turns import Turn
    resolve = core.assistant.simulated._resolve_pronoun
    after_size = Turn({"skill": "course", "term": "dataset size"})
    assert resolve("and where do people get that data from?", after_size) == "and where do people get the data from?"
    after_kl = Turn({"skill": "course", "term": "KL-divergence penalty"})
    assert resolve("why is that penalty needed", after_kl) == "why is KL-divergence penalty needed"
    assert resolve("why is it needed", after_kl) == "why is KL-divergence penalty needed"


def test_where_something_comes_from_is_a_source_not_a_place_in_the_lesson():
    from bot.core.assistant.understanding import asks_source
    assert asks_source("where does the training data come from")
    assert asks_source("where could we get annotators") and asks_source("where do i meet other learners")
    assert not asks_source("where can i find the paper recommendations")  # "the …": a place in the lesson
    assert not asks_source("where in the lesson does the data come from")  # the lesson's own words: a place


async def test_a_where_from_follow_up_answers_with_the_source(core):
    await core.chat(ann(), "how large is an instruction dataset usually")
    reply = await core.chat(ann(), "ok and where would that data come from then")
    assert "annotators" in reply.text and "That is in Chapter" not in reply.text


async def test_an_elliptical_which_ones_part_takes_the_noun_of_the_part_before(core):
    reply = await core.chat(ann(), "which dataset does the lesson name for pretraining and which ones for instruction tuning")
    assert "Pile" in reply.text and "Alpaca" in reply.text
    from bot.core.assistant.simulated import _with_asked_noun
    assert _with_asked_noun("and which one for SFT", "which paper is first") == "and which paper for SFT"
    assert _with_asked_noun("which ones are rare", "what is SFT") == "which ones are rare"  # "is": no noun was asked


async def test_a_simpler_follow_up_in_any_words_simplifies_the_last_answer(core):
    await core.chat(ann(), "list the phases of rlhf")
    reply = await core.chat(ann(), "explain this to me like I'm ten")  # each phase of the last answer, not RLHF's definition
    assert "Put simply, **reward modeling**" in reply.text and "three steps" not in reply.text
    await core.chat(ann("bo"), "list the phases of rlhf")
    reply = await core.chat(ann("bo"), "way too much info, simple version please")
    assert reply.text.startswith("Put simply") and "reward" in reply.text


async def test_the_faq_reads_this_chapter_as_this_course(core):
    reply = await core.chat(ann(), "how do I continue learning after this chapter?")  # the FAQ says "after this course"
    assert "Hugging Face" in reply.text and "Reward Modeling" not in reply.text


async def test_a_count_before_a_list_noun_asks_for_the_list(core):
    assert intent_of("two phases of rlhf?")[0] == "list" and intent_of("3 ways it fails")[0] == "list"
    reply = await core.chat(ann(), "3 ways to gather instruction data?")  # not the instruction dataset's definition
    assert "Distillation" in reply.text and "User interactions" in reply.text


async def test_a_detail_part_is_answered_alone_only_by_a_passage_that_holds_such_a_detail(core):
    reply = await core.chat(ann(), "explain the KL penalty and what value to set")  # "value" is not the lesson's human values
    assert "Helpfulness" not in reply.text and "I don't know that number for KL-divergence penalty" in reply.text


async def test_a_define_question_cites_the_asked_term_not_its_neighbour(core):
    reply = await core.chat(ann(), "SFT meaning pls, my notes just say SFT then phase 2")  # not phase 2's definition
    assert "**supervised fine-tuning**" in reply.text and "**reward modeling**" not in reply.text and cites_lesson(reply)
    reply = await core.chat(ann("bo"), "what kind of fine-tuning is instruction tuning")  # no define words by either name
    assert reply.text.startswith("**instruction tuning**") and cites_lesson(reply)


async def test_a_cited_answer_must_hold_the_asked_intent_or_be_given_uncited(core):
    reply = await core.chat(ann(), "why do models like chatgpt go further than just supervised fine-tuning?")  # not why SFT exists
    assert reply.text.startswith("I'm not sure") and not cites_lesson(reply)
    reply = await core.chat(ann("bo"), "what does RLHF make better?")  # a definition doesn't say what it improves
    assert reply.text.startswith("I'm not sure") and "**RLHF**" in reply.text and not cites_lesson(reply)
    reply = await core.chat(ann("cy"), "what is RLHF?")  # a definition asked: still cited
    assert cites_lesson(reply)


async def test_a_where_from_question_is_not_cited_with_a_passage_without_a_source(core):
    await core.chat(ann(), "how big are instruction datasets typically?")
    reply = await core.chat(ann(), "where do all those pairs come from?")  # the sizes line holds no source
    assert "10K" in reply.text and reply.text.startswith("I'm not sure") and not cites_lesson(reply)


async def test_a_why_question_answered_by_a_bare_definition_is_not_cited(core):
    await core.chat(ann(), "what keeps the model close to the original one during PPO?")
    reply = await core.chat(ann(), "why is that needed tho")  # PPO's definition gives no reason
    assert not reply.text.startswith("**PPO**") and not cites_lesson(reply)
