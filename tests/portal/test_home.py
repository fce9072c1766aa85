import pytest


@pytest.mark.django_db
def test_home_page_renders(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "OneCard" in response.content.decode()


@pytest.mark.django_db
def test_home_page_speaks_chinese_when_asked(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
