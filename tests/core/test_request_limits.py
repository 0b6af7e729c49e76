"""Request and upload limits (issue 15, item 2.5; security.md: input limits): an oversized body
is refused with 413 before it is read, a malformed multipart body with 400 — in the API's JSON
error format or on a Chinese page — and nothing changes."""

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hongfeng.core import uploads
from hongfeng.members import photos, roster
from hongfeng.members.models import Application, Member

MB = 1024 * 1024


def _huge_json(size: int) -> str:
    return json.dumps({"mobile": "1" * size, "password": "x"})


def _assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # a Chinese message
    return body


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/applications"])
def test_a_50_mb_json_body_is_413(db, path):
    before = Application.objects.count()
    response = Client().post(path, _huge_json(50 * MB), content_type="application/json")
    body = _assert_json_error(response, 413, "request_too_large")
    assert "2 MB" in body["message"]
    assert Application.objects.count() == before


def test_a_body_past_djangos_field_cap_is_413_in_the_api(db):
    """Declared as multipart (the middleware lets up to 11 MB through), but the endpoint reads
    JSON: Django's DATA_UPLOAD_MAX_MEMORY_SIZE trips while reading — 413, not 500."""
    body = b"--b\r\n" + b"x" * (3 * MB)
    response = Client().post(
        "/api/v1/auth/token", body, content_type="multipart/form-data; boundary=b"
    )
    _assert_json_error(response, 413, "request_too_large")


def test_any_body_above_the_request_limit_is_413(db, api_as):
    response = api_as("captain").client.post(
        "/api/v1/roster-imports",
        b"-" * (settings.MAX_REQUEST_BYTES + 1),
        content_type="multipart/form-data; boundary=b",
    )
    _assert_json_error(response, 413, "request_too_large")


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_multipart_without_a_boundary_is_400(cast, api_as, content_type):
    response = api_as("captain").client.post(
        "/api/v1/roster-imports", b"abc", content_type=content_type
    )
    _assert_json_error(response, 400, "malformed_multipart")


def test_an_oversized_roster_file_in_the_api_is_refused(cast, api_as):
    response = api_as("captain").client.post(
        "/api/v1/roster-imports",
        {
            "team_id": cast.units["hongfeng"].pk,
            "consent_confirmed": "true",
            "file": SimpleUploadedFile("r.xlsx", b"PK" + b"0" * (roster.MAX_BYTES + 1)),
        },
    )
    body = _assert_json_error(response, 413, "file_too_large")
    assert body["field"] == "file" and "10 MB" in body["message"]


def _application(team_id) -> dict:
    return {
        "name": "李四",
        "id_number": "11010519491231002X",
        "mobile": "13612345678",
        "password": "Apply#Pass2026",
        "password_again": "Apply#Pass2026",
        "charter_version": 1,
        "charter_accepted": "on",
        "privacy_accepted": "on",
    }


@pytest.mark.parametrize("size", [3 * MB, 50 * MB])
def test_the_anonymous_apply_form_takes_no_upload(cast, client, size):
    """The form has no file field: a multipart body above the form limit is a 413 page."""
    team = cast.units["hongfeng"]
    data = _application(team.pk) | {"photo": SimpleUploadedFile("big.jpg", b"\xff" * size)}
    response = client.post(f"/apply/{team.pk}/", data)
    assert response.status_code == 413
    page = response.content.decode()
    assert "提交内容过大" in page and "上限" in page
    assert not Application.objects.filter(name="李四").exists()


def test_the_apply_form_still_takes_an_ordinary_post(cast, client):
    team = cast.units["hongfeng"]
    response = client.post(f"/apply/{team.pk}/", _application(team.pk))
    assert response.status_code == 200
    assert Application.objects.filter(name="李四").exists()


def test_a_page_past_djangos_field_cap_is_a_413_page(cast, page_as):
    """A photo-sized body whose ordinary field alone passes DATA_UPLOAD_MAX_MEMORY_SIZE:
    Django refuses while parsing, and the page says so in Chinese."""
    member = Member.objects.get(name="张三")
    response = page_as("captain").post(
        f"/members/{member.pk}/photo/", {"back": "x" * (3 * MB)}, format="multipart"
    )
    assert response.status_code == 413
    assert "提交内容过大" in response.content.decode()


def test_photo_page_limits(cast, page_as, media_root):
    member = Member.objects.get(name="张三")
    client = page_as("captain")
    too_big = client.post(
        f"/members/{member.pk}/photo/",
        {"photo": SimpleUploadedFile("p.jpg", b"\xff" * (6 * MB), "image/jpeg")},
    )
    assert too_big.status_code == 413 and "提交内容过大" in too_big.content.decode()
    just_over = client.post(
        f"/members/{member.pk}/photo/",
        {"photo": SimpleUploadedFile("p.jpg", b"\xff" * (photos.MAX_BYTES + 1), "image/jpeg")},
        follow=True,
    )
    assert "照片不能超过 5 MB" in just_over.content.decode()
    member.refresh_from_db()
    assert not member.photo


def test_the_roster_page_takes_a_file_above_the_form_limit(cast, page_as):
    """The page declared its 10 MB allowance: a 3 MB file reaches the view (which judges the
    file itself) instead of being refused as an oversized form."""
    client = page_as("captain")
    team = cast.units["hongfeng"]
    response = client.post(
        f"/members/roster/?team={team.pk}",
        {"file": SimpleUploadedFile("r.xlsx", b"PK" + b"0" * (3 * MB)), "consent": "on"},
    )
    assert response.status_code in (200, 302)


def test_the_limits_fit_together():
    """The request limit leaves room for the largest file each upload takes, with its fields;
    and the proxy configuration in docs/deployment.md carries the same limit."""
    for largest in (roster.MAX_BYTES, photos.MAX_BYTES):
        assert largest + uploads.FORM_ALLOWANCE <= settings.MAX_REQUEST_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < settings.MAX_REQUEST_BYTES
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.fixture
def media_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path
