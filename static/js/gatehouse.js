// Behaviour that would otherwise be inline (the Content Security Policy allows no inline script).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// A passkey just added on the Account security page: show it in the list (django-otp-webauthn's script
// only announces it).
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
