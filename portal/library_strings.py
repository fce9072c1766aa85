"""Strings of Django and of libraries that their own catalogs leave without zh-Hans, for makemessages to find.

Nothing imports this module: makemessages reads it, and the translations land in
locale/zh_Hans, which LOCALE_PATHS puts before every library's own catalog.
"""

from django.utils.translation import gettext_noop

LIBRARY_STRINGS = (
    # django.contrib.admin 5.2, the app list's column headers (admin/app_list.html).
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-axes's model names (axes/models.py), shown in every admin page's side menu, and its field and
    # column labels (axes/models.py, axes/admin.py).
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    # djangorestframework-api-key's app and model names, not marked there (rest_framework_api_key/apps.py,
    # models.py); the group admin's permission list translates them (portal.admin.permission_label).
    gettext_noop("API Key Permissions"),
    gettext_noop("API key"),
    gettext_noop("API keys"),
    # djangorestframework-api-key's field help (rest_framework_api_key/models.py).
    gettext_noop("A free-form name for the API key. Need not be unique. 50 characters max."),
    gettext_noop("If the API key is revoked, clients cannot use it anymore. (This cannot be undone.)"),
    gettext_noop("Once API key expires, clients cannot use it anymore."),
    gettext_noop("Expires"),
)
