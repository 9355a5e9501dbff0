// The visit page, progressive enhancement only: without this file every form still posts and works.
(function () {
  "use strict";

  // Order lines: the page offers five rows; "Add a line" copies an empty one for a longer order.
  function wireAddRow(root) {
    root.querySelectorAll("[data-add-row]").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var rows = btn.form.querySelector("[data-order-rows]");
        var last = rows && rows.lastElementChild;
        if (!last) return;
        var row = last.cloneNode(true);
        row.classList.remove("has-error");
        row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
        row.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
        row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        rows.appendChild(row);
        var select = row.querySelector("select");
        if (select) select.focus();
      });
    });
  }

  // A form that is being sent cannot be sent twice (a double tap on a weak network).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.closest || !form.closest(".visit")) return;
    if (form.dataset.sending && !form.hasAttribute("hx-post")) { evt.preventDefault(); return; }
    form.dataset.sending = "1";
    setTimeout(function () { delete form.dataset.sending; }, 8000);
  }, true);

  // --- a step, objective or follow-up that did not reach the server ---------------------------
  // The form stays as the rep left it, marked "not saved", with a Retry button. The words come
  // from the page (<template id="save-failed">), so they are in the rep's language.

  // Statuses our views answer with the form's own fragment (messages in place): swap those.
  var FRAGMENT_STATUSES = [403, 409, 422];
  // Worth trying again as they are; anything else (an expired form, a page gone) is not.
  function retryable(status) { return !status || status === 429 || status >= 500; }

  function visitForm(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    return form && form.closest(".visit") && form.hasAttribute("hx-post") ? form : null;
  }

  function clearFailure(form) {
    form.classList.remove("unsaved");
    form.querySelectorAll(".save-failed").forEach(function (e) { e.remove(); });
  }

  function serverMessage(text) {
    if (!text) return "";
    var doc = new DOMParser().parseFromString(text, "text/html");
    var found = doc.querySelector(".error-message, .error");
    return found ? found.textContent.trim() : "";
  }

  function showFailure(form, status, message) {
    var tpl = document.getElementById("save-failed");
    if (!tpl) return;
    clearFailure(form);
    var box = tpl.content.firstElementChild.cloneNode(true);
    var why = box.querySelector("[data-why]");
    if (why) {
      if (message) why.textContent = message;
      else if (status) why.textContent = why.dataset.server;
    }
    var retry = box.querySelector("[data-retry]");
    if (retry) {
      if (retryable(status)) {
        retry.addEventListener("click", function () {
          clearFailure(form);
          form.requestSubmit ? form.requestSubmit() : form.submit();
        });
      } else {
        retry.remove();
      }
    }
    // Beside the button the rep just tapped, where the eyes are.
    var submits = Array.prototype.filter.call(form.children, function (e) { return e.matches("button[type=submit]"); });
    if (submits.length) form.insertBefore(box, submits[submits.length - 1]);
    else form.appendChild(box);
    form.classList.add("unsaved");
    delete form.dataset.sending;
    if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:before:request", function (evt) {
    var form = visitForm(evt.target);
    if (form) clearFailure(form);
  });

  // No answer at all: offline, the connection dropped, or the request timed out.
  document.addEventListener("htmx:error", function (evt) {
    var form = visitForm(evt.target);
    var ctx = evt.detail && evt.detail.ctx;
    // With a response in hand the server did answer; htmx:response:error deals with refusals.
    if (!form || !ctx || ctx.response) return;
    showFailure(form, 0, "");
  });

  // An answer that is not the form's fragment (a server error, an expired form): keep what the
  // rep typed on the screen instead of swapping an error page over it.
  document.addEventListener("htmx:response:error", function (evt) {
    var form = visitForm(evt.target);
    var ctx = evt.detail && evt.detail.ctx;
    if (!form || !ctx || FRAGMENT_STATUSES.indexOf(ctx.response.status) !== -1) return;
    ctx.swap = "none";
    showFailure(form, ctx.response.status, serverMessage(ctx.text));
  });

  // --- photos: once one is stored (photos.js swaps its tile in), the step's head, the automatic
  // checks and the check-out bar are asked for again, so "Ready to check out" follows the camera.
  var progressTimer = null;

  function refreshProgress(visit) {
    var url = visit.getAttribute("data-progress-url");
    if (!url || !window.fetch) return;
    fetch(url, { headers: { "HX-Request": "true", "HX-Request-Type": "partial" }, cache: "no-store",
                 credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
        Array.prototype.forEach.call(doc.body.children, function (fresh) {
          var old = fresh.id && document.getElementById(fresh.id);
          if (!old) return;
          fresh.removeAttribute("hx-swap-oob");
          old.replaceWith(document.importNode(fresh, true));
        });
      })
      .catch(function () { /* offline: the page catches up on the next photo or reload */ });
  }

  function watchPhotos(root) {
    var visit = document.querySelector(".visit[data-progress-url]");
    if (!visit || !window.MutationObserver) return;
    root.querySelectorAll("[data-photo-grid]").forEach(function (grid) {
      if (grid.dataset.watched) return;
      grid.dataset.watched = "1";
      new MutationObserver(function (changes) {
        var stored = changes.some(function (c) {
          return Array.prototype.some.call(c.addedNodes, function (n) {
            return n.nodeType === 1 && n.matches(".photo-tile[id^='photo-']");
          });
        });
        if (!stored) return;
        clearTimeout(progressTimer);  // several photos arriving together: ask once
        progressTimer = setTimeout(function () { refreshProgress(visit); }, 300);
      }).observe(grid, { childList: true });
    });
  }

  // --- no typed input lost -------------------------------------------------------------------
  // A form whose fields differ from what the page rendered is "dirty" (data-dirty): a step or
  // objective typed but not saved is saved (or queued in the outbox) before check-out; leaving
  // the page with anything typed and unsaved asks first.
  var IGNORED = { csrf_token: 1, client_id: 1, client_key: 1, phone_at: 1 };

  function serial(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (!IGNORED[name] && typeof value === "string") parts.push(name + "=" + value);
    });
    return parts.join("&");
  }

  function editable(form) {
    return form.closest(".visit") && form.hasAttribute("hx-post");
  }

  function snapshot(root) {
    (root || document).querySelectorAll(".visit form[hx-post]").forEach(function (form) {
      if (form._rendered != null) return;  // a form already on the page keeps what it rendered
      form._rendered = serial(form);
      delete form.dataset.dirty;
    });
  }

  function track(evt) {
    var form = evt.target && evt.target.form;
    if (!form || !editable(form) || form._rendered == null) return;
    if (serial(form) !== form._rendered) form.dataset.dirty = "1";
    else delete form.dataset.dirty;
  }
  document.addEventListener("input", track);
  document.addEventListener("change", track);

  // Once a write is kept by the outbox, what the form shows is what will be sent.
  document.addEventListener("outbox:queued", function (evt) {
    var form = evt.detail.form;
    if (form && editable(form)) {
      form._rendered = serial(form);
      delete form.dataset.dirty;
      // A follow-up is a new one each time: the form is ready for the next.
      if (form.classList.contains("followup-form")) { form.reset(); form._rendered = serial(form); }
    }
    if (/\/checkout$/.test(evt.detail.item.url)) checkedOutOnPhone(evt.detail.item, true);
    if (isCheckin(evt.detail.item)) checkedInOnPhone(evt.detail.item, true);
  });

  function dirtyForms(selector) {
    return Array.prototype.filter.call(document.querySelectorAll(selector), function (f) { return f.dataset.dirty; });
  }

  // Leaving the visit by a link (a tab, the back arrow, a store's page): what was typed is saved — or
  // kept on the phone — first, then the page goes; a refusal stops it with the reason on screen.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[href]");
    if (!link || evt.defaultPrevented || evt.button !== 0 || evt.metaKey || evt.ctrlKey || evt.shiftKey ||
        link.target === "_blank" || link.hasAttribute("download") || !window.fieldOutbox) return;
    if (link.origin !== location.origin || link.getAttribute("href").charAt(0) === "#") return;
    var dirty = dirtyForms(".visit form[hx-post]");
    if (!dirty.length) return;
    evt.preventDefault();
    dirty.reduce(function (ok, f) {
      return ok.then(function (go) {
        if (!go) return false;
        return fieldOutbox.submit(f).then(function (r) { return r.outcome !== "refused"; });
      });
    }, Promise.resolve(true)).then(function (go) {
      if (!go) return;
      leaving = true;
      location.assign(link.href);
    });
  });

  window.addEventListener("beforeunload", function (e) {
    if (leaving || !dirtyForms(".visit form[hx-post]").length) return;
    e.preventDefault();
    e.returnValue = "";
    return "";
  });
  var leaving = false;

  // Check-out: the steps and objectives typed but not saved are saved first, one after the other;
  // if one is refused, check-out stops there and the refusal is on screen.
  function beforeCheckout(form) {
    if (!/\/checkout$/.test(form.getAttribute("action") || "")) return true;
    var dirty = dirtyForms(".visit .step-form, .visit .objective form");
    var bar = document.getElementById("checkout");
    if (bar) bar.querySelectorAll(".checkout-blocked").forEach(function (e) { e.remove(); });
    return dirty.reduce(function (ok, f) {
      return ok.then(function (go) {
        if (!go) return false;
        return fieldOutbox.submit(f).then(function (r) { return r.outcome !== "refused" ? true : f; });
      });
    }, Promise.resolve(true)).then(function (go) {
      if (go === true) { leaving = true; return true; }
      if (bar) {
        var p = document.createElement("p");
        p.className = "error checkout-blocked";
        p.setAttribute("role", "alert");
        p.textContent = fieldOutbox.word("stepRefused");
        var status = bar.querySelector(".checkout-status") || bar;
        status.insertBefore(p, status.firstChild);
      }
      var shown = (go && go.isConnected ? go : document).querySelector("[role=alert], .error");
      var where = go && go.isConnected ? go : (shown && shown.closest(".step, .objective"));
      if (where && where.scrollIntoView) where.scrollIntoView({ block: "center" });
      return false;
    });
  }

  // --- a visit checked out on the phone, not yet sent ------------------------------------------
  // The page says so and offers nothing more to fill in, on Back too (the outbox knows).
  function checkedOutOnPhone(item, justNow) {
    var visit = document.querySelector(".visit[data-visit]");
    if (!visit || item.url.indexOf("/visits/" + visit.getAttribute("data-visit") + "/") === -1) return;
    if (visit.classList.contains("visit-checked-out-phone")) return;
    visit.classList.add("visit-checked-out-phone");
    visit.querySelectorAll("form:not(#checkout) button, form:not(#checkout) input, form:not(#checkout) textarea, " +
                           "form:not(#checkout) select, #finish button, #finish textarea").forEach(function (e) {
      e.disabled = true;
    });
    var bar = document.getElementById("checkout");
    if (bar) bar.hidden = true;
    var note = document.createElement("section");
    note.className = "card outbox-banner";
    note.setAttribute("role", "status");
    var p = document.createElement("p");
    p.textContent = fieldOutbox.word("checkedOut");
    note.appendChild(p);
    var today = document.querySelector(".bottomnav a.tab-today");
    if (today) {
      var a = document.createElement("a");
      a.className = "btn btn-primary btn-block";
      a.href = today.getAttribute("href");
      a.textContent = fieldOutbox.word("toToday");
      note.appendChild(a);
    }
    visit.insertBefore(note, visit.firstChild);
    // With the day cached by the service worker, Today opens offline: go there as online.
    if (justNow && navigator.serviceWorker && navigator.serviceWorker.controller && today) {
      leaving = true;
      location.assign(today.getAttribute("href"));
    }
  }

  // --- a planned visit checked in on the phone, not yet sent -----------------------------------
  // The page of a planned visit carries the visit's forms, hidden (templates/visits/visit.html). When
  // the outbox keeps this visit's check-in (no network), they are shown — "checked in on the phone" at
  // the tap — and stay shown on a reload of the kept page, for as long as the check-in waits.
  function visitRoot() { return document.querySelector(".visit[data-visit]"); }

  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    try {
      return d.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
    } catch (e) { return d.toLocaleTimeString(); }
  }

  function isCheckin(item) {
    var visit = visitRoot();
    return !!visit && !!item && item.url === visit.getAttribute("data-checkin-url");
  }

  function checkedInOnPhone(item, justNow) {
    var visit = visitRoot();
    if (!isCheckin(item)) return;
    var first = visit.dataset.visitState === "planned";
    visit.dataset.visitState = "phone";
    visit.dataset.checkinAt = item.phone_at;
    var note = visit.querySelector(".phone-checkin");
    if (note) note.textContent = (note.getAttribute("data-msg") || "").replace("{time}", clock(item.phone_at));
    badge(visit, true);
    showDwell();
    if (first && justNow) {
      var doing = document.getElementById("do");
      if (doing && doing.scrollIntoView) doing.scrollIntoView({ block: "start" });
    }
  }

  // The visit's state badge says "in progress" while the phone holds the check-in (the server's words).
  function badge(visit, checkedIn) {
    var el = visit.querySelector("[data-phone-state]");
    if (!el) return;
    if (el.dataset.plannedState == null) el.dataset.plannedState = el.textContent;
    el.textContent = checkedIn ? el.dataset.phoneState : el.dataset.plannedState;
    el.classList.toggle("badge-status-planned", !checkedIn);
    el.classList.toggle("badge-status-in_progress", checkedIn);
  }

  // A check-in the server refused: the visit is planned again on the page, the refusal on its form.
  function checkinRefused(item) {
    var visit = visitRoot();
    if (!isCheckin(item) || visit.dataset.visitState !== "phone") return;
    visit.dataset.visitState = "planned";
    badge(visit, false);
  }

  // After a reload of the kept page: what the outbox still holds for a step or an objective is what it shows.
  var FIELDS_KEPT_OUT = { csrf_token: 1, client_id: 1, client_key: 1, phone_at: 1 };
  function refill(items) {
    items.forEach(function (item) {
      if (item.kind !== "htmx" || item.state === "refused") return;
      var form = Array.prototype.filter.call(document.querySelectorAll(".visit .step-form[action], .visit .objective form[action]"), function (f) {
        return f.getAttribute("action") === item.url;
      })[0];
      if (!form || form.dataset.dirty || form.dataset.refilled === item.client_id) return;
      form.dataset.refilled = item.client_id;
      var values = {};
      item.fields.forEach(function (f) {
        if (!FIELDS_KEPT_OUT[f[0]]) (values[f[0]] = values[f[0]] || []).push(f[1]);
      });
      var used = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || FIELDS_KEPT_OUT[el.name] || el.type === "hidden" && el.name === "sku" && !values.sku) return;
        var list = values[el.name] || [];
        if (el.type === "radio" || el.type === "checkbox") { el.checked = list.indexOf(el.value) !== -1; return; }
        if (el.type === "submit" || el.type === "button" || el.type === "file") return;
        var i = used[el.name] || 0;
        used[el.name] = i + 1;
        el.value = i < list.length ? list[i] : "";
      });
      form._rendered = serial(form);
      delete form.dataset.dirty;
      var ack = form.querySelector(".outbox-ack") || document.createElement("p");
      ack.className = "outbox-ack outbox-ack-queued";
      ack.setAttribute("role", "status");
      ack.textContent = fieldOutbox.word("queued");
      if (!ack.isConnected) {
        var submits = form.querySelectorAll("button[type=submit]");
        var last = submits[submits.length - 1];
        if (last && last.parentNode === form) form.insertBefore(ack, last); else form.appendChild(ack);
      }
    });
  }

  // --- the time left to the type's minimum dwell, counted on the phone -------------------------
  // From the check-in the server knows (data-dwell-until), else from the phone's own check-in time.
  function showDwell() {
    var line = document.querySelector("#checkout .dwell[data-dwell-minimum]");
    var visit = visitRoot();
    if (!line) return;
    var until = Date.parse(line.getAttribute("data-dwell-until") || "");
    if (isNaN(until) && visit && visit.dataset.checkinAt) {
      until = Date.parse(visit.dataset.checkinAt) + Number(line.getAttribute("data-dwell-minimum")) * 60000;
    }
    if (isNaN(until)) return;
    var left = Math.max(0, Math.ceil((until - Date.now()) / 60000));
    var text = left ? (line.getAttribute("data-msg-left") || "").replace("{num}", left) : line.getAttribute("data-msg-reached");
    if (text && line.textContent !== text) line.textContent = text;
    line.classList.toggle("dwell-left", left > 0);
  }
  setInterval(showDwell, 15000);

  // A page opened again (a reload, the kept copy) offers fresh client ids: a write made from it is a new
  // write, never taken for one the outbox already sent from an earlier copy of the page.
  function freshIds(root) {
    if (!window.fieldOutbox) return;
    (root || document).querySelectorAll(".visit form[hx-post] input[name=client_id]").forEach(function (input) {
      if (!input.dataset.fresh) { input.value = fieldOutbox.uuid(); input.dataset.fresh = "1"; }
    });
  }

  function markFromOutbox(items) {
    items.forEach(function (item) {
      if (/\/checkout$/.test(item.url) && item.state !== "refused") checkedOutOnPhone(item);
      if (isCheckin(item)) { if (item.state === "refused") checkinRefused(item); else checkedInOnPhone(item); }
    });
    refill(items);
  }

  function withOutbox(fn) {
    if (window.fieldOutbox) fn();
    else document.addEventListener("outbox:ready", fn, { once: true });
  }
  withOutbox(function () {
    freshIds(document);
    fieldOutbox.beforeSubmit(beforeCheckout);
    fieldOutbox.list().then(markFromOutbox, function () {});
  });
  document.addEventListener("outbox:change", function (e) { markFromOutbox(e.detail.items); });
  // The check-in has reached the server: the visit runs there too; "not sent yet" no longer holds.
  document.addEventListener("outbox:sent", function (e) {
    var note = isCheckin(e.detail.item) && visitRoot().querySelector(".phone-checkin");
    if (note) note.hidden = true;
  });

  // Back to a visit page kept by the browser (or its cache): online, ask the server again;
  // offline, the outbox says what is already done on the phone.
  window.addEventListener("pageshow", function (e) {
    if (!document.querySelector(".visit[data-visit]")) return;
    if (e.persisted && navigator.onLine !== false) { leaving = true; location.reload(); return; }
    withOutbox(function () { fieldOutbox.list().then(markFromOutbox, function () {}); });
  });

  function wire(root) { wireAddRow(root); watchPhotos(root); snapshot(root); showDwell(); }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  // A step swapped in by htmx brings a fresh "Add a line" button or photo grid.
  document.addEventListener("htmx:after:swap", function () { wire(document); });
  if (document.readyState !== "loading") wire(document);
})();
