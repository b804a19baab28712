// Stand-in for Google's gtag.js (GA4 and Google Ads), served by the browser tests in place
// of www.googletagmanager.com: same dataLayer protocol, same cookies, same collect hosts.
(function () {
  "use strict";
  var w = window;
  var dataLayer = (w.dataLayer = w.dataLayer || []);
  // The real gtag.js installs itself once per page even when several ids load it.
  if (w.__gkStandinGtag) return;
  var state = (w.__gkStandinGtag = { defaults: {}, updates: {}, configured: [], fired: {}, sent: [] });

  var TWO_YEARS = 63072000;
  var NINETY_DAYS = 7776000;

  function now() { return Math.floor(Date.now() / 1000); }
  function random() { return Math.floor(Math.random() * 2147483647); }

  function setCookie(name, value, maxAge) {
    document.cookie = name + "=" + value + "; max-age=" + maxAge + "; path=/; SameSite=Lax";
  }

  function getCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name.replace(/[.$?*|{}()[\]\\/+^]/g, "\\$&") + "=([^;]*)"));
    return match ? match[1] : null;
  }

  // Without any consent command, gtag behaves as if everything were granted.
  function granted(type) {
    var value = type in state.updates ? state.updates[type] : state.defaults[type];
    return value === undefined || value === "granted";
  }

  function send(url, viaImage) {
    state.sent.push(url);
    if (viaImage) {
      new Image().src = url;
    } else {
      fetch(url, { method: "POST", mode: "no-cors", keepalive: true, credentials: "include" }).catch(function () {});
    }
  }

  function clientId() {
    var ga = getCookie("_ga");
    if (ga) return ga.split(".").slice(2).join(".");
    var cid = random() + "." + now();
    setCookie("_ga", "GA1.1." + cid, TWO_YEARS);
    return cid;
  }

  function collect(id, eventName) {
    var cid = clientId();
    var sessionCookie = "_ga_" + id.slice(2);
    if (!getCookie(sessionCookie)) setCookie(sessionCookie, "GS1.1." + now() + ".1.0." + now() + ".0.0.0", TWO_YEARS);
    send(
      "https://www.google-analytics.com/g/collect?v=2&tid=" + encodeURIComponent(id) +
        "&cid=" + encodeURIComponent(cid) + "&en=" + encodeURIComponent(eventName) +
        "&dl=" + encodeURIComponent(location.href)
    );
  }

  function conversion(id) {
    if (!getCookie("_gcl_au")) setCookie("_gcl_au", "1.1." + random() + "." + now(), NINETY_DAYS);
    var numeric = id.slice(3).split("/")[0];
    send(
      "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/" + numeric +
        "/?random=" + random() + "&url=" + encodeURIComponent(location.href),
      true
    );
  }

  // Acts on every configured id whose consent is granted and that has not acted yet.
  function fireConfigured() {
    state.configured.forEach(function (id) {
      if (state.fired[id]) return;
      if (id.indexOf("G-") === 0 && granted("analytics_storage")) {
        state.fired[id] = true;
        collect(id, "page_view");
      } else if (id.indexOf("AW-") === 0 && granted("ad_storage")) {
        state.fired[id] = true;
        conversion(id);
      }
    });
  }

  function handle(command) {
    if (!command || typeof command !== "object" || typeof command[0] !== "string") return;
    var verb = command[0];
    if (verb === "consent") {
      var target = command[1] === "update" ? state.updates : command[1] === "default" ? state.defaults : null;
      if (!target) return;
      var params = command[2] || {};
      Object.keys(params).forEach(function (key) { target[key] = params[key]; });
      fireConfigured();
    } else if (verb === "config" && typeof command[1] === "string") {
      if (state.configured.indexOf(command[1]) < 0) state.configured.push(command[1]);
      fireConfigured();
    } else if (verb === "event" && typeof command[1] === "string") {
      state.configured.forEach(function (id) {
        if (id.indexOf("G-") === 0 && state.fired[id] && granted("analytics_storage")) collect(id, command[1]);
      });
    }
  }

  for (var i = 0; i < dataLayer.length; i++) handle(dataLayer[i]);
  var push = dataLayer.push;
  dataLayer.push = function () {
    var result = push.apply(dataLayer, arguments);
    for (var j = 0; j < arguments.length; j++) handle(arguments[j]);
    return result;
  };
})();
