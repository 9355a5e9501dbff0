// Photo steps: shrink on the phone, keep EXIF time and GPS, keep each photo in the outbox until
// the server has it (sent at once with its own progress when the network allows, else later),
// show its thumbnail and flags once stored. Progressive enhancement: without this file (or
// without outbox.js) the step's plain form posts the file and comes back to the visit.
(function () {
  "use strict";
  if (window.fieldPhotos) return;  // the step include may load this file more than once

  var MAX_SIDE = 2048, QUALITY = 0.85;
  var pending = 0, position = null;

  // --- position ----------------------------------------------------------------------------
  function locate() {
    // One fix per batch, asked for as soon as the camera button is tapped; never blocks a send.
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      var done = false, finish = function (p) { if (!done) { done = true; resolve(p); } };
      setTimeout(function () { finish(position); }, 8000);
      navigator.geolocation.getCurrentPosition(function (pos) {
        position = pos; finish(pos);
      }, function () { finish(position); }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    });
  }

  // --- EXIF: copy the original's APP1 segment into the shrunk JPEG, Orientation set to 1 -------
  function exifSegment(buf) {
    var v = new DataView(buf);
    if (v.byteLength < 4 || v.getUint16(0) !== 0xFFD8) return null;
    var off = 2;
    while (off + 4 <= v.byteLength) {
      var marker = v.getUint16(off);
      if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) break;  // start of scan: no more headers
      var len = v.getUint16(off + 2);
      if (marker === 0xFFE1 && off + 10 <= v.byteLength && v.getUint32(off + 4) === 0x45786966) {  // "Exif"
        return new Uint8Array(buf.slice(off, off + 2 + len));
      }
      off += 2 + len;
    }
    return null;
  }

  function uprightOrientation(seg) {
    // The browser already turned the pixels when it drew them: the copy must not be turned again.
    var v = new DataView(seg.buffer, seg.byteOffset, seg.byteLength), tiff = 10;
    if (seg.byteLength < tiff + 8) return seg;
    var little = v.getUint16(tiff) === 0x4949;
    var ifd = tiff + v.getUint32(tiff + 4, little);
    if (ifd + 2 > seg.byteLength) return seg;
    var n = v.getUint16(ifd, little);
    for (var i = 0; i < n; i++) {
      var entry = ifd + 2 + i * 12;
      if (entry + 12 > seg.byteLength) break;
      if (v.getUint16(entry, little) === 0x0112) v.setUint16(entry + 8, 1, little);
    }
    return seg;
  }

  function withExif(jpegBlob, seg) {
    if (!seg) return Promise.resolve(jpegBlob);
    return jpegBlob.arrayBuffer().then(function (buf) {
      var body = new Uint8Array(buf);
      // After SOI, drop the encoder's JFIF APP0 (EXIF files carry APP1 first) and put the EXIF in.
      var rest = 2;
      if (body[2] === 0xFF && body[3] === 0xE0) rest = 4 + ((body[4] << 8) | body[5]);
      return new Blob([body.subarray(0, 2), seg, body.subarray(rest)], { type: "image/jpeg" });
    });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () { return viaImg(file); });
    }
    return viaImg(file);
  }

  function viaImg(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () { resolve(img); URL.revokeObjectURL(url); };
      img.onerror = function () { reject(new Error("decode")); URL.revokeObjectURL(url); };
      img.src = url;
    });
  }

  // ≤ 2048 px on the long side as JPEG, EXIF kept. Anything the browser cannot decode
  // (HEIC outside Safari, say) is sent as it is: the server reads it.
  function shrink(file) {
    return file.arrayBuffer().then(function (buf) {
      var isJpeg = new DataView(buf).byteLength > 2 && new DataView(buf).getUint16(0) === 0xFFD8;
      var seg = isJpeg ? exifSegment(buf) : null;
      return decode(file).then(function (img) {
        var w = img.width, h = img.height, scale = Math.min(1, MAX_SIDE / Math.max(w, h));
        if (scale === 1 && isJpeg && file.size <= 1.5 * 1024 * 1024) return file;
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        if (img.close) img.close();
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); })
          .then(function (blob) { return blob ? withExif(blob, seg && uprightOrientation(seg)) : file; });
      }, function () { return file; });
    }).catch(function () { return file; });
  }

  // --- one tile per photo: preview, progress, state -------------------------------------------
  // Each photo goes through the outbox (static/js/outbox.js): the shrunk JPEG and its fields are
  // kept on the phone from the moment it is taken until the server has it, sent now when the road
  // is clear, else queued behind what is waiting and sent later — never given up, kept across a
  // reload. A refusal stays on its tile, with why, until the rep removes it.
  function msg(box, name) { return box.getAttribute("data-msg-" + name) || name; }

  function tile(box, blob, clientId) {
    var li = document.createElement("li");
    li.className = "photo-tile photo-pending";
    li.setAttribute("data-client-id", clientId);
    li.innerHTML = '<span class="photo-link"><img alt=""></span>' +
      '<progress class="photo-progress" max="100" value="0" hidden></progress>' +
      '<p class="photo-status" role="status"></p>' +
      '<div class="photo-actions" hidden><button type="button" class="btn photo-retry"></button>' +
      '<button type="button" class="btn photo-dismiss"></button></div>';
    if (blob) li.querySelector("img").src = URL.createObjectURL(blob);
    li.querySelector(".photo-retry").textContent = msg(box, "retry");
    li.querySelector(".photo-dismiss").textContent = msg(box, "dismiss");
    li.querySelector(".photo-retry").addEventListener("click", function () {
      if (window.fieldOutbox) fieldOutbox.retryNow(clientId);
    });
    li.querySelector(".photo-dismiss").addEventListener("click", function () {
      var gone = function () { forget(li); li.remove(); };
      if (window.fieldOutbox) fieldOutbox.discard(clientId).then(gone, gone); else gone();
    });
    box.querySelector("[data-photo-grid]").appendChild(li);
    return li;
  }

  function forget(li) {
    var img = li.querySelector("img");
    if (img && img.src && img.src.indexOf("blob:") === 0) URL.revokeObjectURL(img.src);
  }

  // state: "preparing" | "sending" | "waiting" | "refused"
  function status(li, text, state) {
    li.querySelector(".photo-status").textContent = text;
    li.classList.toggle("photo-failed", state === "refused");
    li.classList.toggle("photo-waiting", state === "waiting");
    li.querySelector(".photo-actions").hidden = state !== "refused" && state !== "waiting";
    li.querySelector(".photo-retry").hidden = state !== "waiting";
    li.querySelector(".photo-dismiss").hidden = state !== "refused";
    if (state !== "sending") li.querySelector(".photo-progress").hidden = true;
  }

  function boxOf(li) { return li.closest("[data-photo-step]"); }

  function tileFor(clientId) {
    return document.querySelector('.photo-tile[data-client-id="' + clientId + '"]');
  }

  // The server has the photo: its stored tile (thumbnail, flags) takes the place of ours.
  function stored(clientId, text) {
    var li = tileFor(clientId), answer = null;
    if (!li) return;
    try { answer = JSON.parse(text); } catch (e) { /* not JSON */ }
    var box = boxOf(li);
    if (answer && answer.html) {
      var holder = document.createElement("ul");
      holder.innerHTML = answer.html.trim();
      var done = holder.firstElementChild;
      forget(li);
      var twin = done.id && document.getElementById(done.id);
      if (twin) { twin.replaceWith(done); li.remove(); } else li.replaceWith(done);
    } else {
      forget(li); li.remove();  // stored, but the answer had no tile: the next page load shows it
    }
    if (box) recount(box);
  }

  // A tile follows its outbox item: waiting, sending, refused (with the server's reason).
  function follow(items) {
    var byId = {};
    items.forEach(function (i) { byId[i.client_id] = i; });
    document.querySelectorAll(".photo-tile[data-client-id]").forEach(function (li) {
      var item = byId[li.getAttribute("data-client-id")], box = boxOf(li);
      if (!item || !box || li.dataset.local) return;
      if (item.state === "refused") status(li, item.error || msg(box, "failed"), "refused");
      else if (item.state === "sending") status(li, msg(box, "sending"), "sending");
      else status(li, item.error ? msg(box, "offline") : fieldOutbox.word("pending"), "waiting");
    });
  }

  // After a reload: the photos still on the phone get their tiles back.
  function restore(items) {
    document.querySelectorAll("[data-photo-step]").forEach(function (box) {
      var url = box.getAttribute("data-upload-url");
      items.forEach(function (item) {
        if (item.kind !== "photo" || item.url !== url || tileFor(item.client_id)) return;
        var file = (item.files || [])[0];
        tile(box, file && file[1], item.client_id);
      });
    });
    follow(items);
  }

  function send(job) {
    var box = job.box, li = job.li, item = job.item, xhr = new XMLHttpRequest();
    var form = new FormData();
    item.fields.forEach(function (f) { form.append(f[0], f[1]); });
    item.files.forEach(function (f) { form.append(f[0], f[1], f[2]); });
    var meta = document.querySelector('meta[name="csrf-token"]');
    xhr.open("POST", item.url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Field-Replay", "1");
    if (meta) xhr.setRequestHeader("X-CSRFToken", meta.content);
    xhr.timeout = 120000;
    delete li.dataset.local;
    status(li, msg(box, "sending"), "sending");
    li.querySelector(".photo-progress").hidden = false;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) li.querySelector(".photo-progress").value = Math.round(100 * e.loaded / e.total);
    };
    var answer = function (outcome, error) {
      fieldOutbox.settle(item, { outcome: outcome, status: xhr.status, text: xhr.responseText, error: error });
    };
    xhr.onload = function () {
      var json = null;
      try { json = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
      if ((xhr.status === 200 || xhr.status === 201) && json && json.html) answer("done");
      else if (xhr.status >= 500 || xhr.status === 429 || xhr.status === 408 || xhr.status === 0 || !json) {
        answer("retry", (json && json.error) || msg(box, "offline"));
      } else answer("refused", (json && json.error) || msg(box, "failed"));
    };
    xhr.onerror = xhr.ontimeout = function () { answer("retry", msg(box, "offline")); };
    xhr.send(form);
  }

  // `pending` counts photos not yet kept on the phone (being shrunk): leaving then asks first.
  function settle(job) {
    if (job.open) { job.open = false; pending -= 1; }
  }

  function recount(box) {
    var have = box.querySelector("[data-photo-have]");
    if (have) have.textContent = box.querySelectorAll(".photo-tile:not(.photo-pending):not(.photo-voided)").length;
  }

  function label(box) {
    var step = box.closest(".step");
    var title = step && step.querySelector(".step-title .grow");
    var where = document.querySelector(".visit-head h2");
    return [title && title.textContent.trim(), where && where.textContent.trim()].filter(Boolean).join(" · ");
  }

  function start(box, file, source) {
    pending += 1;
    // Photos travel through the outbox (static/js/outbox.js), which names them and times the tap.
    var clientId = fieldOutbox.uuid(), tappedAt = fieldOutbox.phoneTime();
    var li = tile(box, file, clientId);
    li.dataset.local = "1";  // not in the outbox yet
    var job = { box: box, li: li, source: source, open: true, clientId: clientId,
                capturedAt: new Date(file.lastModified || Date.now()).toISOString() };
    status(li, msg(box, "preparing"), "preparing");
    // The bytes are copied: a camera's file may be gone (or changed) by the time the photo is sent.
    var copy = function (blob) {
      return blob.arrayBuffer().then(function (b) { return new Blob([b], { type: blob.type || "image/jpeg" }); });
    };
    Promise.all([shrink(file).then(copy), box._position]).then(function (r) {
      var blob = r[0], pos = r[1];
      var fields = [["client_id", clientId], ["source", source], ["captured_at", job.capturedAt], ["phone_at", tappedAt]];
      if (pos) {
        fields.push(["lat", pos.coords.latitude.toFixed(6)], ["lng", pos.coords.longitude.toFixed(6)],
                    ["accuracy", String(Math.round(pos.coords.accuracy))]);
      }
      job.item = { client_id: clientId, url: box.getAttribute("data-upload-url"), method: "POST", fields: fields,
                   files: [["file", blob, "photo.jpg"]], headers: { Accept: "application/json" },
                   phone_at: tappedAt, created: new Date().toISOString(), attempts: 0, error: "",
                   label: label(box), title: document.title, page: location.pathname, kind: "photo" };
      forget(li); li.querySelector("img").src = URL.createObjectURL(blob);
      var direct = fieldOutbox.canSendNow();
      return fieldOutbox.add(job.item, direct).then(function () {
        settle(job);
        if (direct) send(job);
        else { delete li.dataset.local; status(li, navigator.onLine === false ? msg(box, "offline") : fieldOutbox.word("pending"), "waiting"); }
      });
    }).catch(function () {
      status(li, msg(box, "failed"), "refused");
      settle(job);
    });
  }

  document.addEventListener("outbox:sent", function (e) {
    if (e.detail.item.kind === "photo") stored(e.detail.item.client_id, e.detail.answer.text);
  });
  document.addEventListener("outbox:change", function (e) { restore(e.detail.items); });

  document.addEventListener("change", function (evt) {
    var input = evt.target.closest && evt.target.closest("[data-photo-input]");
    if (!input || !input.files || !input.files.length || !window.fieldOutbox) return;
    var box = input.closest("[data-photo-step]");
    box._position = locate();
    Array.prototype.forEach.call(input.files, function (file) { start(box, file, input.getAttribute("data-photo-input")); });
    input.value = "";  // the same photo may be chosen again; each choice is its own upload
  });

  // With this file and the outbox running, the pick button uploads at once; the plain form's
  // button is for no-JS (or a phone without IndexedDB).
  function enhance(root) {
    if (!window.fieldOutbox) return;
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-photo-step] [data-nojs]"), function (b) {
      b.hidden = true;
    });
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-photo-input]"), function (i) {
      i.required = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:after:swap", function (e) { enhance(e.target); });
  document.addEventListener("outbox:ready", function () { enhance(document); fieldOutbox.changed(); });
  if (document.readyState !== "loading") enhance(document);

  window.addEventListener("beforeunload", function (e) {
    if (!pending) return;
    var box = document.querySelector("[data-photo-step]");
    e.preventDefault();
    e.returnValue = box ? msg(box, "leave") : "";
    return e.returnValue;
  });

  window.fieldPhotos = { shrink: shrink, exifSegment: exifSegment, uprightOrientation: uprightOrientation };
})();
