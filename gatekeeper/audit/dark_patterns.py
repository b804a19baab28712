"""Dark patterns on any banner, measured the way rules 5–7 and 15 (docs/rules.md) ask of
Gatekeeper's own: reject and accept as the same element type with the same computed font,
size, weight, colours and border, reject's box at least as large, both at a contrast of
4.5:1 or more (at 1280x800 and 375x667); no confirm-shaming and no legitimate-interest
wording in nl, fr, en or de; nothing pre-ticked in the second layer.

The buttons are the ones the text matcher marks (`[data-gk-audit=accept|reject|settings]`,
textmatch.py) in the banner's frame; every finding carries the values it measured.
"""

from __future__ import annotations

from playwright.sync_api import Error, Frame

from . import textmatch
from .findings import Finding
from .labels import LEGITIMATE_INTEREST, SHAMING_PHRASES, match

MIN_CONTRAST = 4.5
COMPARED = ("element", "font_family", "font_size", "font_weight", "color", "background", "border", "text_decoration")

# Computed style of the marked accept and reject controls; the background is the colour
# actually behind the text (ancestors composited), so contrast is what a visitor sees.
_MEASURE = r"""() => {
  const parse = c => { const m = (c || '').match(/[\d.]+/g) || [0, 0, 0, 0]; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const parentOf = el => el.parentElement || (el.getRootNode() instanceof ShadowRoot ? el.getRootNode().host : null);
  const behind = el => {
    const layers = [];
    for (let node = el; node; node = parentOf(node)) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let rgb = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) rgb = [r * a + rgb[0] * (1 - a), g * a + rgb[1] * (1 - a), b * a + rgb[2] * (1 - a)];
    return rgb.map(Math.round);
  };
  const luminance = rgb => { const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const out = {};
  for (const kind of ['accept', 'reject']) {
    let el = null;
    const find = root => { el = el || root.querySelector(`[data-gk-audit=${kind}]`); root.querySelectorAll('*').forEach(n => n.shadowRoot && find(n.shadowRoot)); };
    find(document);
    if (!el) continue;
    const s = getComputedStyle(el), box = el.getBoundingClientRect(), bg = behind(el);
    const fg = parse(s.color), text = [0, 1, 2].map(i => Math.round(fg[i] * fg[3] + bg[i] * (1 - fg[3])));
    const [hi, lo] = [luminance(text), luminance(bg)].sort((a, b) => b - a);
    const tag = el.tagName.toLowerCase(), role = el.getAttribute('role');
    out[kind] = {
      label: (el.value || el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim(),
      element: tag === 'a' ? 'link' : tag === 'input' ? 'button' : role === 'button' && tag !== 'button' ? `${tag}[role=button]` : tag,
      font_family: s.fontFamily, font_size: s.fontSize, font_weight: s.fontWeight, color: `rgb(${text.join(', ')})`,
      background: `rgb(${bg.join(', ')})`, border: `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`,
      text_decoration: s.textDecorationLine, width: Math.round(box.width), height: Math.round(box.height),
      contrast: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100,
    };
  }
  return out;
}"""

# The second layer's toggles that are on and can be switched off (necessary ones are disabled).
_TICKED = r"""() => {
  const found = [];
  const shown = el => { const b = el.getBoundingClientRect(), s = getComputedStyle(el); return s.display !== 'none' && s.visibility !== 'hidden' && (b.width > 0 || el.labels?.length); };
  const name = el => ((el.labels && el.labels[0] && el.labels[0].innerText) || el.getAttribute('aria-label') || el.name || el.id || '').replace(/\s+/g, ' ').trim().slice(0, 80);
  const visit = root => {
    root.querySelectorAll('input[type=checkbox]:checked:not(:disabled), [role=switch][aria-checked=true]:not([aria-disabled=true]), [role=checkbox][aria-checked=true]:not([aria-disabled=true])')
      .forEach(el => { if (shown(el)) found.push(name(el)); });
    root.querySelectorAll('*').forEach(n => n.shadowRoot && visit(n.shadowRoot));
  };
  visit(document);
  const texts = [];
  const text = root => { root.querySelectorAll('[data-gk-audit-banner], [role=dialog], dialog').forEach(el => texts.push(el.innerText || '')); root.querySelectorAll('*').forEach(n => n.shadowRoot && text(n.shadowRoot)); };
  text(document);
  return { ticked: found, text: texts.join(' ').replace(/\s+/g, ' ').slice(0, 8000) };
}"""


def measure(frame: Frame) -> dict:
    """The marked accept and reject controls' computed style, box and contrast ({} if gone)."""
    try:
        return frame.evaluate(_MEASURE)
    except Error:
        return {}


def equal_weight(measured: dict, size: str, *, tool: str, page: str, scenario: str) -> list[Finding]:
    """Rule 5 on one viewport's measurements."""
    accept, reject = measured.get("accept"), measured.get("reject")
    if not accept or not reject:
        return []
    where = dict(url=page, page=page, scenario=scenario, measured={"viewport": size, "accept": accept, "reject": reject})
    found = []
    differ = [f"{key.replace('_', '-')} {reject[key]!r} vs {accept[key]!r}" for key in COMPARED if reject[key] != accept[key]]
    if differ:
        found.append(Finding(5, tool, message=f"reject {reject['label']!r} and accept {accept['label']!r} differ at {size}: "
                             + "; ".join(differ), **where))
    if reject["width"] * reject["height"] < (accept["width"] - 1) * (accept["height"] - 1):
        found.append(Finding(5, tool, message=f"reject's box {reject['width']}x{reject['height']} is smaller than accept's "
                             f"{accept['width']}x{accept['height']} at {size}", **where))
    for kind, button in (("reject", reject), ("accept", accept)):
        if button["contrast"] < MIN_CONTRAST:
            found.append(Finding(5, tool, message=f"{kind} {button['label']!r} has a contrast of {button['contrast']}:1 at {size} "
                                 f"({button['color']} on {button['background']}), below {MIN_CONTRAST}:1", **where))
    return found


def wording(texts: list[str], *, tool: str, page: str, scenario: str) -> list[Finding]:
    """Rules 6 and 15: confirm-shaming and legitimate-interest wording, in nl, fr, en and de."""
    found, seen = [], set()
    for text in texts:
        for rule, table, what in ((6, SHAMING_PHRASES, "confirm-shaming"), (15, LEGITIMATE_INTEREST, "legitimate-interest wording")):
            phrase = match(text, table)
            if phrase and (rule, phrase) not in seen:
                seen.add((rule, phrase))
                found.append(Finding(rule, tool, page, page, scenario, f"{what}: {phrase!r} in {text[:160]!r}",
                                     measured={"phrase": phrase}))
    return found


def second_layer(frame: Frame, *, tool: str, page: str, scenario: str) -> tuple[list[Finding], str | None]:
    """Rule 7 (and 15 there): open the preferences through the banner's settings control and
    list the toggles that are on. Returns the findings and how the layer was opened (None: not offered)."""
    settings = textmatch.scan(frame).get("settings")
    if settings is None:
        return [], None
    try:
        frame.locator("[data-gk-audit=settings]").first.click(timeout=3_000)
        frame.page.wait_for_timeout(600)
        seen = frame.evaluate(_TICKED)
    except Error:
        return [], None
    opened = f"opened with {settings['label']!r}"
    found = [Finding(7, tool, page, page, scenario, f"pre-ticked in the second layer ({opened}): {label or 'a toggle'!r}",
                     measured={"toggle": label}) for label in seen["ticked"]]
    found += [f for f in wording([seen["text"]], tool=tool, page=page, scenario=scenario) if f.rule == 15]
    return found, opened
