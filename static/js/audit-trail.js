// The audit trail: "Copy" buttons put the full hash (data-copy) on the clipboard.
(function () {
  if (window.gatehouseAuditTrail) return;
  window.gatehouseAuditTrail = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
})();
