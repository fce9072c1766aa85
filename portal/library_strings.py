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
    # django-axes's model names (axes/models.py), shown in every admin page's side menu.
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # djangorestframework-api-key's field help (rest_framework_api_key/models.py).
    gettext_noop("A free-form name for the API key. Need not be unique. 50 characters max."),
    gettext_noop("If the API key is revoked, clients cannot use it anymore. (This cannot be undone.)"),
    gettext_noop("Once API key expires, clients cannot use it anymore."),
    gettext_noop("Expires"),
)
