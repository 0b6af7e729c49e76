"""Passwords: production hashes with Argon2 (the suite itself uses a fast hasher, see
tests/conftest.py), the 等保 composition rules by default and a length-only ASVS profile when
configured; the 三权 accounts made from the command line (`create_admin`, `createsuperuser`)
follow the same rules and never combine two of the three powers."""

import io
import sys

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.core.management.base import CommandError

from hongfeng import settings as project_settings
from hongfeng.accounts import services
from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.core.errors import DomainError


class TestPasswords:
    def test_production_hashes_with_argon2(self, settings):
        assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
        settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
        encoded = make_password("Hongfeng@2026")
        assert encoded.startswith("argon2$")
        assert check_password("Hongfeng@2026", encoded)

    @pytest.mark.parametrize(
        ("password", "ok"),
        [
            ("Qzxwv7Lm", True),
            ("qzxwv7lm!", True),
            ("abcdefgh", False),
            ("Abc1!", False),
            ("ABCDEFGH12", False),
        ],
    )
    def test_dengbao_composition(self, db, password, ok):
        if ok:
            services.check_password_rules(password)
        else:
            with pytest.raises(DomainError):
                services.check_password_rules(password)

    def test_asvs_profile_is_length_only(self, db, settings):
        settings.AUTH_PASSWORD_VALIDATORS = [
            {
                "NAME": "hongfeng.accounts.passwords.ProfilePasswordValidator",
                "OPTIONS": {"profile": "asvs", "min_length": 8},
            }
        ]
        services.check_password_rules("correcthorsebattery")
        with pytest.raises(DomainError):
            services.check_password_rules("short")


def test_create_admin_command(db, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Audit#Pass2026\n"))
    call_command(
        "create_admin", role="auditor", mobile="13512345678", name="新审计", password_stdin=True
    )
    assert RoleAssignment.objects.get(user__mobile="13512345678").role == Role.AUDITOR
    monkeypatch.setattr(sys, "stdin", io.StringIO("Audit#Pass2026\n"))
    with pytest.raises(CommandError, match="三权分立"):
        call_command(
            "create_admin",
            role="system_admin",
            mobile="13512345678",
            name="新审计",
            password_stdin=True,
        )
    monkeypatch.setattr(sys, "stdin", io.StringIO("weak\n"))
    with pytest.raises(CommandError, match="密码"):
        call_command(
            "create_admin", role="auditor", mobile="13512345679", name="弱密码", password_stdin=True
        )


def test_createsuperuser_makes_a_platform_system_admin(db):
    user = User.objects.create_superuser(
        mobile="13512345678", name="新管理员", password="Admin#Pass2026"
    )
    assert RoleAssignment.objects.get(user=user).role == Role.SYSTEM_ADMIN
    assert RoleAssignment.objects.get(user=user).unit is None
