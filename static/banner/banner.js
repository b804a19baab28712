// Gatekeeper banner: the consent dialog in an open shadow root on <gatekeeper-banner>.
// It only produces decisions (through the gate's decide/withdraw) and loads no tag itself.

let host, root, prefsMarkup, returnFocus, control, sheet

const $ = (selector) => root.querySelector(selector)
const inPrefs = () => !$('[data-layer=prefs]').hidden

// One constructed stylesheet serves the banner and the settings control.
function shadow(tag, html, delegatesFocus) {
  const el = doc.createElement(tag)
  const r = el.attachShadow({ mode: 'open', delegatesFocus })
  if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS)
  r.adoptedStyleSheets = [sheet]
  r.innerHTML = html
  return [el, r]
}

// In the <head> the bundle may run before the parser has made <body>: what it built goes
// into the body the moment that exists (a mutation of <html>, seen before the parser's
// task ends), so the banner is in the page's first paint; then `then` runs.
function attach(el, then) {
  const go = () => { doc.body.appendChild(el); then && then() }
  if (doc.body) return go()
  const watch = new MutationObserver(() => doc.body && (watch.disconnect(), go()))
  watch.observe(doc.documentElement, { childList: true })
}

// The bundle's own "cookie settings" control, shown whenever the banner is closed:
// withdrawing must be as easy as consenting, on every page of the shop.
function settings() {
  if (CONFIG.settings === 'none') return
  const [el, r] = shadow('gatekeeper-settings', '<button type="button"></button>', true)
  el.dataset.pos = CONFIG.settings
  el.hidden = host && !host.hidden
  r.firstChild.textContent = CONFIG.label[lang]
  r.firstChild.onclick = show
  attach(control = el)
}

// Links to Gatekeeper's own pages resolve against the bundle's origin, not the shop's.
const local = (el) => el.querySelectorAll('a[data-gk-local]').forEach((a) => { a.href = base + a.getAttribute('href') })

function build() {
  [host, root] = shadow('gatekeeper-banner', MARKUP[lang])
  local(root)
  if (gpc) $('[data-gk-gpc]').hidden = false
  root.addEventListener('click', onClick)
  root.addEventListener('keydown', onKey)
}

function layer(prefs) {
  $('[data-layer=first]').hidden = prefs
  $('[data-layer=prefs]').hidden = !prefs
  $('[data-gk=prefs]').hidden = prefs
  $('[data-gk=save]').hidden = !prefs
  $('[data-gk=withdraw]').hidden = !(prefs && optional.some(allows))
}

const focusDialog = () => $('[role=dialog]').focus({ preventScroll: true })

// `first` is the automatic show on page load: there focus waits for the first paint,
// because focusing forces a layout of the whole shop page, which would otherwise run
// inside the bundle's own task (a long task on slow phones). The banner is usable at once.
function show(first) {
  const fresh = !host
  if (fresh) build()
  if (host.hidden !== false) returnFocus = doc.activeElement
  host.hidden = false
  if (control) control.hidden = true
  layer(false)
  const focus = first === true ? () => requestAnimationFrame(() => setTimeout(focusDialog)) : focusDialog
  fresh ? attach(host, focus) : focus()
  if (decision) openPrefs()
}

function hide() {
  if (!host || host.hidden) return
  host.hidden = true
  if (control) control.hidden = false
  if (returnFocus && returnFocus !== doc.body && returnFocus.isConnected) returnFocus.focus({ preventScroll: true })
}

// The preferences layer is fetched on first open, in the banner's language only, to keep
// what every visitor downloads small; if it cannot be fetched the first layer stays.
async function openPrefs() {
  const box = $('[data-layer=prefs]')
  prefsMarkup = prefsMarkup || fetch(base + '/gk/' + CONFIG.site + '/prefs/' + lang + '.json')
    .then((response) => response.ok ? response.json() : Promise.reject(response.status))
  try {
    const prefs = await prefsMarkup
    if (!box.firstChild) {
      sheet.replaceSync(CSS + prefs.css)
      box.innerHTML = prefs.html
      local(box)
    }
  } catch (e) {
    prefsMarkup = null
    return
  }
  box.querySelectorAll('input[data-category]:not(:disabled)').forEach((input) => {
    input.checked = allows(input.dataset.category)
  })
  $('[data-gk-withdrawn]').hidden = true
  $('[data-gk-receipt]').hidden = !decision?.id
  layer(true)
  $('#gk-prefs-title').focus({ preventScroll: true })
}

// Scripts already running cannot be unloaded: say so, and offer the reload that stops them.
async function withdrawn(source) {
  await withdraw(source)
  await openPrefs()
  const note = $('[data-gk-withdrawn]')
  note.hidden = false
  note.focus()
}

function onClick(event) {
  const button = event.target.closest('button[data-gk]')
  if (!button) return
  const action = button.dataset.gk
  const source = inPrefs() ? 'preferences' : 'banner'
  if (action === 'prefs') return openPrefs()
  if (action === 'reload') return location.reload()
  if (action === 'withdraw') return withdrawn(source)
  hide()
  const all = acceptAll()
  const choice = {}
  for (const c of optional) {
    choice[c] = action === 'accept' ? all.includes(c) : action === 'save' && $('input[data-category="' + c + '"]').checked
  }
  decide(choice, gpc && !choice.marketing ? 'gpc' : source)
}

// Escape steps back or closes a reopened banner; it never makes a decision.
function onKey(event) {
  if (event.key !== 'Escape') return
  if (decision) return hide()
  if (inPrefs()) {
    layer(false)
    focusDialog()
  }
}

// The shop's "cookie settings" control ([data-gk-open]) and content placeholders
// ([data-gk-allow=category], "allow and continue") anywhere on the page.
doc.addEventListener('click', (event) => {
  const control = event.target.closest && event.target.closest('[data-gk-open],[data-gk-allow]')
  if (!control) return
  const category = control.dataset.gkAllow
  if (!category) return show()
  const choice = {}
  for (const c of optional) choice[c] = allows(c) || c === category
  hide()
  decide(choice, 'placeholder')
})

// Click-to-load: an iframe held for its category shows a placeholder document (srcdoc) in
// its own box, so nothing moves; it names the vendor and its cookies in the page's language,
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
      all.onclick = () => decide(Object.fromEntries(optional.map((x) => [x, allows(x) || x === c])), 'placeholder')
    }
  }
}

w.addEventListener('gatekeeper:consent', hide)
gatekeeper.show = show

// What waits for a task of its own: placeholders, and the settings control (hidden while
// the banner asks anyway). scheduler.yield() resumes ahead of the page's other queued work.
function rest() {
  activateWithin(doc)
  settings()
}

// With no consent cookie at all the visitor is undecided for sure: only the first layer's
// DOM is built, as soon as the cookie store has answered, so the banner is in the page's
// next paint and no task of the bundle is long on a slow phone (its focus waits for that
// paint: show). A cookie is believed only once its signature is checked (ready).
async function start() {
  const unsigned = !(await cookies).length
  if (unsigned) show(true)
  await ready
  if (!unsigned && !decision) show(true)
  w.scheduler && scheduler.yield ? scheduler.yield().then(rest) : setTimeout(rest)
}
start()
