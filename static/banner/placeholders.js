// Gatekeeper click-to-load placeholders: an iframe held for its category gets one in its box.
// In the bundle where the site declares embeds, else in the later layer (bundle.py).

// The placeholder is a document of its own (srcdoc) in the iframe's own box, so nothing moves; it names the vendor and its cookies in the page's language,
// and nothing is requested from the vendor before a click. "Load" loads this embed only, on
// this page; "Always allow" records the category's grant (source placeholder).
const esc = (text) => text.replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';')
hold = (frame) => {
  if (frame.gk) return
  const texts = CONFIG.embed[lang], c = frame.dataset.category, t = doc.createElement('template')
  const host = new URL(frame.dataset.src, location.href).hostname
  const s = /*@embeds*/CONFIG.embeds.find((s) => s.h.some((h) => ('.' + host).endsWith('.' + h))) ||/*@*/ { n: host, v: 4 }
  t.innerHTML = MARKUP[lang] // the category's name, as the first layer lists it
  frame.gk = 1
  frame.srcdoc = '<!doctype html><html lang=' + lang + '><title>' + esc(s.n) + '</title><style>body{font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#f4f4f4;margin:0;padding:1rem}button{font:inherit;font-weight:600;min-height:2.75rem;margin:0 .5rem .5rem 0;padding:.5rem 1rem;border:2px solid #1b1b1b;border-radius:.375rem;background:#1b1b1b;color:#fff}</style><p>' +
    esc(texts[1].replace('{vendor}', s.n) + /*@embeds*/(s.k ? ': ' + s.k : '') +/*@*/ '.') + '<p><button>' + esc(texts[s.v]) + '</button><button>' +
    esc(texts[0].replace('{category}', t.content.querySelectorAll('li')[optional.indexOf(c)].textContent)) + '</button>'
  frame.onload = () => {
    const [one, all] = frame.gk && frame.contentDocument ? frame.contentDocument.querySelectorAll('button') : []
    if (all) {
      one.onclick = () => load(frame)
      all.onclick = () => decide((x) => allows(x) || x === c, 'placeholder')
    }
  }
}

