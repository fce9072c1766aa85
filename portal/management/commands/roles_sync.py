from django.core.management.base import BaseCommand

from portal.roles import roles_sync


class Command(BaseCommand):
    help = "Create the staff role groups and set their permissions from portal/roles.py (idempotent)."

    def handle(self, *args, **options):
        for code, count in roles_sync().items():
            self.stdout.write(f"{code}: {count} permissions")
