/* vanilla-cookieconsent v3: three opt-in categories, equal-weight buttons on the first layer.
 * hideFromBots is off because Playwright sets navigator.webdriver (real visitors: no effect). */
CookieConsent.run({
  hideFromBots: false,
  guiOptions: { consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true } },
  categories: {
    necessary: { enabled: true, readOnly: true },
    analytics: { autoClear: { cookies: [{ name: /^_ga/ }] } },
    marketing: { autoClear: { cookies: [{ name: /^_gcl/ }] } },
    social: {}
  },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: 'Cookies in this shop',
          description: 'Analytics, advertising and Facebook login run only if you allow them.',
          acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Manage preferences'
        },
        preferencesModal: {
          title: 'Cookie preferences', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save preferences', closeIconLabel: 'Close',
          sections: [
            { title: 'Necessary', linkedCategory: 'necessary' },
            { title: 'Analytics (Google Analytics 4)', linkedCategory: 'analytics' },
            { title: 'Marketing (Google Ads)', linkedCategory: 'marketing' },
            { title: 'Facebook login', linkedCategory: 'social' }
          ]
        }
      }
    }
  }
});
