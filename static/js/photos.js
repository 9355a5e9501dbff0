// Photo steps: shrink on the phone, keep EXIF time and GPS, send each photo with its own
// progress and retry, show its thumbnail and flags once stored. Progressive enhancement:
// without this file the step's plain form posts the file and comes back to the visit.
(function () {
  "use strict";
  if (window.fieldPhotos) return;  // the step include may load this file more than once

  var MAX_SIDE = 2048, QUALITY = 0.85, AUTO_RETRIES = 3;
  var pending = 0, position = null;

  // --- ids, position ------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

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

  // --- one tile per photo: preview, progress, retry ---------------------------------------------
  function msg(box, name) { return box.getAttribute("data-msg-" + name) || name; }

  function tile(box, file) {
    var li = document.createElement("li");
    li.className = "photo-tile photo-pending";
    li.innerHTML = '<span class="photo-link"><img alt=""></span>' +
      '<progress class="photo-progress" max="100" value="0"></progress>' +
      '<p class="photo-status" role="status"></p>' +
      '<div class="photo-actions" hidden><button type="button" class="btn photo-retry"></button>' +
      '<button type="button" class="btn photo-dismiss"></button></div>';
    li.querySelector("img").src = URL.createObjectURL(file);
    li.querySelector(".photo-retry").textContent = msg(box, "retry");
    li.querySelector(".photo-dismiss").textContent = msg(box, "dismiss");
    box.querySelector("[data-photo-grid]").appendChild(li);
    return li;
  }

  function status(li, text, failed) {
    li.querySelector(".photo-status").textContent = text;
    li.classList.toggle("photo-failed", !!failed);
    li.querySelector(".photo-actions").hidden = !failed;
  }

  function send(job) {
    var box = job.box, li = job.li, xhr = new XMLHttpRequest(), form = new FormData();
    form.append("file", job.blob, "photo.jpg");
    form.append("client_id", job.clientId);
    form.append("source", job.source);
    form.append("captured_at", job.capturedAt);
    if (job.pos) {
      form.append("lat", job.pos.coords.latitude.toFixed(6));
      form.append("lng", job.pos.coords.longitude.toFixed(6));
      form.append("accuracy", Math.round(job.pos.coords.accuracy));
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    xhr.open("POST", box.getAttribute("data-upload-url"));
    xhr.setRequestHeader("Accept", "application/json");
    if (meta) xhr.setRequestHeader("X-CSRFToken", meta.content);
    xhr.timeout = 120000;
    status(li, msg(box, "sending"));
    li.querySelector(".photo-progress").hidden = false;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) li.querySelector(".photo-progress").value = Math.round(100 * e.loaded / e.total);
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
      if ((xhr.status === 200 || xhr.status === 201) && answer && answer.html) {
        var holder = document.createElement("ul");
        holder.innerHTML = answer.html.trim();
        var done = holder.firstElementChild;
        URL.revokeObjectURL(li.querySelector("img").src);
        li.replaceWith(done);
        settle(job);
        recount(box);
      } else if (xhr.status >= 500 || xhr.status === 429 || xhr.status === 0 || !answer) {
        retryLater(job, (answer && answer.error) || msg(box, "failed"));
      } else {
        // Refused (4xx): say why and keep the tile until the rep removes it.
        status(li, (answer && answer.error) || msg(box, "failed"), true);
        li.querySelector(".photo-retry").hidden = xhr.status !== 409;
        settle(job);
      }
    };
    xhr.onerror = xhr.ontimeout = function () { retryLater(job, msg(box, "offline")); };
    xhr.send(form);
  }

  function retryLater(job, text) {
    // The same client id every time: a retry of a photo that did arrive answers with it.
    if (job.tries < AUTO_RETRIES) {
      job.tries += 1;
      status(job.li, text);
      setTimeout(function () { send(job); }, 2000 * Math.pow(2, job.tries - 1));
      return;
    }
    status(job.li, text, true);
    job.li.querySelector(".photo-retry").hidden = false;
  }

  // `pending` counts photos not yet stored nor dismissed: leaving the page with any asks first.
  function settle(job) {
    if (job.open) { job.open = false; pending -= 1; }
  }

  function recount(box) {
    var have = box.querySelector("[data-photo-have]");
    if (have) have.textContent = box.querySelectorAll(".photo-tile:not(.photo-pending):not(.photo-voided)").length;
  }

  function start(box, file, source) {
    pending += 1;
    var li = tile(box, file);
    var job = { box: box, li: li, source: source, tries: 0, open: true, clientId: uuid(),
                capturedAt: new Date(file.lastModified || Date.now()).toISOString() };
    li.querySelector(".photo-retry").addEventListener("click", function () {
      if (!job.open) { job.open = true; pending += 1; }
      job.tries = 0; send(job);
    });
    li.querySelector(".photo-dismiss").addEventListener("click", function () {
      settle(job); URL.revokeObjectURL(li.querySelector("img").src); li.remove();
    });
    status(li, msg(box, "preparing"));
    Promise.all([shrink(file), box._position]).then(function (r) {
      job.blob = r[0]; job.pos = r[1];
      send(job);
    });
  }

  document.addEventListener("change", function (evt) {
    var input = evt.target.closest && evt.target.closest("[data-photo-input]");
    if (!input || !input.files || !input.files.length) return;
    var box = input.closest("[data-photo-step]");
    box._position = locate();
    Array.prototype.forEach.call(input.files, function (file) { start(box, file, input.getAttribute("data-photo-input")); });
    input.value = "";  // the same photo may be chosen again; each choice is its own upload
  });

  // With this file running, the pick button uploads at once; the plain form's button is for no-JS.
  function enhance(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-photo-step] [data-nojs]"), function (b) {
      b.hidden = true;
    });
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-photo-input]"), function (i) {
      i.required = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:after:swap", function (e) { enhance(e.target); });
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
