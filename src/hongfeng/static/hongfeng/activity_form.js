/* The publish form: fill the geofence centre from the organiser's current position. */
(function () {
  "use strict";
  var button = document.getElementById("use-my-location");
  var status = document.getElementById("location-status");
  if (!button) {
    return;
  }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) {
      status.textContent = "此浏览器不支持定位，请手动填写经纬度。";
      return;
    }
    status.textContent = "正在获取位置…";
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("id_latitude").value = p.coords.latitude.toFixed(6);
      document.getElementById("id_longitude").value = p.coords.longitude.toFixed(6);
      status.textContent = "已填入当前位置（精度约 " + Math.round(p.coords.accuracy) + " 米）。";
    }, function () {
      status.textContent = "无法获取位置，请手动填写经纬度。";
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
