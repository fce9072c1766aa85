from django.core.management.base import BaseCommand, CommandError

from ledger.api import Actor, access_context
from services.statistics.actions import period_publish
from services.statistics.errors import BudgetExhausted, StatisticsError, TableUnknown
from services.statistics.periods import period_parse
from services.statistics.tables import TABLES

_FIELDS = {BudgetExhausted: "budget", TableUnknown: "table"}


class Command(BaseCommand):
    help = "Official statistics: publish the trend tables of a closed month under differential privacy."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        publish = commands.add_parser(
            "publish", help="publish the tables of a closed month; a table already released is shown, never redrawn"
        )
        publish.add_argument("--period", required=True, help="the month, YYYY-MM")
        publish.add_argument(
            "--table", action="append", dest="tables", choices=list(TABLES), help="only this table (repeatable)"
        )

    def handle(self, *args, subcommand: str, **options):
        try:
            period = period_parse(options["period"])
            with access_context(
                actor=Actor(type="system", id="statistics.publish"),
                role="system",
                channel="command",
                purpose="official-statistics",
            ):
                published = period_publish(period=period, tables=options["tables"])
        except StatisticsError as error:
            raise CommandError(f"{_FIELDS.get(type(error), 'period')}: {error}") from None
        for release in published.releases:
            state = "published" if release in published.new else "already released"
            self.stdout.write(f"{release.table} {release.period}: {state}, rho={release.rho}, {len(release.rows)} rows")
