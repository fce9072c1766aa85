"""The group admin lists permissions, and what deleting a group removes, in the admin's language."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import translation

from portal.admin import permission_label, permission_name
from tests.factories import UserFactory
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def superuser(client):
    user = staff_create("superuser")
    admin_login(client, user)
    purpose_state(client, "registration")
    return user


def test_a_builtin_permission_is_named_from_its_model_in_the_admin_language():
    permission = Permission.objects.get(content_type__app_label="cards", codename="add_card")

    with translation.override("zh-hans"):
        assert permission_label(permission) == "社保卡 | 卡 | 可以添加卡"
    with translation.override("en"):
        assert permission_name(permission) == "Can add card"


def test_a_library_permission_and_a_custom_one_are_translated_from_the_catalog():
    api_key = Permission.objects.get(content_type__app_label="rest_framework_api_key", codename="view_apikey")
    custom = Permission.objects.get(codename="run_verification")

    with translation.override("zh-hans"):
        assert permission_label(api_key) == "API 密钥权限 | API 密钥 | 可以查看API 密钥"
        assert permission_name(custom) == "可以发起全量日志核验"


def test_the_group_form_lists_permissions_in_chinese(client, superuser):
    client.cookies["django_language"] = "zh-hans"

    html = client.get(reverse("admin:auth_group_add")).content.decode()

    assert "社保卡 | 卡 | 可以添加卡" in html and "Can add card" not in html
    assert "Command" not in html


def test_deleting_a_group_lists_its_permissions_and_members_by_name(client, superuser):
    group = Group.objects.create(name="helpdesk")
    group.permissions.set(Permission.objects.filter(content_type__app_label="cards", codename="view_card"))
    group.user_set.add(UserFactory(username="li.lei", is_staff=True))
    client.cookies["django_language"] = "zh-hans"

    html = client.get(reverse("admin:auth_group_delete", args=[group.pk])).content.decode()

    assert "权限：社保卡 | 卡 | 可以查看卡" in html and "成员：li.lei" in html
    assert "已授予的权限: 1" in html or "已授予的权限：1" in html
    assert "relationship" not in html and "object (" not in html
