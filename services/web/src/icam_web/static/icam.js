// ICAM workspace: progressive enhancement only — every page and form works without this file.
// Drafts (a half-written note survives an expired session), keyboard shortcuts, the CSRF token on
// htmx requests, and charts drawn from the tables that carry their numbers.
(function () {
  "use strict";
  document.body.classList.add("js-enabled", "govuk-frontend-supported");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  document.addEventListener("htmx:configRequest", function (event) {
    if (csrf) { event.detail.headers["X-CSRF-Token"] = csrf; }
  });

  // --- drafts: every form with data-draft="<form>:<case>" saves what is typed in localStorage ---
  var PREFIX = "icam-draft:";
  var SKIP = { csrf_token: true, form_page: true };

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP[el.name] && el.type !== "hidden" && el.type !== "submit" && el.type !== "button";
    });
  }

  function save(form) {
    var values = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        values[el.name] = values[el.name] || [];
        if (el.checked) { values[el.name].push(el.value); }
      } else {
        values[el.name] = el.value;
      }
    });
    try {
      localStorage.setItem(PREFIX + form.dataset.draft, JSON.stringify({ at: Date.now(), values: values }));
    } catch (e) { /* storage full or disabled: the form still works */ }
  }

  function restore(form) {
    var raw = null;
    try { raw = localStorage.getItem(PREFIX + form.dataset.draft); } catch (e) { return; }
    if (!raw) { return; }
    var draft = JSON.parse(raw);
    fieldsOf(form).forEach(function (el) {
      var value = draft.values[el.name];
      if (value === undefined) { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) >= 0;
      } else {
        el.value = value;
      }
    });
    var note = document.createElement("p");
    note.className = "icam-draft-note";
    note.setAttribute("role", "status");
    note.setAttribute("data-draft-note", "");
    var when = new Date(draft.at).toLocaleString(document.documentElement.lang);
    note.textContent = (form.dataset.draftRestored || "Draft restored") + " (" + when + ")";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "govuk-button govuk-button--secondary govuk-!-margin-left-2 govuk-!-margin-bottom-0";
    discard.textContent = form.dataset.draftDiscard || "Discard draft";
    discard.addEventListener("click", function () {
      localStorage.removeItem(PREFIX + form.dataset.draft);
      window.location.reload();
    });
    note.appendChild(discard);
    form.insertBefore(note, form.firstChild);
  }

  function clearDrafts() {
    document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      (el.dataset.clearDraft || "").split(" ").forEach(function (key) {
        if (key) { localStorage.removeItem(PREFIX + key); }
      });
    });
    if (document.querySelector('[data-clear-all-drafts="yes"]')) {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf(PREFIX) === 0) { localStorage.removeItem(key); }
      });
    }
  }

  function watchDrafts() {
    clearDrafts();
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      restore(form);
      form.addEventListener("input", function () { save(form); });
      form.addEventListener("change", function () { save(form); });
    });
  }

  // --- keyboard shortcuts (never while typing) ---
  var pending = null;
  var GO = { a: "/agenda", c: "/cases", n: "/invitations/new", d: "/desk", r: "/partner", o: "/ops" };

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (pending === "g" && GO[key]) {
      pending = null;
      window.location.assign(GO[key]);
      return;
    }
    pending = key === "g" ? "g" : null;
    if (key === "/") {
      var search = document.querySelector("[data-shortcut-search]");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = true; help.querySelector("summary").focus(); }
    } else {
      var action = document.querySelector('[data-shortcut="' + key + '"]');
      if (action) { event.preventDefault(); action.click(); }
    }
  });

  // --- charts: each canvas[data-chart] draws the table named by data-table ---
  var PALETTE = ["#1f4e79", "#f0b323", "#00703c", "#d4351c", "#5694ca", "#912b88", "#505a5f", "#85994b"];

  function tableData(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    var rows = Array.prototype.map.call(table.querySelectorAll("tbody tr"), function (tr) {
      return Array.prototype.map.call(tr.children, function (td) { return td.dataset.value || td.textContent.trim(); });
    });
    return { labels: rows.map(function (r) { return r[0]; }), series: heads.slice(1), rows: rows };
  }

  function drawCharts() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var table = document.getElementById(canvas.dataset.table);
      if (!table || canvas.dataset.drawn) { return; }
      canvas.dataset.drawn = "yes";
      var data = tableData(table);
      var type = canvas.dataset.chart;
      var datasets = data.series.map(function (name, i) {
        return {
          label: name,
          data: data.rows.map(function (r) { return Number(r[i + 1]) || 0; }),
          backgroundColor: type === "doughnut" ? PALETTE : PALETTE[i % PALETTE.length]
        };
      });
      new window.Chart(canvas, {
        type: type === "stacked" ? "bar" : type,
        data: { labels: data.labels, datasets: type === "doughnut" ? datasets.slice(0, 1) : datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: type === "doughnut" ? {} : { x: { stacked: type === "stacked" }, y: { stacked: type === "stacked", beginAtZero: true } }
        }
      });
    });
  }

  watchDrafts();
  drawCharts();
  document.addEventListener("htmx:afterSettle", drawCharts);
})();
