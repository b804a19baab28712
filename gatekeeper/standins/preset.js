// Stand-in for any catalog vendor's script without one of its own, served by the browser
// tests: sets the preset's declared first-party cookies and calls each of its hosts.
// route_trackers prefixes it with `var GK_STANDIN = {id, cookies: [[name, days]], hosts}`.
(function () {
  "use strict";
  var w = window;
  var state = (w.__gkStandins = w.__gkStandins || {});
  if (state[GK_STANDIN.id]) return;
  state[GK_STANDIN.id] = { sent: [] };

  GK_STANDIN.cookies.forEach(function (cookie) {
    var age = cookie[1] ? "; max-age=" + Math.min(cookie[1], 400) * 86400 : "";
    document.cookie = cookie[0] + "=standin" + age + "; path=/; SameSite=Lax";
  });
  GK_STANDIN.hosts.forEach(function (host) {
    var url = "https://" + host + "/gk-standin?v=" + encodeURIComponent(GK_STANDIN.id);
    state[GK_STANDIN.id].sent.push(url);
    fetch(url, { mode: "no-cors", credentials: "include" }).catch(function () {});
  });
})();
