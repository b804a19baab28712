// Stand-in for the Facebook JavaScript SDK (connect.facebook.net/<locale>/sdk.js), served by
// the browser tests: FB.init/login/XFBML like the real one, with its fbm_/fbsr_ cookies and calls.
(function () {
  "use strict";
  var w = window;
  if (w.FB && w.FB.__standin) return;

  var ONE_YEAR = 31536000;
  var appId = null;
  var sent = [];

  function setCookie(name, value, maxAge) {
    document.cookie = name + "=" + value + (maxAge ? "; max-age=" + maxAge : "") + "; path=/; SameSite=Lax";
  }

  function send(url) {
    sent.push(url);
    fetch(url, { mode: "no-cors", credentials: "include" }).catch(function () {});
  }

  function renderLoginButtons(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var buttons = scope.querySelectorAll(".fb-login-button");
    Array.prototype.forEach.call(buttons, function (spot) {
      if (spot.querySelector("button.fb-standin-login")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "fb-standin-login";
      button.textContent = "Log in with Facebook";
      button.addEventListener("click", function () { FB.login(function () {}); });
      spot.appendChild(button);
      spot.setAttribute("fb-xfbml-state", "rendered");
    });
  }

  var FB = {
    __standin: true,
    sent: sent,
    init: function (options) {
      options = options || {};
      appId = options.appId ? String(options.appId) : appId;
      if (appId && options.cookie) {
        setCookie("fbm_" + appId, "base_domain=" + location.hostname, ONE_YEAR);
        send("https://www.facebook.com/x/oauth/status?client_id=" + encodeURIComponent(appId) +
          "&input_token&origin=1&redirect_uri=" + encodeURIComponent(location.href) + "&sdk=joey");
      }
      if (options.xfbml) renderLoginButtons(document);
    },
    getLoginStatus: function (callback) {
      if (callback) callback({ status: "unknown", authResponse: null });
    },
    login: function (callback) {
      if (appId) {
        send("https://www.facebook.com/v19.0/dialog/oauth?client_id=" + encodeURIComponent(appId) +
          "&redirect_uri=" + encodeURIComponent(location.href));
        setCookie("fbsr_" + appId, "standin." + Date.now());
      }
      var response = { status: "connected", authResponse: { userID: "1", accessToken: "standin" } };
      if (callback) callback(response);
    },
    logout: function (callback) {
      if (appId) setCookie("fblo_" + appId, "y", ONE_YEAR);
      if (callback) callback({ status: "unknown" });
    },
    XFBML: { parse: function (element, callback) { renderLoginButtons(element); if (callback) callback(); } },
    Event: { subscribe: function () {}, unsubscribe: function () {} },
  };
  w.FB = FB;

  // The real SDK also reads init options from its own URL: sdk.js#xfbml=1&appId=…
  var script = document.currentScript;
  var hash = script && script.src.indexOf("#") >= 0 ? script.src.split("#")[1] : "";
  if (hash) {
    var params = {};
    hash.split("&").forEach(function (pair) {
      var kv = pair.split("=");
      params[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || "");
    });
    if (params.appId) FB.init({ appId: params.appId, cookie: true, xfbml: params.xfbml === "1" });
  }

  if (typeof w.fbAsyncInit === "function") {
    setTimeout(function () { w.fbAsyncInit(); }, 0);
  }
})();
