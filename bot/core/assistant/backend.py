"""An optional real model behind the assistant: any OpenAI-compatible chat-completions endpoint
(Ollama, llama.cpp's server, vLLM), set by COMPANION_LLM_BASE_URL, _MODEL and _API_KEY.

The model is given, as grounding, the lesson sections of the concepts the question names (with
their glossary entries and any matching FAQ answer: `ConceptSkills.grounding`), not the sections
that merely share the most words, and a system prompt that keeps it on the course. The caller runs the harmfulness check first and falls back to the simulated
assistant on any error or timeout, so a slow or absent model never leaves a student waiting.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are the teaching assistant of the course \"{course}\". Answer the student's message helpfully, "
    "harmlessly and honestly, in at most 150 words. Ground answers about the course in the lesson passages "
    "below and name the section you used. If the passages and your general knowledge do not answer the question, "
    "say you don't know. Refuse dangerous requests briefly. Never use @-mentions.\n\nLesson passages:\n{passages}"
)


class ModelError(Exception):
    """The model did not give an answer (unreachable, an error status, malformed, or too slow)."""


class ChatModel:
    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def complete(self, messages: list[dict[str, str]]) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {"model": self.model, "messages": messages, "temperature": 0.2, "max_tokens": 400, "stream": False}
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(self.url, json=body, headers=headers) as response:
                    if response.status != 200:
                        raise ModelError(f"HTTP {response.status}")
                    data = await response.json(content_type=None)
        except TimeoutError:
            raise ModelError(f"no answer within {self.timeout:g} s") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise ModelError(type(exc).__name__) from None
        try:
            text = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ModelError("the response has no choices[0].message.content") from None
        if not isinstance(text, str) or not text.strip():
            raise ModelError("an empty answer")
        return text.strip()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
