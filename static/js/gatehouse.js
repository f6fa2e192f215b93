// Behaviour that would otherwise be inline (the Content Security Policy allows no inline script).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
