// The outbox: every write a rep can make in a store is kept on the phone (IndexedDB "field-outbox")
// from the tap until the server has answered it, and replayed in order — when the network comes
// back, when the app opens, on a timer with back-off (5 s doubling to 5 min, forever) and when the
// service worker's Background Sync says so. Nothing is dropped silently: a refusal (4xx) stays
// listed with the server's reason until the rep discards it.
//
// Wire contract (notes/OFFLINE.md): each item carries its client_id (the same on every send) and
// phone_at (the tap); sends from the queue carry X-Field-Replay: 1 and the page's CSRF token,
// with redirect "manual" (an opaque redirect is a success).
//
// Forms sent through it: any form[data-outbox]; the visit page's forms are marked by selector
// below (templates may carry the attribute themselves). Plain JS, no build step, no dependency.
(function () {
  "use strict";
  if (window.fieldOutbox) return;

  var DB_NAME = "field-outbox", STORE = "items", SYNC_TAG = "field-outbox";
  var FIRST_DELAY = 5000, MAX_DELAY = 300000, SEND_TIMEOUT = 60000;
  // The visit page's writes (the store check-in page makes a new visit: online only for now).
  var FORMS = [
    'form[action*="/visits/"][action$="/checkin"]',
    'form[action*="/visits/"][action*="/steps/"]:not(.photo-form)',
    'form[action*="/visits/"][action*="/objectives/"]',
    'form[action*="/visits/"][action$="/followups"]',
    'form[action*="/visits/"][action$="/checkout"]'
  ].join(",");

  // --- words: the /outbox page may bring them (data-msg-*), else a small dictionary ------------
  var WORDS = {
    en: {
      queued: "Saved on the phone. It will be sent when there is a network.",
      sending: "Sending…",
      pending: "Waiting to send",
      refused: "Not accepted",
      count: "{n} to send",
      countLabel: "{n} not sent yet: open the list",
      retry: "Send now",
      discard: "Discard",
      empty: "Nothing is waiting to be sent.",
      offline: "No network.",
      server: "The server did not answer.",
      signedOut: "Sign in again to send it.",
      checkedOut: "Checked out on the phone. It will be sent when there is a network.",
      toToday: "Back to Today",
      savedAt: "tapped {t}",
      tries: "{n} tries",
      stepRefused: "A step was not saved. Look at it before checking out.",
      unreadable: "The phone can no longer read this file. Take it again."
    },
    zh: {
      queued: "已保存在手机上，有网络时会自动发送。",
      sending: "发送中…",
      pending: "等待发送",
      refused: "未被接受",
      count: "{n} 条待发送",
      countLabel: "{n} 条尚未发送：打开列表",
      retry: "立即发送",
      discard: "删除",
      empty: "没有等待发送的内容。",
      offline: "没有网络。",
      server: "服务器没有响应。",
      signedOut: "请重新登录后发送。",
      checkedOut: "已在手机上签退，有网络时会自动发送。",
      toToday: "返回今日",
      savedAt: "操作时间 {t}",
      tries: "已尝试 {n} 次",
      stepRefused: "有步骤未能保存，请先查看后再签退。",
      unreadable: "手机已无法读取此文件，请重新拍摄。"
    }
  };
  function lang() { return /^zh/i.test(document.documentElement.lang || "") ? "zh" : "en"; }
  function word(key, n) {
    var list = document.getElementById("outbox-list");
    var text = (list && list.getAttribute("data-msg-" + key.toLowerCase())) || WORDS[lang()][key] || WORDS.en[key];
    return n == null ? text : text.replace("{n}", n).replace("{t}", n);
  }

  // --- ids and times ------------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function phoneTime(d) {
    // ISO 8601 with the phone's offset: 2026-12-05T09:41:07.123+08:00
    d = d || new Date();
    var pad = function (n, w) { n = String(Math.abs(n)); while (n.length < (w || 2)) n = "0" + n; return n; };
    var off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3) +
      (off >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // --- IndexedDB ------------------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          var store = req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
          store.createIndex("client_id", "client_id", { unique: true });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
        result = work(t.objectStore(STORE), function (v) { result = v; });
      });
    });
  }

  // Whose phone this is right now: items are the signed-in rep's only. What another rep left waiting
  // (a shared phone) stays on the phone, unsent and unlisted, until they sign in again.
  function currentUser() {
    var meta = document.querySelector('meta[name="field-user"]');
    return meta ? meta.content : "";
  }

  function mine(item) { return !item.user || item.user === currentUser(); }

  function all() {
    return tx("readonly", function (s, set) {
      s.getAll().onsuccess = function (e) {
        set(e.target.result.filter(mine).sort(function (a, b) { return a.seq - b.seq; }));
      };
    });
  }

  function byId(clientId) {
    return tx("readonly", function (s, set) {
      s.index("client_id").get(clientId).onsuccess = function (e) { set(e.target.result || null); };
    });
  }

  function put(item) { return tx("readwrite", function (s, set) { s.put(item).onsuccess = function (e) { set(e.target.result); }; }); }

  function update(clientId, changes) {
    return tx("readwrite", function (s, set) {
      s.index("client_id").get(clientId).onsuccess = function (e) {
        var item = e.target.result;
        if (!item) return;
        Object.keys(changes).forEach(function (k) { item[k] = changes[k]; });
        s.put(item);
        set(item);
      };
    }).then(function (item) { changed(); return item; });
  }

  function remove(clientId) {
    return tx("readwrite", function (s) {
      s.index("client_id").getKey(clientId).onsuccess = function (e) { if (e.target.result != null) s.delete(e.target.result); };
    }).then(changed);
  }

  // --- what the rep sees: the counter on every page, the list on /outbox ----------------------------
  var unfinished = 0;      // items not yet answered (pending, sending, refused), kept in step with IndexedDB
  var waiting = 0;         // of which not refused: what later writes must queue behind
  var inflight = {};       // client_ids this page is sending right now
  var hooks = [];          // run before a captured form is sent: fn(form, submitter) -> false | Promise

  function changed() {
    return all().then(function (items) {
      unfinished = items.length;
      waiting = items.filter(function (i) { return i.state !== "refused"; }).length;
      showCount(items);
      renderList(items);
      document.dispatchEvent(new CustomEvent("outbox:change", { detail: { items: items } }));
      return items;
    }).catch(function () { /* no IndexedDB (private mode on an old browser): forms post as before */ });
  }

  function statusElement() {
    var el = document.getElementById("outbox-status");
    if (el) return el;
    var bar = document.querySelector(".topbar");
    if (!bar) return null;
    el = document.createElement("a");
    el.id = "outbox-status";
    el.href = "/outbox";
    el.hidden = true;
    bar.appendChild(el);
    return el;
  }

  function showCount(items) {
    var el = statusElement();
    if (!el) return;
    var n = items.length, refused = items.some(function (i) { return i.state === "refused"; });
    el.classList.add("outbox-status");
    el.classList.toggle("outbox-refused", refused);
    el.hidden = n === 0;
    el.textContent = "";
    var count = document.createElement("span");
    count.className = "outbox-count";
    count.textContent = n;
    var label = document.createElement("span");
    label.className = "outbox-word";
    label.textContent = word("count", n).replace(String(n), "").trim();
    el.appendChild(count);
    el.appendChild(label);
    el.setAttribute("aria-label", word("countLabel", n));
  }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return iso || "";
    try {
      return d.toLocaleString(document.documentElement.lang || undefined,
        { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return d.toLocaleString(); }
  }

  function renderList(items) {
    var box = document.getElementById("outbox-list");
    if (!box) return;
    box.textContent = "";
    if (!items.length) {
      var none = document.createElement("p");
      none.className = "muted outbox-empty";
      none.textContent = word("empty");
      box.appendChild(none);
      return;
    }
    var ul = document.createElement("ul");
    ul.className = "outbox-items";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "outbox-item outbox-" + item.state;
      li.setAttribute("data-client-id", item.client_id);
      var head = document.createElement("p");
      head.className = "outbox-label";
      head.textContent = item.label || item.url;
      var meta = document.createElement("p");
      meta.className = "outbox-meta";
      var state = document.createElement("span");
      state.className = "badge outbox-state";
      state.textContent = word(item.state === "sending" ? "sending" : item.state === "refused" ? "refused" : "pending");
      meta.appendChild(state);
      meta.appendChild(document.createTextNode(" " + word("savedAt", when(item.phone_at)) +
        (item.attempts ? " · " + word("tries", item.attempts) : "")));
      li.appendChild(head);
      li.appendChild(meta);
      if (item.error) {
        var why = document.createElement("p");
        why.className = item.state === "refused" ? "error outbox-error" : "muted outbox-error";
        if (item.state === "refused") why.setAttribute("role", "alert");
        why.textContent = item.error;
        li.appendChild(why);
      }
      var actions = document.createElement("div");
      actions.className = "outbox-actions";
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn outbox-retry";
      retry.textContent = word("retry");
      retry.addEventListener("click", function () { retryNow(item.client_id); });
      actions.appendChild(retry);
      if (item.state === "refused") {
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "btn btn-danger outbox-discard";
        drop.textContent = word("discard");
        drop.addEventListener("click", function () { discard(item.client_id); });
        actions.appendChild(drop);
      }
      li.appendChild(actions);
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  // --- items ----------------------------------------------------------------------------------------
  function labelOf(form) {
    var own = form.getAttribute("data-outbox-label");
    if (own) return own;
    var section = form.closest(".objective, section, .card") || form;
    var head = null;
    [".step-title .grow", ".objective-text", "h3", "h2"].some(function (sel) { return (head = section.querySelector(sel)); });
    var what = head ? head.textContent.replace(/\s+/g, " ").trim() : "";
    var where = (document.querySelector(".visit-head h2") || document.querySelector(".topbar-title") || {}).textContent || "";
    where = where.replace(/\s+/g, " ").trim();
    return [what, where].filter(Boolean).join(" · ").slice(0, 200) || document.title;
  }

  // A form's write as an outbox item. The form's own CSRF field is left out: each send carries
  // the page's token in a header instead.
  function itemFromForm(form, submitter) {
    var data;
    try { data = new FormData(form, submitter || undefined); } catch (e) {
      data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    }
    var fields = [], files = [];
    data.forEach(function (value, name) {
      if (name === "csrf_token") return;
      if (typeof value === "string") fields.push([name, value]);
      else if (value && value.size) files.push([name, value, value.name || "file"]);
    });
    var has = function (n) { return fields.some(function (f) { return f[0] === n; }); };
    var get = function (n) { var f = fields.filter(function (x) { return x[0] === n; })[0]; return f ? f[1] : ""; };
    var clientId = get("client_id") || get("client_key") || uuid();
    if (!has("client_id")) fields.push(["client_id", clientId]);
    var phoneAt = phoneTime();
    fields = fields.filter(function (f) { return f[0] !== "phone_at"; });
    fields.push(["phone_at", phoneAt]);
    var item = {
      client_id: clientId, url: form.getAttribute("action") || location.pathname,
      method: (form.getAttribute("method") || "post").toUpperCase(), fields: fields, files: files,
      headers: {}, phone_at: phoneAt, created: new Date().toISOString(), state: "pending", attempts: 0,
      error: "", label: labelOf(form), title: document.title, page: location.pathname, kind: "form"
    };
    var target = form.getAttribute("hx-target");
    if (form.hasAttribute("hx-post")) {
      item.kind = "htmx";
      item.target = target || "";
      item.swap = form.getAttribute("hx-swap") || "innerHTML";
      item.headers = { "HX-Request": "true", "HX-Request-Type": "partial" };
    }
    return item;
  }

  // The request body. A file is read first: one the phone can no longer read (the browser lost
  // it) is said so, not retried forever in front of everything else.
  function bodyOf(item) {
    return Promise.all((item.files || []).map(function (f) {
      return f[1].arrayBuffer().then(function (bytes) { return [f[0], new Blob([bytes], { type: f[1].type }), f[2]]; });
    })).then(function (files) {
      var body = new FormData();
      item.fields.forEach(function (f) { body.append(f[0], f[1]); });
      files.forEach(function (f) { body.append(f[0], f[1], f[2]); });
      return body;
    });
  }

  // What the server said when it refused: its JSON `error`, else the alert of an HTML answer.
  function reason(text, status) {
    if (text) {
      try { var json = JSON.parse(text); if (json && json.error) return String(json.error); } catch (e) { /* HTML */ }
      var doc = new DOMParser().parseFromString(text, "text/html");
      var alerts = doc.querySelectorAll("[role=alert], .error-message, .error");
      var said = Array.prototype.map.call(alerts, function (a) { return a.textContent.replace(/\s+/g, " ").trim(); })
        .filter(Boolean);
      if (said.length) return said.filter(function (s, i) { return said.indexOf(s) === i; }).join(" ");
    }
    return "HTTP " + status;
  }

  function retryable(status) { return status === 0 || status === 408 || status === 429 || status >= 500; }

  // One send. Resolves {outcome: "done"|"refused"|"retry", status, text, url}.
  function send(item, opts) {
    opts = opts || {};
    var headers = {};
    Object.keys(item.headers || {}).forEach(function (k) { headers[k] = item.headers[k]; });
    if (!opts.direct || item.kind !== "htmx") headers["X-Field-Replay"] = "1";
    var token = csrf();
    if (token) headers["X-CSRFToken"] = token;
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () { abort.abort(); }, SEND_TIMEOUT);
    inflight[item.client_id] = true;
    return bodyOf(item).then(function (body) {
      return fetch(item.url, {
        method: item.method, body: body, headers: headers, credentials: "same-origin",
        redirect: opts.follow ? "follow" : "manual", signal: abort ? abort.signal : undefined
      }).then(answered).catch(function () {
        return { outcome: "retry", status: 0, text: "", error: word(navigator.onLine ? "server" : "offline") };
      });
    }, function () {
      return { outcome: "refused", status: 0, text: "", error: word("unreadable") };
    }).then(function (answer) {
      clearTimeout(timer);
      delete inflight[item.client_id];
      return answer;
    });

    function answered(r) {
      return (r.type === "opaqueredirect" ? Promise.resolve("") : r.text()).then(function (text) {
        if (opts.follow && r.redirected && /\/login(\?|$)/.test(new URL(r.url).pathname + "?")) {
          return { outcome: "retry", status: 401, text: "", error: word("signedOut") };
        }
        if (r.type === "opaqueredirect" || (r.status >= 200 && r.status < 400)) {
          return { outcome: "done", status: r.status, text: text, url: r.url, redirected: r.type === "opaqueredirect" || r.redirected };
        }
        if (retryable(r.status)) return { outcome: "retry", status: r.status, text: text, error: word("server") + " (" + r.status + ")" };
        return { outcome: "refused", status: r.status, text: text, error: reason(text, r.status) };
      });
    }
  }

  function settle(item, answer) {
    delete inflight[item.client_id];
    if (answer.outcome === "done") {
      return remove(item.client_id).then(function () {
        delay = FIRST_DELAY;
        document.dispatchEvent(new CustomEvent("outbox:sent", { detail: { item: item, answer: answer } }));
        return answer;
      });
    }
    var state = answer.outcome === "refused" ? "refused" : "pending";
    return update(item.client_id, { state: state, attempts: (item.attempts || 0) + 1, error: answer.error || "" })
      .then(function () {
        if (state === "refused") {
          document.dispatchEvent(new CustomEvent("outbox:refused", { detail: { item: item, answer: answer } }));
        } else {
          registerSync();
          later();
        }
        return answer;
      });
  }

  // --- replay ---------------------------------------------------------------------------------------
  var running = null, again = false, timer = null, delay = FIRST_DELAY;

  function signedOutPage() { return /^\/(login|logout)\b/.test(location.pathname); }

  function replay() {
    if (running) { again = true; return running; }
    if (signedOutPage()) return Promise.resolve();
    clearTimeout(timer); timer = null;
    running = all().then(function (items) {
      var queue = items.filter(function (i) { return i.state !== "refused"; });
      var next = function (k) {
        if (k >= queue.length) return true;
        var item = queue[k];
        if (inflight[item.client_id]) return false;  // this page is sending it: the rest waits behind it
        return update(item.client_id, { state: "sending" }).then(function () {
          return send(item);
        }).then(function (answer) {
          return settle(item, answer).then(function () {
            return answer.outcome === "retry" ? false : next(k + 1);
          });
        });
      };
      return next(0);
    }).catch(function () { later(); }).then(function () {
      running = null;
      if (again) { again = false; return replay(); }
    });
    return running;
  }

  function later() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; replay(); }, delay);
    delay = Math.min(delay * 2, MAX_DELAY);
  }

  function registerSync() {
    if (!("serviceWorker" in navigator) || !navigator.serviceWorker.getRegistration) return;
    navigator.serviceWorker.getRegistration().then(function (reg) {
      if (reg && reg.sync && reg.sync.register) return reg.sync.register(SYNC_TAG);
    }).catch(function () { /* no Background Sync here: the timer and `online` do it */ });
  }

  function retryNow(clientId) {
    delay = FIRST_DELAY;
    var ready = clientId ? update(clientId, { state: "pending" }) : Promise.resolve();
    return ready.then(replay);
  }

  function discard(clientId) {
    return byId(clientId).then(function (item) {
      if (item && item.state === "refused") return remove(clientId);
    });
  }

  // --- adding a write -------------------------------------------------------------------------------
  // Is the road clear for a direct send (online, nothing queued ahead of it)?
  function canSendNow() { return navigator.onLine !== false && waiting === 0; }

  // Keep `item` on the phone. direct: this page sends it now (state "sending"), else the queue does.
  function add(item, direct) {
    item.user = item.user || currentUser();
    item.state = direct ? "sending" : "pending";
    unfinished += 1; waiting += 1;
    if (direct) inflight[item.client_id] = true;
    var stored = put(item).then(function () { changed(); if (!direct) { registerSync(); replay(); } return item; });
    return stored;
  }

  function ack(form, text, kind) {
    var out = form.querySelector(".outbox-ack");
    if (!out) {
      out = document.createElement("p");
      out.className = "outbox-ack";
      out.setAttribute("role", "status");
      var submits = form.querySelectorAll("button[type=submit], button:not([type])");
      var last = submits[submits.length - 1];
      if (last && last.parentNode === form) form.insertBefore(out, last);
      else form.appendChild(out);
    }
    out.textContent = text;
    out.className = "outbox-ack outbox-ack-" + (kind || "queued");
    return out;
  }

  function clearAck(form) {
    form.querySelectorAll(".outbox-ack, .outbox-refusal").forEach(function (e) { e.remove(); });
  }

  function showRefusal(form, text) {
    clearAck(form);
    var p = document.createElement("p");
    p.className = "error outbox-refusal";
    p.setAttribute("role", "alert");
    p.textContent = text;
    var submits = form.querySelectorAll("button[type=submit], button:not([type])");
    var last = submits[submits.length - 1];
    if (last && last.parentNode === form) form.insertBefore(p, last);
    else form.appendChild(p);
  }

  function swapFragment(item, text, form) {
    if (!window.htmx || !item.target || item.page !== location.pathname) return false;
    var target = document.querySelector(item.target);
    if (!target) return false;
    // Never swap over something the rep is typing.
    if (target.querySelector("form[data-dirty]") && !(form && target.contains(form))) return false;
    try {
      htmx.swap({ sourceElement: form && form.isConnected ? form : target, target: target, swap: item.swap, text: text });
      return true;
    } catch (e) { return false; }
  }

  // Send a form through the outbox. Resolves {outcome: "done"|"queued"|"refused", ...}.
  function submit(form, submitter) {
    var item = itemFromForm(form, submitter);
    var direct = canSendNow();
    ack(form, direct ? word("sending") : word("queued"), direct ? "sending" : "queued");
    if (!direct) {
      rotate(form, item);
      return add(item, false).then(function () {
        ack(form, word("queued"), "queued");
        document.dispatchEvent(new CustomEvent("outbox:queued", { detail: { item: item, form: form } }));
        return { outcome: "queued", item: item };
      });
    }
    var stored = add(item, true);
    // Plain forms follow the redirect so the page can go where the server sends it.
    var answered = send(item, { direct: true, follow: item.kind === "form" });
    return Promise.all([stored, answered]).then(function (r) {
      var answer = r[1];
      if (answer.outcome === "retry") {
        rotate(form, item);
        return settle(item, answer).then(function () {
          ack(form, word("queued"), "queued");
          document.dispatchEvent(new CustomEvent("outbox:queued", { detail: { item: item, form: form } }));
          return { outcome: "queued", item: item, answer: answer };
        });
      }
      // Answered: done, or refused in front of the rep (the form keeps what was typed).
      return remove(item.client_id).then(function () {
        clearAck(form);
        if (item.kind === "htmx" && answer.text && (answer.outcome === "done" || answer.status === 422 ||
            answer.status === 409 || answer.status === 403)) {
          swapFragment(item, answer.text, form);
        } else if (answer.outcome === "refused") {
          showRefusal(form, answer.error);
        }
        if (answer.outcome === "done") {
          delay = FIRST_DELAY;
          if (item.kind === "form" && answer.url) go(answer.url, answer.text);
        }
        replay();
        return { outcome: answer.outcome, item: item, answer: answer };
      });
    });
  }

  // Where the server sent a plain form (its redirect, already followed). The page it answered
  // carried the one-time messages (flash); they are carried over to the page opened there.
  var FLASH_KEY = "field-outbox-flash";
  function go(url, html) {
    try {
      var doc = new DOMParser().parseFromString(html || "", "text/html");
      var flashes = doc.querySelector(".flashes");
      if (flashes) sessionStorage.setItem(FLASH_KEY, JSON.stringify({ url: url, html: flashes.outerHTML }));
    } catch (e) { /* no sessionStorage: the message is lost, nothing else */ }
    location.assign(url);
  }

  function carriedFlash() {
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(FLASH_KEY) || "null"); sessionStorage.removeItem(FLASH_KEY); } catch (e) { return; }
    if (!kept || kept.url !== location.href || document.querySelector(".flashes")) return;
    var main = document.getElementById("main") || document.querySelector("main");
    if (main) main.insertAdjacentHTML("afterbegin", kept.html);
  }

  // A form that stays on the page for another write gets a fresh client_id (check-in keeps its key:
  // tapping it twice is the same check-in).
  function rotate(form, item) {
    var input = form.querySelector('input[name="client_id"]');
    if (input && item.kind === "htmx") input.value = uuid();
  }

  function mark(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll(FORMS).forEach(function (f) {
      if (!f.hasAttribute("data-outbox")) f.setAttribute("data-outbox", "");
    });
  }

  function outboxForm(form) {
    return form && form.matches && (form.matches("[data-outbox]") || form.matches(FORMS));
  }

  // Capture phase on window: before htmx's own listener on the form and before the browser posts.
  window.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (evt.defaultPrevented || !outboxForm(form) || !window.indexedDB) return;
    if (form.hasAttribute("data-outbox-off")) return;
    evt.preventDefault();
    evt.stopPropagation();
    if (form.dataset.outboxBusy) return;  // a double tap
    form.dataset.outboxBusy = "1";
    var submitter = evt.submitter;
    // A page may first do what must come before this write (visits.js saves typed steps before
    // check-out); a hook resolving false stops the write.
    hooks.reduce(function (ok, hook) {
      return ok.then(function (go) { return go === false ? false : hook(form, submitter); });
    }, Promise.resolve(true)).then(function (go) {
      if (go === false) return null;
      return submit(form, submitter);
    }).catch(function () {
      // IndexedDB failed us: post as the page would without this file.
      form.setAttribute("data-outbox-off", "");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }).then(function () { delete form.dataset.outboxBusy; });
  }, true);

  // A queued htmx write answered later: put the server's fragment in place when the page shows it.
  document.addEventListener("outbox:sent", function (evt) {
    var item = evt.detail.item, answer = evt.detail.answer;
    if (item.kind === "htmx" && answer.text) swapFragment(item, answer.text, null);
  });

  document.addEventListener("outbox:refused", function (evt) {
    var item = evt.detail.item;
    if (item.page !== location.pathname) return;
    var form = Array.prototype.filter.call(document.querySelectorAll("form[action]"), function (f) {
      return f.getAttribute("action") === item.url;
    })[0];
    if (form) showRefusal(form, evt.detail.answer.error);
  });

  // --- start ----------------------------------------------------------------------------------------
  function start() {
    carriedFlash();
    mark(document);
    // Items left "sending" by a page that went away are sent again (the same client_id: the
    // server acts once).
    all().then(function (items) {
      var stale = items.filter(function (i) { return i.state === "sending" && !inflight[i.client_id]; });
      return Promise.all(stale.map(function (i) { return update(i.client_id, { state: "pending" }); }));
    }).then(changed).then(replay).catch(function () { /* no IndexedDB */ });
  }

  window.addEventListener("online", function () { delay = FIRST_DELAY; replay(); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (evt) {
      if (evt.data && evt.data.type === "outbox-sync") replay();
    });
  }
  document.addEventListener("htmx:after:swap", function (evt) { mark(evt.target && evt.target.parentNode || document); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") replay(); });

  window.fieldOutbox = {
    add: add, submit: submit, list: all, get: byId, update: update, remove: remove, settle: settle, send: send,
    replay: replay, retryNow: retryNow, discard: discard, canSendNow: canSendNow, changed: changed,
    uuid: uuid, phoneTime: phoneTime, word: word, isOutboxForm: outboxForm,
    inflight: function (id) { return !!inflight[id]; },
    beforeSubmit: function (fn) { hooks.push(fn); },
    state: function () {
      return { running: !!running, inflight: Object.keys(inflight), timer: !!timer, delay: delay, waiting: waiting };
    }
  };
  document.dispatchEvent(new CustomEvent("outbox:ready"));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
