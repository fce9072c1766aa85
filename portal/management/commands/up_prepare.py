"""Prepare `make up`'s production-shaped stack: its settings file, its database and Redis."""

import os
import re
import secrets
from pathlib import Path

import environ
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.keys import MDOC_KEY_NAMES, generate_all, mdoc_chain_generate


def env_file_read(path: Path) -> dict[str, str]:
    """Return the NAME=value lines of PATH (empty when it does not exist)."""
    if not path.exists():
        return {}
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


class Command(BaseCommand):
    help = (
        "For `make up`: 'env FILE' writes the stack's settings (keeping its keys), "
        "'services' checks PostgreSQL and Redis and creates the database DATABASE_URL names."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        steps = parser.add_subparsers(dest="step", required=True, metavar="step")
        env_file = steps.add_parser("env", help="write FILE: keys kept from before, settings from the options")
        env_file.add_argument("file", type=Path)
        env_file.add_argument("--database-url", required=True)
        env_file.add_argument("--redis-url", required=True)
        env_file.add_argument("--email-url", required=True)
        env_file.add_argument("--issuer-url", default="http://127.0.0.1:8000")
        steps.add_parser("services", help="check DATABASE_URL and REDIS_URL; create the database if missing")

    def handle(self, *args, step: str, **options):
        if step == "env":
            self._env(options["file"], options)
        else:
            self._database(os.environ.get("DATABASE_URL", ""))
            self._redis(os.environ.get("REDIS_URL", ""))

    def _env(self, path: Path, options) -> None:
        before = env_file_read(path)
        # Keys and the secret key are made once: data written under them must stay readable.
        fresh = generate_all(sorted(set(settings.KEYS.names)))
        fresh["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
        kept = {name: before.get(name) or value for name, value in fresh.items()}
        # The mdoc chain is kept or made as a whole: a document signer belongs to one IACA.
        if all(before.get(name) for name in MDOC_KEY_NAMES):
            kept |= {name: before[name] for name in MDOC_KEY_NAMES}
        else:
            kept |= mdoc_chain_generate(issuer_url=options["issuer_url"])[0]
        chosen = {
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": options["database_url"],
            "REDIS_URL": options["redis_url"],
            "EMAIL_URL": options["email_url"],
            "ONECARD_CREDENTIAL_ISSUER_URL": options["issuer_url"],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(f"{name}={value}\n" for name, value in (kept | chosen).items())
        os.chmod(path, 0o600)
        if not before:
            self.stdout.write(f"wrote {path} (keys for the local production-shaped stack)")
        for name, value in chosen.items():
            if before and before.get(name) != value:
                was = before.get(name, "unset")
                self.stdout.write(f"{path}: {name} is now {_password_hidden(value)} (was {_password_hidden(was)})")

    def _database(self, url: str) -> None:
        import psycopg
        from psycopg import sql

        config = environ.Env.db_url_config(url) if url else {}
        if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
            raise CommandError(f"DATABASE_URL must be postgres://user@host:port/name, not {url!r}")
        name, host, port = config["NAME"], config.get("HOST") or "localhost", config.get("PORT") or 5432
        connect = {"host": host, "port": port, "user": config.get("USER") or None}
        if config.get("PASSWORD"):
            connect["password"] = config["PASSWORD"]
        try:
            with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **connect) as connection:
                exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if not exists:
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    self.stdout.write(f"created database {name} on {host}:{port}")
        except psycopg.Error as error:
            raise CommandError(f"PostgreSQL at {host}:{port} (DATABASE_URL): {error}".strip()) from None

    def _redis(self, url: str) -> None:
        import redis

        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise CommandError(f"REDIS_URL must be redis://host:port/db, not {url!r}")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=5).ping()
        except redis.RedisError as error:
            raise CommandError(f"Redis at {url} (REDIS_URL): {error}") from None


def _password_hidden(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
