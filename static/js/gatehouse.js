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

// The main navigation: one menu open at a time, closed by Escape or a click elsewhere; on phones the Menu
// button folds the whole navigation away (static/css/app.css, "Navigation").
(function () {
  function groups() {
    return document.querySelectorAll("[data-nav-group]");
  }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("[data-nav-group]") || !opened.open) return;
    groups().forEach(function (group) {
      if (group !== opened) group.open = false;
    });
  }, true);
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var bar = toggle.closest(".topbar");
      var open = !bar.classList.contains("nav-open");
      bar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (!event.target.closest("[data-nav-group]")) {
      groups().forEach(function (group) { group.open = false; });
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    groups().forEach(function (group) {
      if (group.open) {
        group.open = false;
        group.querySelector("summary").focus();
      }
    });
  });
})();

// A slug box (data-slug-from="name") follows the name typed until the person edits the slug themselves;
// emptying it hands it back to the name. Same rule as the server's slugify: lower case, ASCII letters,
// digits and hyphens.
(function () {
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").replace(/^-+|-+$/g, "");
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box.matches && box.matches("[data-slug-from]")) {
      box.dataset.slugEdited = box.value ? "yes" : "";
      return;
    }
    if (!box.form || !box.name) return;
    box.form.querySelectorAll('[data-slug-from="' + box.name + '"]').forEach(function (slug) {
      if (slug.dataset.slugEdited === "yes") return;
      var max = parseInt(slug.getAttribute("maxlength") || "0", 10);
      var value = slugify(box.value);
      slug.value = max ? value.slice(0, max).replace(/-+$/, "") : value;
    });
  });
  // A form shown again with a slug of the person's own (not the name's) keeps it.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-slug-from]").forEach(function (slug) {
      var source = slug.form && slug.form.elements[slug.dataset.slugFrom];
      if (slug.value && source && slugify(source.value) !== slug.value) slug.dataset.slugEdited = "yes";
    });
  });
})();

// Searchable choices (core.widgets.SearchableCheckboxes and SearchableSelect): the filter box narrows the
// list as the person types; what is chosen stays shown, and a checkbox list says how many are chosen.
(function () {
  function matches(text, words) {
    text = text.toLowerCase();
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  }
  function count(picker) {
    var out = picker.querySelector("[data-picker-count]");
    if (!out) return;
    var chosen = Array.prototype.map.call(picker.querySelectorAll("input[type=checkbox]:checked"), function (box) {
      return box.closest("label").textContent.trim();
    });
    out.textContent = chosen.length ? chosen.length + " chosen: " + chosen.join(", ") : "None chosen.";
  }
  function filter(picker, typed) {
    var words = typed.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    picker.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      var row = box.closest("label").parentElement;
      var show = box.checked || matches(row.textContent, words);
      row.hidden = !show;
      shown += show ? 1 : 0;
    });
    picker.querySelectorAll("option").forEach(function (option) {
      var show = option.selected || !option.value || matches(option.textContent, words);
      option.hidden = !show;
      shown += show ? 1 : 0;
    });
    picker.classList.toggle("picker-none", shown === 0);
  }
  function start(root) {
    (root || document).querySelectorAll("[data-picker]").forEach(function (picker) {
      var search = picker.querySelector("[data-picker-search]");
      if (!search || search.dataset.ready) return;
      search.dataset.ready = "yes";
      search.hidden = false;
      count(picker);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { start(); });
  document.addEventListener("htmx:afterSettle", function (event) { start(event.target); });
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-picker-search]")) filter(event.target.closest("[data-picker]"), event.target.value);
  });
  document.addEventListener("change", function (event) {
    var picker = event.target.closest && event.target.closest("[data-picker]");
    if (picker) count(picker);
  });
  // Enter in a filter box filters; it does not submit the form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-picker-search]")) event.preventDefault();
  });
})();

// The tools a version declares (core.widgets.ToolsPicker): ticking a known tool adds it, with its scopes, to
// the JSON list below; unticking removes it; the ticks follow what is typed in the JSON.
(function () {
  function parse(area) {
    try {
      var value = JSON.parse(area.value.trim() || "[]");
      return Array.isArray(value) ? value : null;
    } catch (error) {
      return null;
    }
  }
  function sync(picker) {
    var area = document.getElementById(picker.dataset.toolsFor);
    var tools = area && parse(area);
    var names = (tools || []).map(function (tool) { return tool && tool.name; });
    picker.querySelectorAll("[data-tool]").forEach(function (box) {
      box.checked = names.indexOf(JSON.parse(box.dataset.tool).name) !== -1;
      box.disabled = tools === null;  // the JSON does not parse: fix it first
    });
    picker.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-tools-for]").forEach(sync);
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-tool]")) return;
    var picker = box.closest("[data-tools-for]");
    var area = document.getElementById(picker.dataset.toolsFor);
    var tools = parse(area);
    if (tools === null) return;
    var tool = JSON.parse(box.dataset.tool);
    tools = tools.filter(function (each) { return !each || each.name !== tool.name; });
    if (box.checked) tools.push(tool);
    area.value = tools.length ? JSON.stringify(tools, null, 2) : "";
  });
  document.addEventListener("input", function (event) {
    if (!event.target.id) return;
    var picker = document.querySelector('[data-tools-for="' + event.target.id + '"]');
    if (picker) sync(picker);
  });
})();
