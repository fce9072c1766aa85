from django.conf import settings
from django.core.management.base import BaseCommand

from portal.keys import generate_all


class Command(BaseCommand):
    help = "Print a fresh set of OneCard keys as environment lines, for a production secret store."

    def handle(self, *args, **options):
        for name, value in generate_all(sorted(set(settings.KEYS.names))).items():
            self.stdout.write(f"{name}={value}")
