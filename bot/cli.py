"""`kivett`: serve the bot, build the Teams app package, check content."""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import os
import sys
import uuid
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.content_loader import load_content
from bot.logs import configure_logging, get_logger
from bot.ports import StorageUnavailableError
from bot.settings import Settings, SettingsError, load_settings
from content import LANGUAGES, ContentError, load_catalog

if TYPE_CHECKING:
    # each command imports what only it needs (`kivett serve` answers sooner for it)
    from bot.core.content_warnings import ContentWarning
    from bot.core.records import LanguageChoice

DEFAULT_PORT = 3978
DEFAULT_WORKER_PORT = 3979
LOOPBACK = "127.0.0.1"
GUID_LENGTH = 36  # 8-4-4-4-12 hex digits, as Entra shows an app (client) id


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kivett", description="KI-vett, a Teams bot for safe AI use"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot's web server")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="local trial without Azure credentials: no authentication, 127.0.0.1 only",
    )
    serve.add_argument(
        "--host", default=None, help="address to listen on (default 0.0.0.0; --dev: 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--no-workers",
        dest="workers",
        action="store_false",
        default=None,
        help="only answer turns; run the workers with 'kivett worker' "
        "(the same as KIVETT_WORKERS=off)",
    )

    worker = commands.add_parser(
        "worker",
        help="run the workers (weekly lessons, tips, the learning-card outbox, retention) "
        "in a process of their own, next to 'kivett serve --no-workers'",
    )
    worker.add_argument(
        "--dev",
        action="store_true",
        help="local trial without Azure credentials (proactive messages are sent unauthenticated)",
    )
    worker.add_argument(
        "--host",
        default=None,
        help="address for /healthz and /readyz (default 0.0.0.0; --dev: 127.0.0.1)",
    )
    worker.add_argument(
        "--port",
        type=int,
        default=DEFAULT_WORKER_PORT,
        help=f"port for /healthz and /readyz (default {DEFAULT_WORKER_PORT})",
    )

    package = commands.add_parser("package", help="build the Teams app package (zip)")
    package.add_argument("--app-id", required=True, help="Teams app id (a GUID of your choice)")
    package.add_argument("--bot-id", required=True, help="the bot's Entra app (client) id")
    package.add_argument("--out", type=Path, default=Path("build/kivett.zip"))
    package.add_argument("--version", default="0.1.0", help="app version, like 1.2.3")
    # without one of these, the manifest takes PackageOptions' own (bot/operator/packaging.py)
    package.add_argument("--developer-name", default=None)
    package.add_argument("--website-url", default=None)
    package.add_argument("--privacy-url", default=None)
    package.add_argument("--terms-url", default=None)
    package.add_argument("--domain", default="", help="the bot's host name, added to validDomains")

    export = commands.add_parser("export", help="write the stored learning cards to a file")
    export.add_argument(
        "--csv", type=Path, required=True, metavar="FILE", help="the CSV file to write"
    )

    sharepoint = commands.add_parser("sharepoint", help="the SharePoint list for learning cards")
    sharepoint_commands = sharepoint.add_subparsers(dest="sharepoint_command", required=True)
    setup = sharepoint_commands.add_parser(
        "setup",
        help="create the learning-card list on a site, or add the columns it lacks "
        "(run once with an admin's rights; safe to run again)",
    )
    setup.add_argument(
        "--site", required=True, help="https://<tenant>.sharepoint.com/sites/<site> or a site id"
    )
    setup.add_argument(
        "--list", dest="list_name", default=None, help="list name (default: settings)"
    )
    setup.add_argument(
        "--device-code",
        action="store_true",
        help="sign in as a person (device code: open an address, type a code) instead of with "
        "the bot's credentials; needs --client-id",
    )
    setup.add_argument(
        "--client-id",
        default=None,
        help="with --device-code: the client id of the 'KI-vett setup' app registration "
        "(public client flows allowed, delegated Sites.Manage.All; see README)",
    )
    setup.add_argument(
        "--tenant",
        default=None,
        help="with --device-code: the municipality's Entra tenant id "
        "(default: MicrosoftAppTenantId)",
    )
    setup.add_argument(
        "--bot-id",
        default=None,
        help="the bot's Entra app (client) id, for the grant printed at the end "
        "(default: MicrosoftAppId)",
    )

    outbox = commands.add_parser("outbox", help="the learning cards waiting for SharePoint")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_commands.add_parser(
        "retry-parked", help="send the cards SharePoint refused again (after fixing the cause)"
    )

    privacy = commands.add_parser(
        "privacy", help="for the personvernombud: one person's data, and the retention limit"
    )
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True)
    privacy_export = privacy_commands.add_parser(
        "export", help="write everything stored about one person as JSON (access request)"
    )
    privacy_export.add_argument("--user", required=True, help="the person's Entra object id")
    privacy_export.add_argument(
        "--out", type=Path, default=None, metavar="FILE", help="write to FILE (default: print)"
    )
    privacy_erase = privacy_commands.add_parser(
        "erase",
        help="do what 'Slett mine data' does: remove the person's progress, subscription and "
        "conversation references, and their identity from their learning cards",
    )
    privacy_erase.add_argument("--user", required=True, help="the person's Entra object id")
    privacy_erase.add_argument(
        "--yes", action="store_true", help="erase (without it: only show what would be erased)"
    )
    privacy_commands.add_parser(
        "prune", help="apply KIVETT_RETENTION_DAYS now (the running bot does it once a day)"
    )

    content = commands.add_parser("content", help="work with the content files")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate every content file")
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 while the content still has placeholders (example.no links and addresses, "
        "'Eksempel kommune'): for a deployment pipeline",
    )

    policy = commands.add_parser("policy", help="KI-sjekken's rules")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    matrix = policy_commands.add_parser(
        "matrix",
        help="the decision table for the personvernombud: the verdict, reasons and sources "
        "for every combination of answers",
    )
    matrix.add_argument(
        "--format",
        dest="matrix_format",
        choices=("csv", "md"),
        required=True,
        help="csv: one row per combination, for a spreadsheet; md: a document to read",
    )
    matrix.add_argument(
        "--lang", choices=LANGUAGES, default="nb", help="language of the table (default nb)"
    )
    matrix.add_argument(
        "--out", type=Path, default=None, metavar="FILE", help="write to FILE (default: print)"
    )
    _gevinst_parser(commands)
    return parser


def _fail(message: str) -> int:
    print(f"kivett: {message}", file=sys.stderr)
    return 2


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace, settings: Settings, *, role: str = "serve") -> int:
    """`kivett serve` (role "serve") and `kivett worker` (role "worker"): the same checks, then
    the bot's web server or the workers with only the health probes."""
    if not (1 <= args.port <= 65535):
        return _fail("--port: must be a number from 1 to 65535")
    if args.dev:
        host = args.host or LOOPBACK
        if not _is_loopback(host):
            return _fail("--dev listens on 127.0.0.1 only: requests are not authenticated")
    else:
        if not settings.has_credentials:
            return _fail(
                "MicrosoftAppId is not set: configure the bot's Entra app (see README), "
                f"or run 'kivett {role} --dev' to try it locally without authentication"
            )
        host = args.host or "0.0.0.0"  # noqa: S104 - a server behind Azure Bot Service listens on all
    # The objects a start makes (content, flows' tables, the stores) live as long as the process:
    # the collector is paused until the app has started (bot/teams/app.py: started), which
    # saves a start about 70 ms of collections that find almost nothing (docs/performance.md).
    gc.disable()
    try:
        return _start(args, settings, host, role)
    finally:
        gc.enable()


def _start(args: argparse.Namespace, settings: Settings, host: str, role: str) -> int:
    from cards.template_cache import user_cache_dir

    parsed = user_cache_dir("content")
    try:
        # parsed once: the app is built from this same content (the data files as parsed at
        # the last start while they are unchanged; checked either way)
        content = load_content(parsed)
        # the placeholder warning is for production only; in dev mode it would cost a second
        # read of every content file at each start
        placeholders = 0 if args.dev else len(_placeholder_warnings(parsed))
    except ContentError as exc:
        return _fail(f"content: {exc}")
    configure_logging(settings.log_level)
    log = get_logger(role)
    if placeholders:
        print(
            f"kivett: warning: the content still has {placeholders} placeholder(s) (example.no "
            "links and addresses, 'Eksempel kommune') that employees will see; run 'kivett "
            "content check' and fill in content/policy.yaml before going live (see README)",
            file=sys.stderr,
        )
        log.warning("content_placeholders", extra={"fields": {"count": placeholders}})
    if args.dev:
        where = (
            f"listening on http://{host}:{args.port}/api/messages only"
            if role == "serve"
            else f"proactive messages are sent without a token; /healthz on {host}:{args.port}"
        )
        print(f"kivett: DEV MODE - requests are NOT authenticated; {where}", file=sys.stderr)
        log.warning("dev_mode_unauthenticated", extra={"fields": {"host": host, "port": args.port}})
    workers = settings.workers if getattr(args, "workers", None) is None else args.workers
    log.info(
        "starting",
        extra={
            "fields": {
                "host": host,
                "port": args.port,
                "dev": args.dev,
                "data_dir": str(settings.data_dir),
                "workers": workers,
            }
        },
    )
    from bot.adapters.sqlite.db import StoreOpenError
    from bot.teams.app import create_app, create_worker_app

    app = (
        create_app(settings, dev=args.dev, content=content, workers=workers)
        if role == "serve"
        else create_worker_app(settings, dev=args.dev, content=content)
    )
    try:
        web.run_app(app, host=host, port=args.port, print=None, access_log=None)
    except StoreOpenError as exc:  # names the file and what to do, in one line
        return _fail(str(exc))
    except StorageUnavailableError:
        from bot.operator.export import store_name

        return _fail(
            f"could not open {store_name(settings)}: check that it exists and that the bot may "
            "read and write it"
        )
    return 0


def _package(args: argparse.Namespace) -> int:
    from bot.operator.packaging import PackageError, PackageOptions, write_package

    given: dict[str, str] = {
        name: value
        for name in ("developer_name", "website_url", "privacy_url", "terms_url")
        if (value := getattr(args, name)) is not None
    }
    options = PackageOptions(
        app_id=args.app_id,
        bot_id=args.bot_id,
        version=args.version,
        domain=args.domain,
        **given,
    )
    try:
        out = write_package(options, load_catalog(), args.out)
    except (PackageError, ContentError) as exc:
        return _fail(str(exc))
    print(f"kivett: wrote {out}")
    return 0


def _placeholder_warnings(parsed: Path | None = None) -> tuple[ContentWarning, ...]:
    """The placeholders left in every content file (raises ContentError for a file that is
    not valid YAML). `parsed`: the cache of parsed files (bot.content_loader.read_data)."""
    from bot.content_loader import read_data
    from bot.core.content_warnings import placeholder_warnings

    root = resources.files("content")
    names = sorted(
        [entry.name for entry in root.iterdir() if entry.name.endswith(".yaml")]
        + [
            f"{folder.name}/{entry.name}"
            for folder in root.iterdir()
            if folder.is_dir()
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
        ]
    )
    return placeholder_warnings({name: read_data(name, parsed) for name in names})


def _content_check(args: argparse.Namespace) -> int:
    try:
        content = load_content()
        warnings = _placeholder_warnings()
    except ContentError as exc:
        return _fail(f"content: {exc}")
    count = len(content.catalog.texts("nb").entries)
    policy = content.policy
    approved = sum(1 for tool in policy.tools if tool.sanctioned)
    print(
        f"kivett: content OK ({count} texts in nb, nn and en; {len(policy.tools)} tools, "
        f"{approved} approved; {len(policy.tasks)} tasks; {len(policy.categories)} categories)"
    )
    for warning in warnings:
        print(f"kivett: warning: {warning.line()}")
    if warnings:
        print(
            f"kivett: NOT READY FOR PRODUCTION: the content is valid, but {len(warnings)} "
            "placeholder(s) above must be replaced with the municipality's own before it goes "
            "live (see docs/personvernombud.md)"
        )
        if args.strict:
            return 1
    return 0


def _policy_matrix(args: argparse.Namespace) -> int:
    from bot.operator.policy_matrix import matrix_text, row_count, write_matrix

    try:
        content = load_content()
        text = matrix_text(content, args.matrix_format, args.lang)
    except ContentError as exc:
        return _fail(f"content: {exc}")
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_matrix(text, args.matrix_format, args.out)
    except OSError as exc:
        return _fail(f"could not write {args.out}: {exc.strerror or 'error'}")
    print(
        f"kivett: wrote the decision table ({row_count(content)} combinations, "
        f"{args.lang}) to {args.out}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    gc.enable()  # `python -m bot` pauses it while importing (bot/__main__.py)
    args = _parser().parse_args(argv)
    if args.command == "package":
        return _package(args)
    if args.command == "content":
        return _content_check(args)
    if args.command == "policy":
        return _policy_matrix(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    if args.command == "export":
        return _export(args, settings)
    if args.command == "outbox":
        return _retry_parked(settings)
    if args.command == "sharepoint":
        return _sharepoint_setup(args, settings)
    if args.command == "privacy":
        return _privacy(args, settings)
    if args.command == "gevinst":
        return _gevinst_export(args, settings)
    if args.command == "worker":
        return _serve(args, settings, role="worker")
    return _serve(args, settings)


def _privacy(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from bot.operator import privacy
    from bot.operator.export import nothing_stored, store_name

    if nothing_stored(settings):
        return _fail(f"no data in {settings.data_dir} (KIVETT_DATA_DIR): nothing is stored")
    now = datetime.now(UTC)
    user = str(getattr(args, "user", "") or "").strip()
    if args.privacy_command != "prune" and not user:
        return _fail("--user: give the person's Entra object id")
    try:
        if args.privacy_command == "export":
            document = asyncio.run(privacy.export_person(settings, user, now=now))
            if args.out is None:
                print(document)
                return 0
            args.out.parent.mkdir(parents=True, exist_ok=True)
            # personal data: readable by the operator only
            handle = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(document + "\n")
            print(f"kivett: wrote the data stored about {user} to {args.out}")
            return 0
        if args.privacy_command == "erase":
            if not args.yes:
                record = asyncio.run(privacy.person(settings, user))
                if record.empty:
                    print(f"kivett: nothing is stored about {user}")
                    return 0
                print(
                    f"kivett: stored about {user}: {len(record.conversations)} conversation "
                    f"reference(s), {len(record.lessons_completed)} completed lesson(s), "
                    f"subscription: {'yes' if record.subscription else 'no'}, "
                    f"language: {_language_stored(record.language)}, "
                    f"{len(record.learning_cards)} learning card(s), "
                    f"{len(record.broadcasts)} tip(s). Run again with --yes to erase."
                )
                return 0
            erasure = asyncio.run(privacy.erase_person(settings, user))
            print(f"kivett: erased what was stored about {user}")
            for line in privacy.erasure_lines(erasure):
                print(f"  {line}")
            if erasure.learning_cards:
                print(
                    "  the sender is removed from items already in SharePoint the next time "
                    "the bot's outbox runs"
                )
            return 0
        conversations, counters = asyncio.run(privacy.prune(settings, now=now))
    except StorageUnavailableError:
        return _fail(f"could not use {store_name(settings)}")
    except OSError as exc:
        return _fail(f"could not write {args.out}: {exc.strerror or 'error'}")
    print(
        f"kivett: retention {settings.retention_days} days: forgot {conversations} "
        f"conversation(s), removed {counters} monthly usage counter(s)"
    )
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.operator.export import export_csv, nothing_stored, store_name

    if nothing_stored(settings):
        return _fail(f"no data in {settings.data_dir} (KIVETT_DATA_DIR): nothing to export")
    try:
        count = asyncio.run(export_csv(settings, args.csv))
    except StorageUnavailableError:
        return _fail(f"could not read {store_name(settings)}")
    except OSError as exc:
        return _fail(f"could not write {args.csv}: {exc.strerror or 'error'}")
    except ContentError as exc:
        return _fail(f"content: {exc}")
    print(f"kivett: wrote {_cards(count)} to {args.csv}")
    return 0


def _cards(count: int, kind: str = "") -> str:
    """ "1 learning card", "3 parked learning cards": an operator's line in plain English."""
    return f"{count} {kind}learning card{'' if count == 1 else 's'}"


def _retry_parked(settings: Settings) -> int:
    from bot.operator.export import nothing_stored, retry_parked, store_name

    if nothing_stored(settings):
        return _fail(f"no data in {settings.data_dir} (KIVETT_DATA_DIR)")
    try:
        count, trials = asyncio.run(retry_parked(settings))
    except StorageUnavailableError:
        return _fail(f"could not use {store_name(settings)}")
    print(f"kivett: {_cards(count, 'parked ')} will be sent again")
    if trials:
        print(f"kivett: {trials} parked {'trial' if trials == 1 else 'trials'} will be sent again")
    return 0


def _sharepoint_setup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.operator.sharepoint import PersonSignIn, run_setup
    from dialogs.learning_card import LearningCardDialog

    person: PersonSignIn | None = None
    if args.device_code:
        client_id = (args.client_id or "").strip()
        tenant_id = (args.tenant or settings.app_tenant_id or "").strip()
        if not client_id:
            return _fail(
                "--device-code: give --client-id, the client id of the 'KI-vett setup' app "
                "registration (see README, 'Learning cards to SharePoint')"
            )
        if not _is_guid(client_id):
            return _fail("--client-id: not an app (client) id; it looks like a GUID")
        if not tenant_id:
            return _fail(
                "--device-code: give --tenant, the municipality's Entra tenant id "
                "(or set MicrosoftAppTenantId)"
            )
        if settings.app_id and client_id.casefold() == settings.app_id.casefold():
            print(
                "kivett: warning: --client-id is the bot's own app registration; the README "
                "recommends a separate 'KI-vett setup' registration, so that the bot's app "
                "keeps Sites.Selected only",
                file=sys.stderr,
            )
        person = PersonSignIn(client_id=client_id, tenant_id=tenant_id)
    elif args.client_id or args.tenant:
        return _fail("--client-id and --tenant sign a person in: add --device-code")
    try:
        content = load_content()
    except ContentError as exc:
        return _fail(f"content: {exc}")
    dialog = LearningCardDialog(content.policy, content.service_areas)
    choices = dialog.labels(content.catalog.texts("nb")).list_choices()
    return run_setup(
        settings,
        args.site,
        args.list_name or settings.sharepoint_list,
        choices,
        sys.stdout,
        person=person,
        bot_app_id=(args.bot_id or "").strip(),
    )


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == GUID_LENGTH


def _language_stored(choice: LanguageChoice | None) -> str:
    if choice is None:
        return "nothing"
    offered = "offered" if choice.offered else "not offered"
    return f"{choice.language or 'not chosen'} ({offered})"


def _gevinst_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gevinst = commands.add_parser("gevinst", help="material for the gevinstverksted")
    gevinst_commands = gevinst.add_subparsers(dest="gevinst_command", required=True)
    export = gevinst_commands.add_parser(
        "export",
        help="the learning cards of one trial or unit, with a summary, as a spreadsheet "
        "(benefit and time as employees experienced and reported them, not measured)",
    )
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--trial", metavar="ID", help="one trial, by the id its card shows")
    scope.add_argument(
        "--unit", metavar="NAME", help="every trial of a unit (its name) or service area (its id)"
    )
    export.add_argument("--format", dest="gevinst_format", choices=("csv", "xlsx"), required=True)
    export.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="the file to write (default: gevinst-<trial or unit>.<format> here)",
    )


def _gevinst_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.trials.gevinst import Scope, ScopeKind
    from bot.operator.export import nothing_stored, store_name
    from bot.operator.gevinst import Format, NothingFoundError, default_name, export_gevinst

    if nothing_stored(settings):
        return _fail(f"no data in {settings.data_dir} (KIVETT_DATA_DIR): nothing to export")
    key = str(args.trial if args.trial is not None else args.unit).strip()
    if not key:
        return _fail("--trial/--unit: give a trial id or a unit name")
    scope = Scope(ScopeKind.TRIAL if args.trial is not None else ScopeKind.UNIT, key)
    fmt = Format(args.gevinst_format)
    out: Path = args.out or default_name(scope, fmt)
    try:
        found = asyncio.run(export_gevinst(settings, scope, fmt, out))
    except NothingFoundError:
        what = "trial with the id" if scope.kind is ScopeKind.TRIAL else "trial of the unit"
        return _fail(f"no {what} {key!r} in {store_name(settings)}")
    except StorageUnavailableError:
        return _fail(f"could not read {store_name(settings)}")
    except OSError as exc:
        return _fail(f"could not write {out}: {exc.strerror or 'error'}")
    except ContentError as exc:
        return _fail(f"content: {exc}")
    print(
        f"kivett: wrote {_cards(found.cards)} ({found.title}) with a summary to {out}; "
        "benefit and time are as employees experienced and reported them, not measured"
    )
    return 0
