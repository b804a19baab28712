"""The text matcher: a banner's accept, reject and settings controls found by their words
(labels.py) in one frame, open shadow roots included — the fallback for consent tools
autoconsent has no rule for, and how the audit finds the buttons it measures.

A control counts only inside something banner-like (a dialog, a fixed or sticky box, or an
element whose id or class says cookie/consent/…), so a shop's own "OK" button is no banner.
"""

from __future__ import annotations

from playwright.sync_api import Error, Frame

from .labels import ACCEPT_LABELS, REJECT_LABELS, SETTINGS_LABELS, phrases

VOCABULARY = {"reject": phrases(REJECT_LABELS), "accept": phrases(ACCEPT_LABELS), "settings": phrases(SETTINGS_LABELS)}

# Tools told by their markup, for those autoconsent has no rule for or shares a rule
# between (its "Complianz" rules also match the Osano library Complianz builds on):
# (name, selector present, selector absent).
FINGERPRINTS = (
    ("vanilla-cookieconsent", "#cc-main .cm-wrapper, #cc--main", None),
    ("Klaro", ".klaro .cookie-notice, .klaro .cookie-modal", None),
    ("tarteaucitron", "#tarteaucitronRoot", None),
    ("Orejime", "#orejime, .orejime-Env, .orejime-Banner", None),
    ("cookieconsent (Osano)", ".cc-window[aria-describedby='cookieconsent:desc']", "[id^=cmplz], [class*=cmplz]"),
    ("Gatekeeper", "gatekeeper-banner", None),
)

# Marks the best visible control of each kind with data-gk-audit=<kind> and describes it.
# Best: an exact label over a phrase inside one, then the longest phrase, then page order.
_SCAN = r"""([vocabulary, fingerprints]) => {
  const norm = t => (t || '').replace(/[\u2019`]/g, "'").toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ').trim();
  const BANNERISH = /cookie|consent|gdpr|privacy|cmp|banner|notice|tarteaucitron|klaro|orejime|cc-window|osano/i;
  const parentOf = el => el.parentElement || (el.getRootNode() instanceof ShadowRoot ? el.getRootNode().host : null);
  const container = el => {
    for (let node = parentOf(el); node && node !== document.body && node !== document.documentElement; node = parentOf(node)) {
      const style = getComputedStyle(node), role = node.getAttribute('role');
      if (role === 'dialog' || role === 'alertdialog' || node.tagName === 'DIALOG' || node.getAttribute('aria-modal') === 'true'
          || style.position === 'fixed' || style.position === 'sticky'
          || BANNERISH.test(node.id || '') || BANNERISH.test(typeof node.className === 'string' ? node.className : '')) return node;
    }
    return null;
  };
  const shown = el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0;
  };
  const inView = el => {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth;
  };
  const best = {};
  const consider = el => {
    const label = norm(el.value || el.innerText || el.textContent || el.getAttribute('aria-label'));
    if (!label || label.length > 60) return;
    const padded = ` ${label} `;
    for (const kind of ['reject', 'accept', 'settings']) {
      const phrase = vocabulary[kind].find(p => padded.includes(` ${p} `));
      if (!phrase) continue;
      const score = (phrase === label ? 1000 : 0) + phrase.length;
      if ((!best[kind] || score > best[kind].score) && shown(el)) {
        const box = container(el);
        if (box) best[kind] = { el, box, score, phrase, label };
      }
      return;  // a label is of one kind only: reject wins over accept ("niet akkoord")
    }
  };
  const visit = root => {
    root.querySelectorAll('button, [role=button], a, input[type=button], input[type=submit]').forEach(consider);
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) visit(el.shadowRoot); });
  };
  document.querySelectorAll('[data-gk-audit]').forEach(el => el.removeAttribute('data-gk-audit'));
  visit(document);
  const found = {};
  for (const [kind, hit] of Object.entries(best)) {
    hit.el.setAttribute('data-gk-audit', kind);
    found[kind] = { label: (hit.el.value || hit.el.innerText || hit.el.textContent || '').replace(/\s+/g, ' ').trim() || hit.label,
                    phrase: hit.phrase, tag: hit.el.tagName.toLowerCase(), in_view: inView(hit.el) };
  }
  const box = (best.reject || best.accept || {}).box;
  if (box) {
    box.setAttribute('data-gk-audit-banner', '');
    found.text = (box.innerText || box.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 4000);
  }
  const told = ([name, present, absent]) => document.querySelector(present) && !(absent && document.querySelector(absent));
  found.tool = (fingerprints.find(told) || [null])[0];
  return found;
}"""


def scan(frame: Frame) -> dict:
    """The frame's accept, reject and settings controls ({} if none or the frame is gone);
    marks them `[data-gk-audit=<kind>]` and their banner `[data-gk-audit-banner]`."""
    try:
        return frame.evaluate(_SCAN, [VOCABULARY, [list(f) for f in FINGERPRINTS]])
    except Error:
        return {}
