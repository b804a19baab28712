// Stand-in for the Meta pixel (connect.facebook.net/<locale>/fbevents.js), served by the
// browser tests: drains the fbq queue, sets _fbp (and _fbc after an fbclid) and calls /tr.
(function () {
  "use strict";
  var w = window;
  var NINETY_DAYS = 7776000;
  var pixels = [];
  var revoked = false;

  var fbq = w.fbq;
  if (!fbq) {
    fbq = w.fbq = function () { fbq.callMethod.apply(fbq, arguments); };
    fbq.queue = [];
    fbq.push = fbq;
    fbq.loaded = true;
    fbq.version = "2.0";
  }
  if (!w._fbq) w._fbq = fbq;
  if (fbq.__standin) return;
  fbq.__standin = true;
  fbq.sent = [];

  function getCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? match[1] : null;
  }

  function setCookie(name, value) {
    document.cookie = name + "=" + value + "; max-age=" + NINETY_DAYS + "; path=/; SameSite=Lax";
  }

  function track(id, eventName) {
    if (revoked) return;
    var url = "https://www.facebook.com/tr?id=" + encodeURIComponent(id) + "&ev=" + encodeURIComponent(eventName) +
      "&dl=" + encodeURIComponent(location.href) + "&fbp=" + encodeURIComponent(getCookie("_fbp") || "");
    fbq.sent.push(url);
    new Image().src = url;
  }

  fbq.callMethod = function (method, a, b) {
    if (method === "consent") {
      revoked = a === "revoke";
    } else if (method === "init" && a) {
      if (revoked) { pixels.push(String(a)); return; }
      if (!getCookie("_fbp")) setCookie("_fbp", "fb.1." + Date.now() + "." + Math.floor(Math.random() * 2147483647));
      var clickId = new URLSearchParams(location.search).get("fbclid");
      if (clickId) setCookie("_fbc", "fb.1." + Date.now() + "." + clickId);
      pixels.push(String(a));
      track(String(a), "PageView");
    } else if ((method === "track" || method === "trackCustom") && a) {
      pixels.forEach(function (id) { track(id, a); });
    }
  };

  var queued = fbq.queue || [];
  fbq.queue = [];
  queued.forEach(function (args) { fbq.callMethod.apply(fbq, args); });
})();
