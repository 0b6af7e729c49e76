/* The publish form (5.4.7): keep the safety risk assessment pre-filled with the default of the
   chosen kind of activity and unit — the nearest association's own text, else the built-in one
   (the page carries them as JSON, see services.risk). A text the organiser has changed is
   never replaced. */
(function () {
  "use strict";
  var source = document.getElementById("risk-defaults");
  var text = document.getElementById("id_risk_assessment");
  var kind = document.getElementById("id_kind");
  if (!source || !text || !kind) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var unit = document.getElementById("id_unit");
  var audience = document.getElementById("id_audience_unit");

  function defaultText() {
    var chosen = (audience && audience.value) || (unit && unit.value) || "";
    var chain = data.units[chosen] || [];
    for (var i = 0; i < chain.length; i++) {
      var own = data.custom[String(chain[i])];
      if (own && own[kind.value]) {
        return own[kind.value];
      }
    }
    return data.builtin[kind.value] || "";
  }

  var shown = defaultText();
  function follow() {
    var next = defaultText();
    if (text.value.trim() === "" || text.value === shown) {
      text.value = next;
    }
    shown = next;
  }
  [kind, unit, audience].forEach(function (select) {
    if (select) {
      select.addEventListener("change", follow);
    }
  });
})();
