"""Command line: python -m tracker {migrate,load-territories,load-demo,create-user,recalculer-indicateurs,
contrats-echus,quotidien,sauvegarde,restauration,serve}."""
from __future__ import annotations

import argparse
import asyncio
import sys


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import forwards

    from tracker.core.db import prepare_sqlite_file

    prepare_sqlite_file()
    await forwards(app_name="tracker", migration_id="all", fake=False)
    from tracker.review.tables import TerritoryFigures
    from tracker.roadmaps.tables import Action

    if not await TerritoryFigures.exists() and await Action.exists():  # figures new to an existing database
        await _recalculate()


async def _recalculate() -> None:
    """The review's kept figures and monthly curve, rebuilt from the base tables and the history."""
    from tracker.review.figures import rebuild

    done = await rebuild()
    notes = f", {done['notes_corrigees']} dates de dernière note corrigées" if done["notes_corrigees"] else ""
    print(f"Indicateurs recalculés : {done['territoires']} territoires, {done['mois']} lignes mensuelles{notes}, "
          f"en {done['secondes']} s.")


async def _load_territories() -> None:
    from tracker.territories.reference import load_epci

    inserted = await load_epci()
    print(f"Territoires : {inserted} EPCI ajoutés (les existants sont conservés).")


async def _load_demo() -> None:
    from tracker.demo import load_demo

    await _load_territories()
    await load_demo()


def _read_password(stream=None) -> str:
    """One line from standard input, never echoed: piped (`printf '%s\\n' "$MOT_DE_PASSE" | …`) or typed at a
    terminal whose echo is turned off here (no getpass: it warns « Password input may be echoed » and falls back to
    echoing when it cannot)."""
    stream = stream or sys.stdin
    if not stream.isatty():
        return stream.readline().rstrip("\r\n")
    import termios

    descriptor = stream.fileno()
    saved = termios.tcgetattr(descriptor)
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    sys.stderr.write("Mot de passe (12 caractères au moins, non affiché) : ")
    sys.stderr.flush()
    termios.tcsetattr(descriptor, termios.TCSAFLUSH, quiet)
    try:
        return stream.readline().rstrip("\r\n")
    finally:
        termios.tcsetattr(descriptor, termios.TCSAFLUSH, saved)
        sys.stderr.write("\n")


async def _create_user(args: argparse.Namespace) -> int:
    """The very first administrator (everything else is done from the browser): with the password read from
    standard input, or `--invitation`, which prints a one-time link (7 days) where they choose it."""
    from tracker.accounts.service import create_user
    from tracker.core.errors import InvalidInput

    try:
        if args.invitation:
            from tracker.members.invitations import command_line_invitation

            role = "admin" if args.admin else "reviewer" if args.reviewer else ""
            url = await command_line_invitation(args.email, args.name, role)
            print(f"Invitation créée pour {args.email.strip().lower()} : ouvrez ce lien (valable 7 jours, une seule "
                  f"fois) pour choisir le mot de passe :\n{url}")
            return 0
        from tracker.accounts.tables import User

        if await User.exists().where(User.email == args.email.strip().lower()):
            print("Cette adresse a déjà un compte.", file=sys.stderr)
            return 1
        password = _read_password()
        user = await create_user(
            email=args.email, full_name=args.name, password=password, is_admin=args.admin, is_reviewer=args.reviewer
        )
    except InvalidInput as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"Compte créé : {user.email}")
    return 0


async def _expire_agreements() -> None:
    """One lifecycle call (one transaction, one history entry without user) per agreement; safe to run daily."""
    from tracker.agreements.lifecycle import expire_ended_agreements

    expired = await expire_ended_agreements()
    if expired:
        print(f"Contrats échus : {len(expired)} contrat(s) passé(s) à l'état « Échu » (n° {', '.join(map(str, expired))}).")
    else:
        print("Contrats échus : aucun contrat en vigueur n'a dépassé sa date de fin.")


async def _daily(dry_run: bool) -> int:
    """Agreements past their end, then the reminders; 1 when a mail could not be sent (cron and systemd say so)."""
    from tracker.core.db import close_pool, start_pool
    from tracker.deadlines.daily import run_daily

    await start_pool()
    try:
        report = await run_daily(dry_run=dry_run)
    finally:
        await close_pool()
    print("\n".join(report.lines(dry_run)))
    return 1 if report.failed else 0


def _run(work):
    """`asyncio.run` of a command, whose database connections are closed before its event loop ends."""

    async def run():
        from tracker.core.db import close_pool

        try:
            return await work
        finally:
            await close_pool()

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracker")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="applique les migrations")
    commands.add_parser("load-territories", help="charge les 1 255 EPCI")
    commands.add_parser("load-demo", help="charge les EPCI et les données de démonstration (idempotent)")
    create = commands.add_parser("create-user", help="crée un compte")
    create.add_argument("email")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--reviewer", action="store_true")
    create.add_argument("--invitation", action="store_true",
                        help="affiche un lien d'invitation à usage unique au lieu de lire le mot de passe sur l'entrée")
    commands.add_parser("recalculer-indicateurs",
                        help="reconstruit les indicateurs du pilotage à partir des données et de l'historique")
    commands.add_parser("contrats-echus", help="déclare échus les contrats en vigueur dont la date de fin est passée")
    daily = commands.add_parser("quotidien", help="chaque jour : contrats échus, puis rappels et points par courriel")
    daily.add_argument("--dry-run", action="store_true", help="affiche ce qui serait fait, sans rien écrire ni envoyer")
    save = commands.add_parser("sauvegarde", help="sauvegarde la base (SQLite : sauvegarde en ligne ; PostgreSQL : pg_dump)")
    save.add_argument("fichier", nargs="?", help="fichier de sauvegarde (par défaut var/sauvegardes/suivi-<date>)")
    restore = commands.add_parser("restauration", help="restaure une sauvegarde et ferme toutes les sessions")
    restore.add_argument("fichier")
    serve = commands.add_parser("serve", help="sert l'application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command != "migrate":  # the kernel keeps the review's figures in the transaction of every change
        from tracker.review.figures import install

        install()

    if args.command == "migrate":
        _run(_migrate())
    elif args.command == "load-territories":
        _run(_load_territories())
    elif args.command == "load-demo":
        _run(_load_demo())
    elif args.command == "create-user":
        return _run(_create_user(args))
    elif args.command == "recalculer-indicateurs":
        _run(_recalculate())
    elif args.command == "contrats-echus":
        _run(_expire_agreements())
    elif args.command == "quotidien":
        return _run(_daily(args.dry_run))
    elif args.command in ("sauvegarde", "restauration"):
        from tracker import backups

        try:
            if args.command == "sauvegarde":
                print(f"Sauvegarde écrite : {backups.backup(args.fichier)}")
            else:
                backups.restore(args.fichier)
                print(f"Sauvegarde {args.fichier} restaurée ; toutes les sessions sont fermées : chacun se reconnecte.")
        except backups.BackupFailed as error:
            print(error, file=sys.stderr)
            return 1
    elif args.command == "serve":
        import uvicorn

        from tracker.core.config import settings
        from tracker.core.logs import logging_config
        from tracker.demo import print_sign_in_help

        if args.workers > 1 and not settings.database_url:
            # Each process would have its own writer lock (tracker/core/sqlite_engine.py): correct, through SQLite's
            # file lock and busy timeout, but the writers of different processes would wait there again.
            print("Attention : plusieurs processus sur SQLite. Les écritures de processus différents s’attendent "
                  "dans SQLite ; plusieurs workers sont un réglage pour PostgreSQL (DATABASE_URL).", file=sys.stderr)
        print_sign_in_help(args.host, args.port)
        uvicorn.run(
            "tracker.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            log_config=logging_config(),  # tokens masked, control characters escaped, audit log as JSON lines
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
