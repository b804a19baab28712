/* Osano cookieconsent: one yes/no consent; the tags load only once it is given. */
(function () {
  var loaded = false;
  function load(src) { var s = document.createElement('script'); s.async = true; s.src = src; document.head.appendChild(s); }
  function enableTags() {
    if (loaded) return;
    loaded = true;
    window.dataLayer = window.dataLayer || [];
    window.gtag = function () { dataLayer.push(arguments); };
    gtag('js', new Date()); gtag('config', 'G-TOOLS05'); gtag('config', 'AW-10005');
    load('https://www.googletagmanager.com/gtag/js?id=G-TOOLS05');
    load('https://www.googletagmanager.com/gtag/js?id=AW-10005');
    load('https://connect.facebook.net/nl_NL/sdk.js');
  }
  window.addEventListener('load', function () {
    window.cookieconsent.initialise({
      type: 'opt-in',
      palette: { popup: { background: '#1d1d1f', text: '#ffffff' }, button: { background: '#0a6cff', text: '#ffffff' } },
      content: {
        message: 'Wij gebruiken statistiek, advertenties en Facebook-login alleen als u dat toestaat.',
        allow: 'Alles accepteren', deny: 'Alles weigeren', link: 'Privacybeleid', href: '/privacy'
      },
      onInitialise: function () { if (this.hasConsented()) enableTags(); },
      onStatusChange: function () { if (this.hasConsented()) enableTags(); }
    });
  });
})();
