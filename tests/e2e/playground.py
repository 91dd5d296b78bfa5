"""Drive the Microsoft 365 Agents Playground through its REST + WebSocket API (no browser).

Recipes: ../shared/REAL-CLIENTS.md. The Playground is Microsoft's local stand-in for Teams: it
sends real Bot Framework activities (channel msteams) to the bot and receives its replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from cards.verbs import Verb
from tests.azurite import free_port
from tests.card_tree import actions, nodes

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_CLI = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_http(url: str, timeout: float = 30.0, expect: str | None = None) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                body = response.read().decode()
                if expect is None or expect in body:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class BotProcess:
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


@contextlib.contextmanager
def run_bot(
    data_dir: Path,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    *,
    port: int | None = None,
) -> Iterator[BotProcess]:
    """The bot in dev mode on `port` (a free one when None). A Playground is bound to the bot's
    endpoint, so a bot started again on the same port is reached by the same Playground."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env.update({"KIVETT_DATA_DIR": str(data_dir), "KIVETT_LOG_LEVEL": "INFO"})
    env.update(extra_env or {})
    with log_path.open("ab") as log:  # appended: a restarted bot keeps one log
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "bot",
                "serve",
                "--dev",
                "--port",
                str(port),
            ],
            cwd=data_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    bot = BotProcess(port=port, data_dir=data_dir, log_path=log_path, process=process)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/readyz", expect="ready")
        yield bot
    finally:
        stop_process(process)


@dataclass
class PlaygroundProcess:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def run_playground(bot_endpoint: str, workdir: Path) -> Iterator[PlaygroundProcess]:
    wanted = free_port()
    env = dict(os.environ)
    env.update({"APPLICATION_INSIGHTS_NO_STATSBEAT": "true", "TEAMSAPPTESTER_BROWSER": "none"})
    log_path = workdir / "playground.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                "node",
                str(PLAYGROUND_CLI),
                "-e",
                bot_endpoint,
                "-c",
                "msteams",
                "-p",
                str(wanted),
                "--disable-telemetry",
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        port = _listening_port(log_path, process)
        wait_for_http(f"http://127.0.0.1:{port}/_debug/ping", expect="pong")
        yield PlaygroundProcess(port=port, process=process, log_path=log_path)
    finally:
        stop_process(process)


def _listening_port(log_path: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """The Playground silently moves to another port when the asked one is taken: read it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"Listening on (\d+)", log_path.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"Playground exited: {log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    raise TimeoutError("Playground did not say where it listens")


@dataclass
class Message:
    message_id: str
    text: str
    attachments: list[dict[str, Any]]
    action: str

    @property
    def card(self) -> dict[str, Any]:
        for attachment in self.attachments:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content = attachment.get("content")
                if isinstance(content, str):
                    content = json.loads(content)
                if isinstance(content, dict):
                    return content
        raise AssertionError(f"message {self.message_id} has no Adaptive Card")


def card_texts(card: dict[str, Any]) -> list[str]:
    """Every TextBlock text in a card, in order."""
    return [
        node["text"]
        for node in nodes(card.get("body", []))
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str)
    ]


def every_action(node: Any) -> list[dict[str, Any]]:
    """Every action anywhere in a card or part of one (body, columns, action sets, actions)."""
    return actions(node)


@dataclass
class LanguageOffer:
    """The one line under a first answer that offers Bokmål, Nynorsk and English."""

    text: list[str]
    buttons: list[dict[str, Any]]

    @property
    def choices(self) -> list[str]:
        return [str((button.get("data") or {}).get("choice")) for button in self.buttons]


def language_offer(card: dict[str, Any]) -> LanguageOffer | None:
    """The offer line of a card's body (a ColumnSet whose buttons set the language), if any."""
    offers = [
        LanguageOffer(text=card_texts({"body": [item]}), buttons=every_action(item))
        for item in card.get("body", [])
        if isinstance(item, dict)
        and item.get("type") == "ColumnSet"
        and any(a.get("verb") == Verb.LANGUAGE_SET for a in every_action(item))
    ]
    assert len(offers) <= 1, "the choice is offered in one line at most"
    return offers[0] if offers else None


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in card.get("actions", []) if isinstance(a, dict)]


def all_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button a person can press: action sets in the body first, then the card's actions."""
    found: list[dict[str, Any]] = []
    for item in card.get("body", []):
        if isinstance(item, dict) and item.get("type") == "ActionSet":
            found.extend(a for a in item.get("actions", []) if isinstance(a, dict))
    return found + card_actions(card)


@dataclass
class PlaygroundClient:
    base: str
    session: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse
    user_id: str
    personal_chat_id: str
    config: dict[str, Any]
    inbox: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            message = data.get("message") if isinstance(data, dict) else None
            if not isinstance(message, dict):
                continue
            await self.inbox.put(
                Message(
                    message_id=str(message.get("messageId") or message.get("id") or ""),
                    text=str(message.get("text") or ""),
                    attachments=list(message.get("attachments") or []),
                    action=str(data.get("action", "")),
                )
            )

    async def next_message(self, wait_seconds: float = 20.0) -> Message:
        while True:
            message = await asyncio.wait_for(self.inbox.get(), wait_seconds)
            if message.action == "createMessage" and message.attachments:
                return message

    async def install(self, conversation_id: str | None = None) -> None:
        cid = conversation_id or self.personal_chat_id
        async with self.session.post(
            f"{self.base}/_debug/conversation/{cid}/installation", json={}
        ) as r:
            assert r.status < 300, await r.text()

    async def custom_activity(self, kind: str, conversation_id: str | None = None) -> None:
        cid = conversation_id or self.personal_chat_id
        async with self.session.get(
            f"{self.base}/_internal/v1/customActivities/template",
            params={"conversationId": cid, "type": kind},
        ) as r:
            assert r.status == 200, await r.text()
            template = await r.json()
        async with self.session.post(
            f"{self.base}/_internal/v1/customActivities", json=template
        ) as r:
            assert r.status < 300, await r.text()

    async def say(self, text: str, conversation_id: str | None = None) -> None:
        cid = conversation_id or self.personal_chat_id
        async with self.session.post(
            f"{self.base}/_conversation/v1/conversations/{cid}/messages",
            json={
                "type": "text",
                "text": text,
                "textFormat": "plain",
                "from": {"id": self.user_id},
            },
        ) as r:
            assert r.status < 300, await r.text()

    async def press(
        self,
        message: Message,
        action: dict[str, Any],
        conversation_id: str | None = None,
        inputs: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Press an Action.Execute button exactly as the Playground page does: the button's
        data plus every non-empty input of the card, all as strings."""
        cid = conversation_id or self.personal_chat_id
        merged = {**(action.get("data") or {}), **(inputs or {})}
        data = {k: str(v) for k, v in merged.items() if v != ""}
        body = {
            "name": "adaptiveCard/action",
            "value": {
                "action": {
                    "type": "Action.Execute",
                    "title": action.get("title"),
                    "verb": action.get("verb"),
                    "data": data,
                }
            },
            "from": {"id": self.user_id},
            "conversation": {"id": cid},
            "replyToId": message.message_id,
        }
        async with self.session.post(f"{self.base}/_conversation/v1/invoke", json=body) as r:
            payload = await r.json(content_type=None)
            return r.status, payload if isinstance(payload, dict) else {}

    async def invoke_raw(self, message: Message, value: Any) -> tuple[int, dict[str, Any]]:
        body = {
            "name": "adaptiveCard/action",
            "value": value,
            "from": {"id": self.user_id},
            "conversation": {"id": self.personal_chat_id},
            "replyToId": message.message_id,
        }
        async with self.session.post(f"{self.base}/_conversation/v1/invoke", json=body) as r:
            payload = await r.json(content_type=None)
            return r.status, payload if isinstance(payload, dict) else {}


@contextlib.asynccontextmanager
async def connect(base: str) -> AsyncIterator[PlaygroundClient]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/_internal/v1/config") as r:
            config = (await r.json())["config"]
        ws_url = base.replace("http://", "ws://") + "/_ws_conversation/v1/conversations/stream"
        async with session.ws_connect(ws_url) as ws:
            client = PlaygroundClient(
                base=base,
                session=session,
                ws=ws,
                user_id=config["currentUser"]["id"],
                personal_chat_id=config["personalChat"]["id"],
                config=config,
            )
            client.reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                client.reader.cancel()
