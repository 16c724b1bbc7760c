"""The harmlessness check: requests for clearly dangerous help are refused, briefly, with why.

It runs before every skill and before any real model. It looks for a harmful *act* aimed at a
harmful *object* (make + bomb, hurt + a person, write + ransomware), not for scary words alone,
so "How do I kill a Python process?" or "What does a malware analyst do?" are still answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Harm:
    category: str
    reason: str


_MAKE = r"(make|making|build|building|create|creating|assemble|synthesi[sz]e|synthesi[sz]ing|cook|cooking|produce|manufacture|brew|3d[- ]print|get|buy|obtain|acquire|write|writing|code|develop|design|deploy|spread|use|plant|detonate)"
_HOW = r"((best|easiest|quickest|fastest|cheapest|simplest|good) ways? to|ways to|how (do|can|could|would|should|to|might) (i|you|we|one|someone)?|how to|steps to|instructions (for|to)|guide (to|for)|help me|teach me|show me how to|tell me how to|i want to|i need to|i'm going to|im going to|i will|let's|lets|recipe for|tutorial (on|for))"
_ACT = r"(hack|break into|steal|kill|murder|poison|stab|hurt|harm|attack|kidnap|torture|shoot)\b"
_PEOPLE = r"(someone|somebody|a person|people|person|my (wife|husband|boss|neighbou?r|friend|teacher|classmate|sister|brother|mother|father|mom|dad|partner|ex|family|roommate|colleague|coworker)|him|her|them|a child|kids?|children|my family|a human|humans|the president|my classmates|everyone at)"

_RULES: list[tuple[str, str, re.Pattern]] = [
    ("weapons", "it could help someone build a weapon that hurts people",
     re.compile(rf"\b{_MAKE}\b.{{0,40}}\b(bombs?|explosives|(an )?explosive (device|charge|vest|belt)|pipe ?bombs?|grenades?|napalm|thermite|molotov|ied|detonators?|nerve (agent|gas)|sarin|vx|ricin|anthrax|bio ?weapons?|biological weapons?|chemical weapons?|dirty bomb|nuclear (bomb|weapon)|untraceable (gun|firearm)|ghost gun|silencer)\b", re.I)),
    ("weapons", "it could help someone build a weapon that hurts people",
     re.compile(r"\b(bombs?|explosives|poison gas|nerve agents?|bioweapons?)\b.{0,30}\b(recipe|instructions|formula|ingredients|at home|step by step)\b", re.I)),
    ("violence", "it is about hurting a person",
     re.compile(rf"\b(kill|murder|poison|stab|strangle|shoot|hurt|harm|injure|attack|kidnap|assault|torture|beat up)\b.{{0,25}}\b{_PEOPLE}\b", re.I)),
    ("violence", "it is about hurting a person",
     re.compile(r"\b(get away with|hide a|dispose of a|untraceable) (murder|body|killing|poison)\b", re.I)),
    ("malware", "it would help attack computers or steal from people",
     re.compile(rf"\b{_MAKE}\b.{{0,40}}\b(ransomware|malware|keyloggers?|computer virus|a virus that|trojans?|botnets?|rootkits?|spyware|worm that|phishing (email|site|page|kit)s?|credential stealer|ddos)\b", re.I)),
    ("malware", "it would help break into accounts or systems that are not yours",
     re.compile(r"\b(hack|break|get) into\b.{0,30}\b(someone|somebody|other people|my (ex|wife|husband|boss|neighbou?r|friend|partner)|his|her|their|a)('s)? (account|email|phone|instagram|facebook|computer|wifi|bank)", re.I)),
    ("malware", "it would help steal from people",
     re.compile(r"\b(steal|stealing|harvest)\b.{0,25}\b(passwords?|credit cards?|credentials|identit(y|ies)|bank details)\b", re.I)),
    ("drugs", "it is about making illegal drugs",
     re.compile(rf"\b{_MAKE}\b.{{0,30}}\b(meth|methamphetamine|crystal meth|cocaine|crack|heroin|fentanyl|lsd|mdma|ecstasy|illegal drugs)\b", re.I)),
    ("drugs", "it is about making illegal drugs",
     re.compile(r"\b(meth|methamphetamine|cocaine|crack|heroin|fentanyl|lsd|mdma)\b.{0,20}\b(recipe|synthesis|lab|precursors?|step by step|at home)\b|\b(recipe|synthesis|precursors?) (for|of) (meth|methamphetamine|cocaine|crack|heroin|fentanyl|lsd|mdma)\b", re.I)),
    ("self-harm", "I don't want to help anyone get hurt",
     re.compile(r"\b(kill myself|end my life|suicide method|hurt myself|self[- ]harm)\b", re.I)),
]

#: Words that make a "kill/attack" request about computing, not people.
_TECH = re.compile(r"\b(process|processes|thread|task|job|pid|daemon|server|container|pod|session|query|program|app|loop|signal|bug|tab|command|terminal|zombie|the (training|run))\b", re.I)


def check(message: str) -> Harm | None:
    """The harm a message asks for, or None."""
    text = " ".join(message.split())
    for category, reason, pattern in _RULES:
        if not pattern.search(text):
            continue
        if category == "violence" and _TECH.search(text) and not re.search(r"\b(person|someone|people|my (wife|husband|boss|neighbou?r))\b", text, re.I):
            continue
        asks = (re.search(_HOW, text, re.I) or re.match(_MAKE, text, re.I) or re.match(_ACT, text, re.I)
                or re.search(r"\b(how|what|which|where|give|write|make|build|create|recipe|list|tell|can you|could you|please|help|step by step|instructions)\b", text, re.I))
        if category != "self-harm" and not asks:
            continue
        return Harm(category, reason)
    return None


def refusal(harm: Harm) -> str:
    """A brief refusal that says why, and that this is the behaviour RLHF trains for."""
    if harm.category == "self-harm":
        return ("I'm really sorry you're going through this, and I can't help with anything that could hurt you. "
                "Please reach out to someone you trust or a local crisis line right now; you deserve support.\n\n"
                "_Declining this is the **harmlessness** behaviour RLHF trains for (Chapter 7, Why RLHF Matters)._")
    return (f"I can't help with that: {harm.reason}.\n\n"
            "Refusing dangerous requests is the **harmlessness** behaviour that RLHF trains into an assistant "
            "(helpful, harmless and honest: Chapter 7, *Why RLHF Matters*). I'm glad to help with the course, "
            "a translation, a fact or a calculation instead.")
