"""The second step of signing in, the account security page, and passkeys (django-otp-webauthn's views,
the completing ones audited and limited here)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn_views

from registry.views import two_factor

app_name = "two_factor"

urlpatterns = [
    path("accounts/verify/", two_factor.VerifyView.as_view(), name="verify"),
    path("account/security/", two_factor.SecurityView.as_view(), name="security"),
    path("account/security/app/", two_factor.TotpSetupView.as_view(), name="totp_setup"),
    path("account/security/backup-codes/", two_factor.BackupCodesView.as_view(), name="backup_codes"),
    path("account/security/<str:kind>/<int:pk>/remove/", two_factor.DeviceRemoveView.as_view(), name="device_remove"),
]

# django-otp-webauthn's browser script reverses these names in the "otp_webauthn" namespace.
passkey_patterns = (
    [
        path(
            "registration/begin/",
            webauthn_views.BeginCredentialRegistrationView.as_view(),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/",
            two_factor.PasskeyRegistrationCompleteView.as_view(),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/",
            webauthn_views.BeginCredentialAuthenticationView.as_view(),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/",
            two_factor.PasskeyAuthenticationCompleteView.as_view(),
            name="credential-authentication-complete",
        ),
        path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
    ],
    "otp_webauthn",
)
