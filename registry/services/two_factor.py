"""The optional second factor of local accounts: authenticator apps (TOTP), passkeys and backup codes.

django-otp keeps the devices; every change to them goes through here so that it is audited in the
transaction that makes it. A backup code used at sign-in is a change too (it is spent), and audited.
Secrets and codes never reach the trail: only which kind of device, its name and how many codes.
"""

from __future__ import annotations

import re
from binascii import unhexlify

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from django_otp_webauthn.models import WebAuthnCredential

from registry.services.audit import audit_record, audit_record_many

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "Backup codes"
DEFAULT_TOTP_NAME = "Authenticator app"

# The kinds a user may remove from the security page, by the name used in its URLs.
DEVICE_KINDS = {"totp": TOTPDevice, "passkey": WebAuthnCredential, "backup": StaticDevice}
KIND_WORDS = {TOTPDevice: "authenticator app", WebAuthnCredential: "passkey", StaticDevice: "backup codes"}


def two_factor_required(user) -> bool:
    """Whether GATEHOUSE_REQUIRE_2FA_FOR names this user (by username, or as "staff" or "superusers")."""
    wanted = {entry.lower() for entry in settings.GATEHOUSE_REQUIRE_2FA_FOR}
    if not wanted or not getattr(user, "is_authenticated", False):
        return False
    return (
        user.get_username().lower() in wanted
        or ("staff" in wanted and user.is_staff)
        or ("superusers" in wanted and user.is_superuser)
    )


def has_second_factor(user) -> bool:
    """A confirmed device of any kind (backup codes included)."""
    return user_has_device(user, confirmed=True)


def primary_devices(user) -> list:
    """Authenticator apps and passkeys: the devices backup codes stand in for."""
    return [
        *TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("created_at", "pk"),
        *WebAuthnCredential.objects.devices_for_user(user, confirmed=True).order_by("created_at", "pk"),
    ]


def backup_codes_left(user) -> int | None:
    """How many unused backup codes the user has, or None without a backup code device."""
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return None if device is None else device.token_set.count()


def new_totp_key() -> str:
    """A fresh secret (hex), kept in the session until the user proves their app has it."""
    return default_key()


def totp_config_url(user, key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


def normalise_code(raw: str) -> str:
    """What the user typed, less spaces and dashes (codes are shown in groups), lower case."""
    return re.sub(r"[\s-]+", "", raw or "").lower()


def _totp_matches(key: str, code: str) -> int | None:
    """The time step the code belongs to (one step of clock drift either way), or None."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = TOTP(unhexlify(key.encode()), step=30, t0=0, digits=6, drift=0)
    if not totp.verify(int(code), tolerance=1):
        return None
    return totp.t() + totp.drift


def totp_device_confirm(*, user, key: str, code: str, name: str = "") -> tuple[TOTPDevice, list[str] | None]:
    """Adds the authenticator app whose secret is ``key`` once ``code`` shows the app has it.

    Returns the device and, when the user had no backup codes yet, their new backup codes (shown once).
    The code given here cannot be used again to sign in."""
    code = normalise_code(code)
    step = _totp_matches(key, code)
    if step is None:
        raise ValidationError({"code": "That code does not match. Type the 6 digits your app shows now for Gatehouse."})
    name = (name or "").strip()[:64] or DEFAULT_TOTP_NAME
    with transaction.atomic():
        device = TOTPDevice.objects.create(user=user, key=key, name=name, confirmed=True, last_t=step)
        codes = _write_backup_codes(user) if backup_codes_left(user) is None else None
        audit_record(
            actor=user,
            action="two_factor.device_added",
            target=device,
            payload={"user": user.get_username(), "kind": "authenticator app", "name": name},
        )
        if codes:
            _audit_backup_codes(user, codes)
    return device, codes


def passkey_added(*, user, credential) -> None:
    """Names and audits a passkey django-otp-webauthn has just saved; called inside the transaction that
    saved it. Browsers send no name: "Passkey 2" tells a user's passkeys apart until they are removed."""
    if not credential.name:
        count = WebAuthnCredential.objects.devices_for_user(user, confirmed=True).count()
        credential.name = "Passkey" if count <= 1 else f"Passkey {count}"
        credential.save(update_fields=["name"])
    audit_record(
        actor=user,
        action="two_factor.device_added",
        target=credential,
        payload={"user": user.get_username(), "kind": "passkey", "name": credential.name},
    )


def _write_backup_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _audit_backup_codes(user, codes) -> None:
    device = StaticDevice.objects.get(user=user, name=BACKUP_DEVICE_NAME)
    audit_record(
        actor=user,
        action="two_factor.backup_codes_generated",
        target=device,
        payload={"user": user.get_username(), "count": len(codes)},
    )


def backup_codes_regenerate(*, user) -> list[str]:
    """New backup codes in place of any old ones (which stop working). Only beside an app or a passkey:
    backup codes stand in for a lost device, they are not a device of their own."""
    if not primary_devices(user):
        raise ValidationError("Add an authenticator app or a passkey first; backup codes stand in for them.")
    with transaction.atomic():
        codes = _write_backup_codes(user)
        _audit_backup_codes(user, codes)
    return codes


def code_verify(*, user, code: str):
    """Checks a code typed at the second step: 6 digits against the user's apps, anything else against
    their backup codes (spent when it matches). Returns the device that matched, or None.

    Devices are locked while checked, so one code cannot be used twice at the same time; each device
    also delays its next check after a failure (django-otp's throttling, kept in the database)."""
    code = normalise_code(code)
    if not code:
        return None
    kind = TOTPDevice if re.fullmatch(r"\d{6}", code) else StaticDevice
    with transaction.atomic():
        for device in kind.objects.devices_for_user(user, confirmed=True).select_for_update().order_by("pk"):
            if device.verify_token(code):
                if kind is StaticDevice:
                    audit_record(
                        actor=user,
                        action="two_factor.backup_code_used",
                        target=device,
                        payload={"user": user.get_username(), "left": device.token_set.count()},
                    )
                return device
    return None


def throttled_until(user):
    """When the user's devices take codes again after recent failures (the latest of them), or None."""
    latest = None
    for device in devices_for_user(user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            latest = max(latest, data["locked_until"]) if latest else data["locked_until"]
    return latest


def device_remove(*, user, device) -> None:
    """Removes one of the user's devices. Removing the last app or passkey removes the backup codes too:
    they stand in for a device, and left alone they would still be asked for at every sign-in."""
    if device.user_id != user.pk:
        raise ValidationError("That device is not yours.")
    with transaction.atomic():
        locked = type(device).objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:
            return  # already removed (a second click): nothing left to do
        gone = [locked]
        others = [d for d in primary_devices(user) if (type(d), d.pk) != (type(locked), locked.pk)]
        if not isinstance(locked, StaticDevice) and not others:
            gone += list(StaticDevice.objects.filter(user=user).select_for_update())
        entries = []
        for each in gone:  # rows first, the audit chain's lock last
            entries.append(
                dict(
                    actor=user,
                    action="two_factor.device_removed",
                    object_type=type(each)._meta.model_name,
                    object_id=each.pk,
                    object_repr=str(each),
                    payload={"user": user.get_username(), "kind": KIND_WORDS[type(each)], "name": each.name},
                )
            )
            each.delete()
        audit_record_many(entries)
