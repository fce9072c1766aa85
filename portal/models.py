from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in to OneCard: a resident or a member of staff."""

    class Meta:
        db_table = "portal_user"
