/* Check-in and check-out on the activity page (5.2.9).

   Before the member presses the button the page shows where the geofence is, how far away the
   phone is and whether it is inside. The button posts to the JSON API
   (POST /api/v1/activities/<id>/checkins) with the browser session and the CSRF header; the
   API's Chinese message is shown on refusal. Outside the fence the member may still submit for
   the organiser's review. A QR code (typed, pasted or scanned with BarcodeDetector) is the
   fallback. Without a connection the record is queued by offline.js and synced later. */
(function () {
  "use strict";
  var section = document.getElementById("checkin");
  if (!section) {
    return;
  }
  var activityId = Number(section.dataset.activityId);
  var fence = {
    lat: Number(section.dataset.lat),
    lon: Number(section.dataset.lon),
    radius: Number(section.dataset.radius)
  };
  var url = section.dataset.url;
  var geoBox = document.getElementById("geo-status");
  var button = document.getElementById("checkin-button");
  var reviewButton = document.getElementById("checkin-review");
  var result = document.getElementById("checkin-result");
  var qrInput = document.getElementById("qr-token");
  var qrSubmit = document.getElementById("qr-submit");
  var qrScan = document.getElementById("qr-scan");
  var videoBox = document.getElementById("qr-video-box");
  var video = document.getElementById("qr-video");
  var position = null;
  var next = section.dataset.next; // "in" or "out"
  var LABEL = { "in": "签到", "out": "签退" };
  // Times are shown on the server's clock (Asia/Shanghai), never the phone's own time zone:
  // a phone set to another zone showed 16:37 for a check-in at 00:37 (issue 15, 5.7).
  var CLOCK = new Intl.DateTimeFormat("zh-CN", {
    timeZone: section.dataset.timeZone || "Asia/Shanghai",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23"
  });

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function haversine(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180;
    var dp = (lat2 - lat1) * rad;
    var dl = (lon2 - lon1) * rad;
    var a = Math.pow(Math.sin(dp / 2), 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin(dl / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function distanceText(metres) {
    return metres < 1000 ? "约 " + Math.round(metres) + " 米" : "约 " + (metres / 1000).toFixed(1) + " 公里";
  }

  function show(text, kind) {
    result.textContent = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " mb-0";
    alert.textContent = text;
    result.appendChild(alert);
  }

  function showGeo() {
    geoBox.classList.remove("hf-inside", "hf-outside");
    if (!position) {
      return;
    }
    var d = haversine(fence.lat, fence.lon, position.latitude, position.longitude);
    var inside = d <= fence.radius;
    geoBox.classList.add(inside ? "hf-inside" : "hf-outside");
    geoBox.dataset.inside = inside ? "1" : "0";
    geoBox.textContent = (inside ? "✓ 您在签到范围内" : "✗ 您不在签到范围内") +
      "：距活动地点" + distanceText(d) + "（范围 " + fence.radius + " 米，定位精度约 " +
      Math.round(position.accuracy || 0) + " 米）。";
  }

  function locate() {
    if (!navigator.geolocation) {
      geoBox.textContent = "此浏览器不支持定位，请使用下方的签到码签到。";
      return;
    }
    navigator.geolocation.watchPosition(function (p) {
      position = { latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy };
      showGeo();
    }, function (error) {
      geoBox.textContent = error.code === 1
        ? "您没有允许定位。请在浏览器设置中允许定位，或使用下方的签到码签到。"
        : "暂时无法获取位置，请到开阔处重试，或使用下方的签到码签到。";
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
  }

  function record(qrToken, allowReview) {
    return {
      kind: next,
      client_id: uuid(),
      device_time: new Date().toISOString(),
      latitude: position ? position.latitude : null,
      longitude: position ? position.longitude : null,
      accuracy_m: position ? Math.round(position.accuracy * 10) / 10 : null,
      qr_token: qrToken || "",
      allow_review: Boolean(allowReview)
    };
  }

  function addRecord(text) {
    var list = document.getElementById("checkin-records");
    if (!list) {
      return;
    }
    var empty = document.getElementById("checkin-records-empty");
    if (empty) {
      empty.remove();
    }
    var item = document.createElement("li");
    item.className = "list-group-item";
    item.textContent = text;
    list.appendChild(item);
  }

  function succeeded(body) {
    var done = LABEL[body.kind] || LABEL[next];
    var time = CLOCK.format(new Date(body.at));
    var text = done + "成功（" + time + "）";
    if (body.flagged) {
      text += "。该记录需组织者审核：" + body.flag_labels.join("、");
    }
    show(text, body.flagged ? "warning" : "success");
    addRecord(done + " · " + time + " · " + body.method_label + (body.flagged ? " · 待审核" : ""));
    next = body.kind === "in" ? "out" : "in";
    button.textContent = LABEL[next];
    reviewButton.hidden = true;
    if (qrInput) {
      qrInput.value = "";
    }
  }

  function queueOffline(item) {
    var queued = Object.assign({ activity_id: activityId }, item);
    delete queued.allow_review;
    window.hfOffline.queue(queued);
    show("已离线保存，联网后自动同步。", "info");
    addRecord(LABEL[item.kind] + " · 已离线保存，待同步");
    next = item.kind === "in" ? "out" : "in";
    button.textContent = LABEL[next];
  }

  function submit(qrToken, allowReview) {
    var item = record(qrToken, allowReview);
    if (!item.qr_token && item.latitude === null) {
      show("还没有获取到您的位置。请允许定位后重试，或使用签到码。", "warning");
      return;
    }
    if (navigator.onLine === false) {
      queueOffline(item);
      return;
    }
    button.disabled = true;
    reviewButton.disabled = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
        "Idempotency-Key": "checkin-" + item.client_id
      },
      body: JSON.stringify(item)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          succeeded(body);
          return;
        }
        show(body.message || "提交失败，请稍后重试。", "danger");
        reviewButton.hidden = body.code !== "outside_geofence";
      });
    }, function () {
      queueOffline(item); // the network failed: keep it for later
    }).finally(function () {
      button.disabled = false;
      reviewButton.disabled = false;
    });
  }

  button.addEventListener("click", function () { submit("", false); });
  reviewButton.addEventListener("click", function () { submit("", true); });
  qrSubmit.addEventListener("click", function () {
    var token = qrInput.value.trim();
    if (!token) {
      show("请先输入或扫描签到码。", "warning");
      qrInput.focus();
      return;
    }
    submit(token, false);
  });

  // Camera scanning where the browser has a barcode detector.
  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    qrScan.hidden = false;
    qrScan.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        videoBox.hidden = false;
        video.srcObject = stream;
        video.play();
        function stop() {
          stream.getTracks().forEach(function (t) { t.stop(); });
          videoBox.hidden = true;
        }
        function scan() {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              qrInput.value = codes[0].rawValue;
              submit(codes[0].rawValue, false);
            } else {
              window.requestAnimationFrame(scan);
            }
          }, function () { window.requestAnimationFrame(scan); });
        }
        scan();
      }, function () {
        show("无法打开摄像头，请手动输入签到码。", "warning");
      });
    });
  }

  document.addEventListener("hf:offline-synced", function () {
    show("离线记录已同步。", "success");
  });
  locate();
})();
