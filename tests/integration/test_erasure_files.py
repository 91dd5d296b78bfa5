"""After "Slett mine data", the person's Entra object id and display name are nowhere in the bot's
store: in no file of the data directory (the SQLite database, its -wal and -shm) and in no blob
(name, metadata or content) or queue message of the Azure Storage account (Azurite). The other
employee's data is untouched, and the person's learning cards are still in the store and the CSV
export, without them.

The person is set up as the bot would meet them: their own chat saved through `ReferenceKeeper`
from a message as Teams sends it, with conversation state written by botbuilder's
`ConversationState`; a channel reference stored by an earlier version of the bot with them as the
last speaker (name and all); their language choice (`språk`); two completed lessons; a weekly
subscription; two learning cards (one already in SharePoint, one waiting); and a tip they created
as a champion.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot.bootstrap import DATABASE_FILE, open_stores
from bot.core.broadcast import RecipientState
from bot.core.learning_cards import DeliveryState
from bot.core.records import StoredReference, Subscription
from bot.operator.export import export_csv
from bot.ports import Stores
from bot.settings import Settings
from bot.teams.references import ReferenceKeeper
from tests.azurite import start_azurite
from tests.fakes.trials import sample_trial
from tests.integration.test_outbox import card

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@dataclass(frozen=True)
class Person:
    aad: str
    teams_id: str
    name: str
    chat: str  # their personal chat with the bot
    channel: str  # a team channel where they spoke last

    @property
    def secrets(self) -> list[str]:
        """What names the person: ids, name, and the id of their own chat with the bot."""
        return [self.aad, self.name, self.teams_id, self.chat]


KARI = Person(
    aad="6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
    teams_id="29:1kXq7Rz0Vb3pLw9Ys5Tn2Mh8Jc4Fd6Ga0Ke1Ui3Oy5Zr7",
    name="Kari Nordmann-Østby",
    chat="a:1Hq2Wm3Ze4Rx5Tc6Yv7Ub8In9Om0Pl1Ak2Sj3Dh4Fg5",
    channel="19:8f7e6d5c4b3a2910fedcba9876543210@thread.tacv2",
)
OLA = Person(
    aad="0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
    teams_id="29:1Zx9Cv8Bn7Mq6Wk5Ej4Rh3Tg2Yf1Ud0Is9Oa8Pl7Kj6",
    name="Ola Åsheim",
    chat="a:1Pz9Lx8Kc7Jv6Hb5Gn4Fm3Dq2Sw1Ae0Rt9Yu8Io7Up6",
    channel="19:0123456789abcdef0123456789abcdef@thread.tacv2",
)


def teams_message(person: Person, conversation: str, kind: str) -> dict[str, Any]:
    """A message activity as Teams posts it to the bot."""
    conversation_account: dict[str, Any] = {
        "conversationType": kind,
        "tenantId": TENANT,
        "id": conversation,
    }
    if kind == "channel":
        conversation_account["isGroup"] = True
    return {
        "text": "hjelp",
        "textFormat": "plain",
        "type": "message",
        "timestamp": "2026-12-02T08:14:03.1234567Z",
        "localTimestamp": "2026-12-02T09:14:03.1234567+01:00",
        "id": "1764663243123",
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": person.teams_id, "name": person.name, "aadObjectId": person.aad},
        "conversation": conversation_account,
        "recipient": {"id": "28:0d4f8e2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a", "name": "KI-vett"},
        "entities": [{"locale": "nb-NO", "country": "NO", "platform": "Web", "type": "clientInfo"}],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "nb-NO",
        "localTimezone": "Europe/Oslo",
    }


async def settle_in(stores: Stores, person: Person) -> None:
    """Everything the bot stores about an employee who has used it for a while."""
    adapter = TestAdapter()
    # their own chat: the reference through the keeper, the state through botbuilder
    turn = TurnContext(
        adapter, Activity().deserialize(teams_message(person, person.chat, "personal"))
    )
    await ReferenceKeeper(stores.references).remember(turn)
    state = ConversationState(stores.state)
    await state.load(turn)
    await state.create_property("kivett").set(turn, {"welcomed": True})
    await state.save_changes(turn)
    # a channel reference as an earlier version stored it: Teams' reference, name and all
    channel_turn = TurnContext(
        adapter, Activity().deserialize(teams_message(person, person.channel, "channel"))
    )
    reference = TurnContext.get_conversation_reference(channel_turn.activity).serialize()
    assert reference["user"]["name"] == person.name
    await stores.references.save(StoredReference(person.channel, "channel", TENANT, reference))

    await stores.languages.choose(person.aad, "nn")
    await stores.lessons.complete(person.aad, 1)
    await stores.lessons.complete(person.aad, 2)
    await stores.lessons.subscribe(
        Subscription(
            person.aad,
            person.chat,
            0,
            "09:00",
            "Europe/Oslo",
            "nb",
            datetime(2026, 12, 7, 8, tzinfo=UTC),
        )
    )
    # a trial they registered, with both employees taking part; reminders turned off
    await stores.trials.add(
        sample_trial(f"trial-{person.aad[:8]}", owner=person.aad, participants=(KARI.aad, OLA.aad))
    )
    await stores.trials.mute_reminders(person.aad)
    sent, waiting = f"{person.aad[:8]}-sent", f"{person.aad[:8]}-waiting"
    await stores.learning_cards.add(replace(card(sent), author=person.aad))
    await stores.learning_cards.add(replace(card(waiting), author=person.aad))
    await stores.learning_cards.delivered(sent, f"item-{person.aad[:8]}")
    await stores.broadcasts.create_job(
        created_by=person.aad,
        due=datetime.now(UTC) + timedelta(days=2),
        cards={"nb": {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Tips"}]}},
        recipients=[(OLA.chat, "nb"), (KARI.chat, "nb")],
        progress_service_url=SERVICE_URL,
        progress_conversation=person.chat,
        progress_activity="1764663243999",
        progress_language="nb",
    )


async def tip_delivered(stores: Stores, sender: Person, to: list[Person]) -> str:
    """A tip `sender` created that has gone out: sent to the first of `to`, not to the rest."""
    now = datetime.now(UTC)
    await stores.broadcasts.create_job(
        created_by=sender.aad,
        due=now - timedelta(minutes=1),
        cards={"nb": {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Sendt"}]}},
        recipients=[(person.chat, "nb") for person in to],
        progress_service_url=SERVICE_URL,
        progress_conversation=sender.chat,
        progress_activity="1764663244000",
        progress_language="nb",
    )
    [job] = await stores.broadcasts.runnable(now.timestamp())
    await stores.broadcasts.start(job.id, now.timestamp())
    await stores.broadcasts.record(
        job.id,
        [(to[0].chat, RecipientState.SENT, 1, 0.0, 201)]
        + [(person.chat, RecipientState.FAILED, 1, 0.0, 500) for person in to[1:]],
    )
    await stores.broadcasts.finish(job.id, now.timestamp())
    return job.id


async def tips_kept(stores: Stores, to_kari: str, by_kari: str) -> None:
    """The tips stay with their counts (that no file names Kari's chat is checked above)."""
    now = datetime.now(UTC).timestamp()
    for job_id in (to_kari, by_kari):
        progress = await stores.broadcasts.progress(job_id, now)
        assert (progress.total, progress.sent, progress.failed) == (2, 1, 1)


def forms(secret: str) -> list[bytes]:
    """The ways a text is written in the store's files: UTF-8, and JSON-escaped (ASCII)."""
    escaped = json.dumps(secret)[1:-1]
    return sorted({secret.encode("utf-8"), escaped.encode("ascii")})


def found_in(data: bytes, person: Person) -> list[str]:
    return [secret for secret in person.secrets if any(form in data for form in forms(secret))]


def decodings(text: str) -> list[bytes]:
    """The text and what it holds if it is base64 (metadata values, `k…` blob name segments)."""
    found = [text.encode("utf-8")]
    candidates = [text, text[1:]] if text.startswith("k") else [text]
    for candidate in candidates:
        padded = candidate + "=" * (-len(candidate) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                found.append(decode(padded.encode("ascii")))
            except (binascii.Error, ValueError):
                continue
    return found


# -- SQLite --------------------------------------------------------------------------------------


def files_naming(data_dir: Path, person: Person) -> dict[str, list[str]]:
    """File name → which of the person's id and name its raw bytes hold."""
    hits: dict[str, list[str]] = {}
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            found = found_in(path.read_bytes(), person)
            if found:
                hits[path.name] = found
    return hits


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path / "data")})


async def test_after_erasure_no_file_of_the_data_directory_names_the_person(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    data_dir = sqlite_settings.data_dir
    stores = await open_stores(sqlite_settings)
    try:
        await settle_in(stores, KARI)
        await settle_in(stores, OLA)
        to_kari = await tip_delivered(stores, OLA, [KARI, OLA])
        by_kari = await tip_delivered(stores, KARI, [OLA, KARI])
        assert _language_rows(data_dir) == sorted([(KARI.aad, "nn"), (OLA.aad, "nn")])
        before = files_naming(data_dir, KARI)
        assert set(before.get("kivett.sqlite3-wal", [])) == set(KARI.secrets), (
            "the check sees the person while they are stored"
        )
        await stores.backend.ping()

        erasure = await stores.personal.erase(KARI.aad)

        assert erasure.learning_cards == 2
        assert (erasure.trials, erasure.trial_reminders) == (2, True)
        assert files_naming(data_dir, KARI) == {}, "database, -wal and -shm while running"
        assert _language_rows(data_dir) == [(OLA.aad, "nn")], "Kari's choice row is gone"
        assert set(files_naming(data_dir, OLA).get("kivett.sqlite3", [])) == set(OLA.secrets)
        await _cards_kept_without_the_person(stores, sqlite_settings, tmp_path)
        await tips_kept(stores, to_kari, by_kari)
        ola = await stores.personal.person(OLA.aad)
        assert (len(ola.conversations), len(ola.learning_cards), len(ola.broadcasts)) == (2, 2, 2)
        assert (len(ola.trials), ola.trial_reminders_muted) == (2, True), "Ola keeps his trials"
    finally:
        await stores.backend.close()
    assert files_naming(data_dir, KARI) == {}, "and once the bot has stopped"


def _language_rows(data_dir: Path) -> list[tuple[str, str]]:
    """(person, language) of every language choice in the database file, read beside the bot."""
    with closing(sqlite3.connect(data_dir / DATABASE_FILE)) as conn:
        rows = conn.execute("SELECT user_key, language FROM language_choices").fetchall()
    return sorted((str(user), str(language)) for user, language in rows)


async def _language_blobs(connection_string: str, container: str) -> int:
    """How many language choices the container holds (one blob per person)."""
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        client = service.get_container_client(container)
        return len([b async for b in client.list_blobs(name_starts_with="languages/")])


async def _chat_state_gone(stores: Stores) -> None:
    """The state botbuilder's ConversationState wrote for the person's chat is gone (under the key
    it uses), the other employee's is there."""
    turns = {
        person: TurnContext(
            TestAdapter(), Activity().deserialize(teams_message(person, person.chat, "personal"))
        )
        for person in (KARI, OLA)
    }
    state = ConversationState(stores.state)
    keys = {person: state.get_storage_key(turn) for person, turn in turns.items()}
    assert isinstance(keys[KARI], str)
    found = await stores.state.read([str(keys[KARI]), str(keys[OLA])])
    assert list(found) == [keys[OLA]]


async def _cards_kept_without_the_person(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    await _chat_state_gone(stores)
    cards = {s.card.card_id: s for s in await stores.learning_cards.all()}
    mine = [cards[f"{KARI.aad[:8]}-sent"], cards[f"{KARI.aad[:8]}-waiting"]]
    assert [(s.card.author, s.state) for s in mine] == [
        ("", DeliveryState.REDACT),
        ("", DeliveryState.PENDING),
    ]
    assert mine[0].card.draft.title == f"Kort {KARI.aad[:8]}-sent", "the content stays"
    out = tmp_path / "export" / "kort.csv"
    assert await export_csv(settings, out) == 4
    exported = out.read_bytes()
    assert f"Kort {KARI.aad[:8]}-sent".encode() in exported
    assert f"Kort {KARI.aad[:8]}-waiting".encode() in exported
    assert found_in(exported, KARI) == []


# -- Azure Storage (Azurite) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Azurite of this module's own: every container and queue in it is the bot's."""
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


@pytest.fixture
def azure_settings(azurite: str, tmp_path: Path) -> Settings:
    container = f"erasure-{uuid.uuid4().hex[:12]}"
    return Settings.model_validate(
        {
            "KIVETT_DATA_DIR": str(tmp_path / "data"),
            "KIVETT_STORAGE": "azure",
            "KIVETT_AZURE_STORAGE_CONNECTION_STRING": azurite,
            "KIVETT_AZURE_CONTAINER": container,
        }
    )


async def account_naming(connection_string: str, person: Person) -> dict[str, list[str]]:
    """Where in the account (blob names, metadata, contents; queue messages) the person's id or
    name is found."""
    hits: dict[str, set[str]] = {}

    def note(where: str, chunks: list[bytes]) -> None:
        for chunk in chunks:
            found = found_in(chunk, person)
            if found:
                hits.setdefault(where, set()).update(found)

    async with BlobServiceClient.from_connection_string(connection_string) as service:
        async for container in service.list_containers():
            client = service.get_container_client(container.name)
            async for blob in client.list_blobs(include=["metadata"]):
                where = f"{container.name}/{blob.name.split('/', 1)[0]}"
                note(where + " name", [d for part in blob.name.split("/") for d in decodings(part)])
                metadata = blob.metadata or {}
                note(
                    where + " metadata",
                    [
                        d
                        for key, value in metadata.items()
                        for d in decodings(key) + decodings(value)
                    ],
                )
                body = await (await client.download_blob(blob.name)).readall()
                note(where + " content", [body])
    async with QueueServiceClient.from_connection_string(connection_string) as queues:
        async for queue in queues.list_queues():
            messages = await queues.get_queue_client(queue.name).peek_messages(max_messages=32)
            note(f"queue {queue.name}", [str(m.content).encode("utf-8") for m in messages])
    return {where: sorted(found) for where, found in hits.items()}


async def test_after_erasure_no_blob_or_queue_message_names_the_person(
    azure_settings: Settings, azurite: str, tmp_path: Path
) -> None:
    stores = await open_stores(azure_settings)
    try:
        await settle_in(stores, KARI)
        await settle_in(stores, OLA)
        to_kari = await tip_delivered(stores, OLA, [KARI, OLA])
        by_kari = await tip_delivered(stores, KARI, [OLA, KARI])
        container = azure_settings.azure_container
        assert await _language_blobs(azurite, container) == 2
        before = await account_naming(azurite, KARI)
        assert any(KARI.name in found for found in before.values()), before
        assert any(where.endswith("lessons name") for where in before), "and ids in blob names"

        erasure = await stores.personal.erase(KARI.aad)

        assert erasure.learning_cards == 2
        assert (erasure.trials, erasure.trial_reminders) == (2, True)
        assert await account_naming(azurite, KARI) == {}
        assert await _language_blobs(azurite, container) == 1, "Kari's choice blob is gone"
        assert await stores.languages.get(OLA.aad) is not None
        assert await account_naming(azurite, OLA) != {}, "the other employee is still there"
        await _cards_kept_without_the_person(stores, azure_settings, tmp_path)
        await tips_kept(stores, to_kari, by_kari)
        ola = await stores.personal.person(OLA.aad)
        assert (len(ola.conversations), len(ola.learning_cards), len(ola.broadcasts)) == (2, 2, 2)
        assert (len(ola.trials), ola.trial_reminders_muted) == (2, True), "Ola keeps his trials"
        assert ola.lessons_completed == frozenset({1, 2})
    finally:
        await stores.backend.close()


async def test_a_reference_stored_before_the_id_digest_was_kept_is_still_found_and_erased(
    azure_settings: Settings, azurite: str
) -> None:
    from bot.adapters.azure_storage.backend import AzureBackend
    from bot.adapters.azure_storage.blob import dump_json, encode_meta, key_segment

    stores = await open_stores(azure_settings)
    try:
        backend = stores.backend
        assert isinstance(backend, AzureBackend)
        turn = TurnContext(
            TestAdapter(), Activity().deserialize(teams_message(KARI, KARI.channel, "channel"))
        )
        reference = TurnContext.get_conversation_reference(turn.activity).serialize()
        record = {
            "conversation_id": KARI.channel,
            "conversation_type": "channel",
            "tenant_id": TENANT,
            "reference": reference,
        }
        await backend.blobs.container.upload_blob(  # as an earlier version wrote it
            "refs/" + key_segment(KARI.channel),
            dump_json(record),
            metadata={"ctype": encode_meta("channel")},
        )
        [found] = (await stores.personal.person(KARI.aad)).conversations
        assert found.conversation_id == KARI.channel
        assert (await stores.personal.erase(KARI.aad)).conversations == 1
        assert await account_naming(azurite, KARI) == {}
        kept = await stores.references.get(KARI.channel)
        assert kept is not None
        assert "user" not in kept.reference
    finally:
        await stores.backend.close()


# -- references stored by earlier versions -------------------------------------------------------


def old_reference(person: Person, conversation: str, kind: str) -> dict[str, Any]:
    """A reference as an earlier version stored it: Teams' own, with the display name."""
    turn = TurnContext(
        TestAdapter(), Activity().deserialize(teams_message(person, conversation, kind))
    )
    reference = TurnContext.get_conversation_reference(turn.activity).serialize()
    assert reference["user"]["name"] == person.name
    return {
        "conversation_id": conversation,
        "conversation_type": kind,
        "tenant_id": TENANT,
        "reference": reference,
    }


async def test_names_in_references_from_an_earlier_version_are_gone_once_the_store_opens(
    sqlite_settings: Settings,
) -> None:
    from bot.adapters.sqlite.db import SqliteDatabase

    data_dir = sqlite_settings.data_dir
    stores = await open_stores(sqlite_settings)
    backend = stores.backend
    assert isinstance(backend, SqliteDatabase)
    rows = [
        old_reference(KARI, KARI.chat, "personal"),
        old_reference(KARI, KARI.channel, "channel"),
    ]

    def write_as_version_1(conn: Any) -> None:
        for row in rows:
            conn.execute(
                "INSERT INTO conversation_refs(conversation_id, conversation_type, tenant_id, "
                "reference) VALUES (?, ?, ?, ?)",
                (
                    row["conversation_id"],
                    row["conversation_type"],
                    TENANT,
                    json.dumps(row["reference"]),
                ),
            )
        conn.execute("PRAGMA user_version=1")

    await backend.transaction(write_as_version_1)
    await backend.close()
    assert KARI.name in files_naming(data_dir, KARI)["kivett.sqlite3"]

    stores = await open_stores(sqlite_settings)
    try:
        assert all(KARI.name not in found for found in files_naming(data_dir, KARI).values())
        chat = await stores.references.get(KARI.chat)
        assert chat is not None
        assert chat.reference["user"] == {"id": KARI.teams_id, "aadObjectId": KARI.aad}
        channel = await stores.references.get(KARI.channel)
        assert channel is not None
        assert "user" not in channel.reference
        assert channel.reference["conversation"]["id"] == KARI.channel
    finally:
        await stores.backend.close()
    assert all(KARI.name not in found for found in files_naming(data_dir, KARI).values())


async def test_names_in_reference_blobs_from_an_earlier_version_are_gone_once_the_store_opens(
    azure_settings: Settings, azurite: str
) -> None:
    from bot.adapters.azure_storage.backend import AzureBackend
    from bot.adapters.azure_storage.blob import dump_json, encode_meta, key_segment

    stores = await open_stores(azure_settings)
    backend = stores.backend
    assert isinstance(backend, AzureBackend)
    for row in (
        old_reference(KARI, KARI.chat, "personal"),
        old_reference(KARI, KARI.channel, "channel"),
    ):
        await backend.blobs.container.upload_blob(  # as an earlier version wrote it
            "refs/" + key_segment(str(row["conversation_id"])),
            dump_json(row),
            metadata={"ctype": encode_meta(str(row["conversation_type"]))},
        )
    await backend.close()
    before = await account_naming(azurite, KARI)
    assert any(KARI.name in found for found in before.values())

    stores = await open_stores(azure_settings)
    try:
        after = await account_naming(azurite, KARI)
        assert all(KARI.name not in found for found in after.values()), after
        chat = await stores.references.get(KARI.chat)
        assert chat is not None
        assert chat.reference["user"] == {"id": KARI.teams_id, "aadObjectId": KARI.aad}
        assert [
            r.conversation_id for r in (await stores.personal.person(KARI.aad)).conversations
        ] == [KARI.chat]
        channel = await stores.references.get(KARI.channel)
        assert channel is not None
        assert "user" not in channel.reference
    finally:
        await stores.backend.close()
