// Stand-in for Nosto's client script (connect.nosto.com/include/<account>), served by the
// browser tests: sets the 2c.cId visitor cookie and sends one event to connect.nosto.com.
(function () {
  "use strict";
  var w = window;
  if (w.__gkStandinNosto) return;
  w.__gkStandinNosto = { sent: [] };

  var ONE_YEAR = 31536000;
  var script = document.currentScript;
  var account = script ? (script.src.split("?")[0].split("/include/")[1] || "unknown") : "unknown";

  var match = document.cookie.match(/(?:^|; )2c\.cId=([^;]*)/);
  var visitor = match ? match[1] : Date.now().toString(16) + Math.floor(Math.random() * 1e9).toString(16);
  document.cookie = "2c.cId=" + visitor + "; max-age=" + ONE_YEAR + "; path=/; SameSite=Lax";

  var url = "https://connect.nosto.com/ev1?m=" + encodeURIComponent(account) + "&cid=" + visitor +
    "&url=" + encodeURIComponent(location.href);
  w.__gkStandinNosto.sent.push(url);
  fetch(url, { mode: "no-cors", credentials: "include" }).catch(function () {});

  // nostojs(callback) is Nosto's documented entry point; queued callbacks run once loaded.
  var api = { visit: visitor, account: account };
  var queued = (w.nostojs && w.nostojs.q) || [];
  w.nostojs = function (callback) { if (typeof callback === "function") callback(api); };
  queued.forEach(function (args) { w.nostojs.apply(null, args); });
})();
