from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.actions import EnrolmentRefused, staff_otp_devices_remove


class Command(BaseCommand):
    help = "Remove a staff member's authenticator (a lost phone) so that their next admin login enrols a new one."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no account {username!r}")
        try:
            removed = staff_otp_devices_remove(user=user)
        except EnrolmentRefused as error:
            raise CommandError(f"username: {error}") from None
        self.stdout.write(f"{username}: {removed} authenticator(s) removed; the next admin login enrols a new one")
