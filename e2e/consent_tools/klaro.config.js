/* Klaro: every service off until consent, accept-all and decline on the first layer. */
var klaroConfig = {
  version: 1,
  lang: 'de',
  storageMethod: 'cookie',
  cookieName: 'klaro',
  default: false,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  translations: {
    zz: { privacyPolicyUrl: '/privacy' },
    de: { purposes: { analytics: 'Statistik', marketing: 'Marketing', social: 'Soziale Anmeldung' } }
  },
  services: [
    { name: 'google-analytics', title: 'Google Analytics 4', purposes: ['analytics'], cookies: [/^_ga/] },
    { name: 'google-ads', title: 'Google Ads', purposes: ['marketing'], cookies: [/^_gcl/] },
    { name: 'facebook-login', title: 'Facebook Login', purposes: ['social'] }
  ]
};
