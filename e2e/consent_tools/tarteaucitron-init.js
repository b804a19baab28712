/* tarteaucitron: the README's init block; Consent Mode from the tag's data-consent-mode. */
(function () {
  var consentMode = document.currentScript.dataset.consentMode === 'true';
  tarteaucitron.init({
    privacyUrl: '/privacy', hashtag: '#tarteaucitron', cookieName: 'tarteaucitron', orientation: 'middle',
    groupServices: false, showDetailsOnClick: true, serviceDefaultState: 'wait', showAlertSmall: false,
    cookieslist: false, showIcon: true, iconPosition: 'BottomRight', adblocker: false,
    DenyAllCta: true, AcceptAllCta: true, highPrivacy: true, alwaysNeedConsent: false,
    handleBrowserDNTRequest: false, removeCredit: false, moreInfoLink: true, useExternalCss: false,
    useExternalJs: false, mandatory: true, mandatoryCta: true,
    googleConsentMode: consentMode, softConsentMode: false, dataLayer: false, serverSide: false
  });
  tarteaucitron.user.gtagUa = 'G-TOOLS04';
  (tarteaucitron.job = tarteaucitron.job || []).push('gtag');
  tarteaucitron.user.googleadsId = 'AW-10004';
  (tarteaucitron.job = tarteaucitron.job || []).push('googleads');
  (tarteaucitron.job = tarteaucitron.job || []).push('facebook');
})();
