/* Offline check-ins (5.2.9): records that could not be sent are kept in localStorage and sent
   as one batch to POST /api/v1/checkins/sync when the phone is back online (the `online`
   event) or on the next page load. Each record carries the client_id it was made with, so a
   record that did reach the server before the connection dropped is recognised, not doubled.
   Loaded on every page for logged-in users; does nothing while the queue is empty. */
(function () {
  "use strict";
  var KEY = "hf-offline-checkins";
  var syncing = false;

  function load() {
    try {
      var items = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function save(items) {
    try {
      if (items.length) {
        window.localStorage.setItem(KEY, JSON.stringify(items));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) { /* storage full or disabled: nothing more we can do here */ }
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function notify(text, kind) {
    var box = document.getElementById("checkin-result");
    if (!box) {
      var main = document.querySelector("main .container-xl") || document.body;
      box = document.createElement("div");
      box.id = "offline-sync-status";
      box.setAttribute("role", "status");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (kind || "info");
    alert.textContent = text;
    box.appendChild(alert);
  }

  function queue(item) {
    var items = load();
    if (!items.some(function (i) { return i.client_id === item.client_id; })) {
      items.push(item);
    }
    save(items);
  }

  function sync() {
    var items = load();
    if (!items.length || syncing || navigator.onLine === false) {
      return Promise.resolve(null);
    }
    syncing = true;
    return fetch("/api/v1/checkins/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ sent_at: new Date().toISOString(), items: items })
    }).then(function (response) {
      if (!response.ok) {
        return null; // keep the queue; try again later
      }
      return response.json().then(function (results) {
        var answered = {};
        var stored = 0;
        var refused = [];
        results.forEach(function (r) {
          answered[r.client_id] = true;
          if (r.ok) {
            stored += 1;
          } else if (r.error) {
            refused.push(r.error.message);
          }
        });
        save(load().filter(function (i) { return !answered[i.client_id]; }));
        if (refused.length) {
          notify("离线记录已同步 " + stored + " 条；未被接受 " + refused.length + " 条：" + refused.join("；"), "warning");
        } else if (stored) {
          notify("离线记录已同步 " + stored + " 条。", "success");
        }
        document.dispatchEvent(new CustomEvent("hf:offline-synced", { detail: results }));
        return results;
      });
    }).catch(function () {
      return null; // still offline
    }).finally(function () {
      syncing = false;
    });
  }

  window.hfOffline = { queue: queue, sync: sync, pending: function () { return load().length; } };
  window.addEventListener("online", sync);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", sync);
  } else {
    sync();
  }
})();
