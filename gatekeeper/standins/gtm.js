// Stand-in for a Google Tag Manager container (www.googletagmanager.com/gtm.js), served by
// the browser tests: reads the dataLayer like the real one, notes what it found when it
// started, and "fires" an analytics tag only while analytics_storage is granted.
(function () {
  "use strict";
  var w = window;
  var dataLayer = (w.dataLayer = w.dataLayer || []);
  if (w.__gkStandinGtm) return;
  var state = (w.__gkStandinGtm = { consent: {}, atStart: null, fired: [], events: [] });

  function handle(entry) {
    if (entry && typeof entry === "object" && entry[0] === "consent" && entry[2]) {
      Object.keys(entry[2]).forEach(function (key) { state.consent[key] = entry[2][key]; });
    } else if (entry && typeof entry.event === "string") {
      state.events.push(entry.event);
      if (entry.event === "gatekeeper_consent" && state.consent.analytics_storage === "granted") {
        var url = "https://www.google-analytics.com/g/collect?v=2&tid=G-GTMSTANDIN&en=page_view";
        state.fired.push(url);
        fetch(url, { method: "POST", mode: "no-cors" }).catch(function () {});
      }
    }
  }

  // What the container saw when it started: every entry before it, in order.
  state.atStart = dataLayer.map(function (e) {
    return e && typeof e === "object" && typeof e.length === "number" ? Array.prototype.slice.call(e) : e;
  });
  dataLayer.forEach(handle);
  var push = dataLayer.push;
  dataLayer.push = function () {
    var result = push.apply(dataLayer, arguments);
    for (var i = 0; i < arguments.length; i++) handle(arguments[i]);
    return result;
  };
})();
