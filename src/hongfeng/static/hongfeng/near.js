/* 附近的活动: ask the browser for the position once, then reload the list sorted by distance
   (?tab=near&lat=…&lon=…). The position is used for sorting only and is not stored. */
(function () {
  "use strict";
  var button = document.getElementById("near-locate");
  var status = document.getElementById("near-status");
  if (!button) {
    return;
  }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) {
      status.textContent = "此浏览器不支持定位。";
      return;
    }
    button.disabled = true;
    status.textContent = "正在获取您的位置…";
    navigator.geolocation.getCurrentPosition(function (p) {
      var params = new URLSearchParams({
        tab: "near",
        lat: p.coords.latitude.toFixed(5),
        lon: p.coords.longitude.toFixed(5)
      });
      window.location.assign(button.dataset.url + "?" + params.toString());
    }, function (error) {
      button.disabled = false;
      status.textContent = error.code === 1
        ? "您没有允许定位。请在浏览器设置中允许本网站使用位置后重试。"
        : "暂时无法获取位置，请稍后重试。";
    }, { enableHighAccuracy: false, maximumAge: 60000, timeout: 15000 });
  });
})();
