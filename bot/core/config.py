"""Settings from the environment (optionally a `.env` file), checked once at start-up.

Every setting is documented in `.env.example`. A missing or malformed value raises
`ConfigError` with one line that names the setting, so the companion can refuse to start
with a message a person can act on instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

#: The repository's own content folder, used when COMPANION_CONTENT_DIR is not set.
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
#: Where the SQL migrations live (they are part of the code, not a setting).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

SECRET_SETTINGS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "COMPANION_LLM_API_KEY")


def is_postgres_url(database: str | Path) -> bool:
    """Whether a COMPANION_DB value names a PostgreSQL database (a URL) rather than a SQLite file."""
    return isinstance(database, str) and database.startswith(("postgresql://", "postgres://"))


def database_label(database: str | Path) -> str:
    """The database for messages and logs: a path as it is, a URL without its password."""
    if not is_postgres_url(database):
        return str(database)
    from urllib.parse import urlsplit

    parts = urlsplit(str(database))
    if parts.password is None:
        return str(database)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    #: A SQLite file, or a postgresql:// URL (a str, kept as written: a Path would fold its "//").
    database: Path | str = Path("companion.db")
    content_dir: Path = DEFAULT_CONTENT_DIR
    quiz_questions: int = 10
    pass_threshold: float = 0.8
    live_question_seconds: int = 30
    live_reveal_seconds: int = 8
    live_questions: int = 10
    live_starters: str = "anyone"  # "anyone" or "instructors"
    instructors: frozenset[str] = field(default_factory=frozenset)  # "platform:user_id"
    log_level: str = "INFO"
    discord_token: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    # Discord
    discord_api_base: str = "https://discord.com/api/v10"
    discord_dev_guilds: tuple[int, ...] = ()
    discord_sync_on_start: bool = False
    discord_instructor_role: str | None = None  # role id or name
    discord_completion_role: str | None = None  # role id or name
    discord_shard: tuple[int, int] | None = None  # (shard id, shard count): this process's gateway shard
    # Slack
    slack_api_base: str = "https://slack.com/api/"
    slack_mode: str = "socket"  # "socket" | "http"
    slack_port: int = 3000
    # The conversation engine
    history_turns: int = 20
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 8.0
    # Bounded growth: per-user rate limits as (count, seconds), None when off
    start_rate: tuple[int, float] | None = (20, 60.0)  # each of /quiz, /review, /live start, /compare, /my-data
    chat_rate: tuple[int, float] | None = (30, 60.0)  # chat messages to the assistant
    # How often the live quiz loop reads the database for sessions another process started or left
    live_poll_seconds: float = 2.0

    def is_instructor(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.instructors


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise ConfigError(f"{name} must be a fraction such as 0.8 or a percentage such as 80%, got {raw!r}") from None
    if not 0 < value <= 1:
        raise ConfigError(f"{name} must be above 0 and at most 1 (or 100%), got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, options: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}, got {raw!r}")
    return raw


def _instructors(env: Mapping[str, str]) -> frozenset[str]:
    raw = env.get("COMPANION_INSTRUCTORS", "").strip()
    if not raw:
        return frozenset()
    out = set()
    for item in raw.split(","):
        item = item.strip()
        platform, sep, user = item.partition(":")
        if not sep or not platform or not user:
            raise ConfigError(
                f"COMPANION_INSTRUCTORS entries must look like platform:user_id (e.g. console:alice), got {item!r}"
            )
        out.add(f"{platform.lower()}:{user}")
    return frozenset(out)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    out = []
    for item in filter(None, (i.strip() for i in raw.split(","))):
        if not (item.isascii() and item.isdigit()):  # isdigit alone accepts ², which int() rejects
            raise ConfigError(f"{name} must be comma-separated numeric ids, got {item!r}")
        out.append(int(item))
    return tuple(out)


#: A URL setting's default: a URL (then the setting always has one) or None (then it is optional).
_UrlDefault = TypeVar("_UrlDefault", str, None)


def _url(env: Mapping[str, str], name: str, default: _UrlDefault) -> str | _UrlDefault:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return raw


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g} seconds, got {raw!r}")
    return value


def _rate(env: Mapping[str, str], name: str, default: tuple[int, float] | None) -> tuple[int, float] | None:
    """`COUNT/SECONDS` (e.g. `20/60`: at most 20 in any 60 seconds, per user), or `0` / `off` for no limit."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "off", "none"):
        return None
    count, sep, seconds = raw.partition("/")
    try:
        value = (int(count), float(seconds))
    except ValueError:
        value = None
    if not sep or value is None or not 1 <= value[0] <= 100_000 or not 0 < value[1] <= 86_400:
        raise ConfigError(f"{name} must look like COUNT/SECONDS (e.g. 20/60), or 0 for no limit, got {raw!r}")
    return value


def _shard(env: Mapping[str, str], name: str) -> tuple[int, int] | None:
    """`ID/COUNT` (e.g. `0/4`: shard 0 of 4), or unset for discord.py's single shard."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    shard, sep, count = raw.partition("/")
    if not (sep and shard.isascii() and shard.isdigit() and count.isascii() and count.isdigit()) or not 0 <= int(shard) < int(count) <= 10_000:
        raise ConfigError(f"{name} must look like ID/COUNT with 0 <= ID < COUNT (e.g. 0/4), got {raw!r}")
    return int(shard), int(count)


def _secret(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def load_settings(env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Read the settings; with `dotenv`, a `.env` file in the working directory fills gaps."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ
    content_dir = Path(env.get("COMPANION_CONTENT_DIR", "").strip() or DEFAULT_CONTENT_DIR)
    database = env.get("COMPANION_DB", "").strip() or "companion.db"
    return Settings(
        database=database if is_postgres_url(database) else Path(database),
        content_dir=content_dir,
        quiz_questions=_int(env, "COMPANION_QUIZ_QUESTIONS", 10, 1, 100),
        pass_threshold=_fraction(env, "COMPANION_PASS_THRESHOLD", 0.8),
        live_question_seconds=_int(env, "COMPANION_LIVE_QUESTION_SECONDS", 30, 5, 600),
        live_reveal_seconds=_int(env, "COMPANION_LIVE_REVEAL_SECONDS", 8, 0, 300),
        live_questions=_int(env, "COMPANION_LIVE_QUESTIONS", 10, 1, 50),
        live_starters=_choice(env, "COMPANION_LIVE_STARTERS", "anyone", ("anyone", "instructors")),
        instructors=_instructors(env),
        log_level=_choice(env, "COMPANION_LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
        discord_token=_secret(env, "DISCORD_TOKEN"),
        slack_bot_token=_secret(env, "SLACK_BOT_TOKEN"),
        slack_app_token=_secret(env, "SLACK_APP_TOKEN"),
        slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
        discord_api_base=_url(env, "DISCORD_API_BASE", "https://discord.com/api/v10"),
        discord_dev_guilds=_ids(env, "DISCORD_DEV_GUILDS"),
        discord_sync_on_start=_flag(env, "DISCORD_SYNC_ON_START", False),
        discord_instructor_role=env.get("DISCORD_INSTRUCTOR_ROLE", "").strip() or None,
        discord_completion_role=env.get("DISCORD_COMPLETION_ROLE", "").strip() or None,
        discord_shard=_shard(env, "DISCORD_SHARD"),
        slack_api_base=_url(env, "SLACK_API_BASE", "https://slack.com/api/"),
        slack_mode=_choice(env, "SLACK_MODE", "socket" if _secret(env, "SLACK_APP_TOKEN") or not _secret(env, "SLACK_SIGNING_SECRET") else "http",
                           ("socket", "http")),
        slack_port=_int(env, "SLACK_PORT", 3000, 1, 65535),
        history_turns=_int(env, "COMPANION_HISTORY_TURNS", 20, 0, 1000),
        llm_base_url=_url(env, "COMPANION_LLM_BASE_URL", None),
        llm_model=env.get("COMPANION_LLM_MODEL", "").strip() or None,
        llm_api_key=_secret(env, "COMPANION_LLM_API_KEY"),
        llm_timeout=_seconds(env, "COMPANION_LLM_TIMEOUT", 8.0, 0.1, 120),
        start_rate=_rate(env, "COMPANION_RATE_LIMIT", (20, 60.0)),
        chat_rate=_rate(env, "COMPANION_CHAT_RATE_LIMIT", (30, 60.0)),
        live_poll_seconds=_seconds(env, "COMPANION_LIVE_POLL_SECONDS", 2.0, 0.1, 60),
    )
