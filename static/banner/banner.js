// Gatekeeper banner: the consent dialog in an open shadow root on <gatekeeper-banner>.
// It only produces decisions (through the gate's decide/withdraw) and loads no tag itself.

let host, root, returnFocus, more

const $ = (selector) => root.querySelector(selector)
// One constructed stylesheet serves the banner and the settings control (the later layer
// adopts a second one of its own beside it). It is parsed with the first layer's DOM
// (build), or by the later layer if that came first (a returning visitor's settings
// control), never in the bundle's first task.
const sheet = new CSSStyleSheet()

function shadow(tag, html, delegatesFocus) {
  const el = doc.createElement(tag)
  const r = el.attachShadow({ mode: 'open', delegatesFocus })
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

// Links to Gatekeeper's own pages resolve against the bundle's origin, not the shop's.
const local = (el) => el.querySelectorAll('a[data-gk-local]').forEach((a) => { a.href = base + a.getAttribute('href') })

// Hidden until show() puts it in the page: a built banner is not yet a shown one.
function build() {
  [host, root] = shadow('gatekeeper-banner', MARKUP[lang])
  host.hidden = true
  sheet.replaceSync(CSS)
  local(root)
  if (gpc) $('[data-gk-gpc]').hidden = false
  root.addEventListener('click', onClick)
  // Escape closes a reopened banner, with or without the later layer; it never decides.
  // (In braces: a handler property returning false would cancel every other key, Tab too.)
  host.onkeydown = (event) => { event.key == 'Escape' && decision && hide() }
}

const focusDialog = () => $('[role=dialog]').focus({ preventScroll: true })

// `first` is the automatic show on page load: there focus waits for the first paint,
// because focusing forces a layout of the whole shop page, which would otherwise run
// inside the bundle's own task (a long task on slow phones). The banner is usable at once.
// The first layer's DOM is built here, only for a visitor who is to see it: one with no
// consent cookie (start), one whose cookie does not hold, or one who opens the settings;
// a returning visitor's page builds none unless asked.
function show(first) {
  host || build()
  const fresh = !host.isConnected
  if (host.hidden) returnFocus = doc.activeElement
  host.hidden = false
  const focus = first === true ? () => requestAnimationFrame(() => setTimeout(focusDialog)) : focusDialog
  fresh ? attach(host, focus) : focus()
  if (decision) later('prefs')
  else if (more) later('first')
}

function hide() {
  if (!host || host.hidden) return
  host.hidden = true
  // Focus returns once the settings control, if that had it, is back on screen (focusing
  // the body, or an element since removed, does nothing).
  Promise.resolve(closed()).then(() => returnFocus?.focus({ preventScroll: true }))
}

// What only a visitor who goes past the first layer needs (the preferences, the
// withdrawal note, and placeholders where the site declares no embeds) is one script,
// fetched on first use in the banner's language: layer.js, the code, with its markup and
// styles (bundle.py). It hands over a function that receives the bundle's own parts,
// LAYER_ARGS (bundle.py names them), and returns its entry for each action. Accept and
// reject never wait for it. If it cannot be fetched, the first layer says so and stays.
function later(action, arg) {
  more ||= new Promise((resolve, reject) => {
    gatekeeper._layer = (code) => resolve(code(LAYER_ARGS))
    const el = doc.createElement('script')
    el.src = base + CONFIG.layer[lang]
    el.nonce = nonce
    // A layer that loads but never hands itself over (or throws) fails like one not fetched.
    el.onload = el.onerror = reject
    doc.head.appendChild(el)
  })
  return more.then((run) => run(action, arg), () => {
    more = null
    if (root && !host.hidden && action !== 'hold') $('[data-gk-unavailable]').hidden = false
  })
}

// The bundle's own "cookie settings" control (in the later layer), shown whenever the
// banner is closed: withdrawing must be as easy as consenting, on every page of the shop.
const closed = () => CONFIG.settings && later('closed')

function onClick(event) {
  const button = event.target.closest('button[data-gk]')
  if (!button) return
  const action = button.dataset.gk
  if (action !== 'accept' && action !== 'reject') return later(action)
  hide()
  const all = action === 'accept' ? acceptAll() : []
  // Under GPC neither button grants marketing (acceptAll), so the source is always gpc.
  decide((c) => all.includes(c), gpc ? 'gpc' : $('[data-layer=first]').hidden ? 'preferences' : 'banner')
}

// The shop's "cookie settings" control ([data-gk-open]) and content placeholders
// ([data-gk-allow=category], "allow and continue") anywhere on the page.
doc.addEventListener('click', (event) => {
  const control = event.target.closest?.('[data-gk-open],[data-gk-allow]')
  if (!control) return
  const category = control.dataset.gkAllow
  if (!category) return show()
  hide()
  decide((c) => allows(c) || c === category, 'placeholder')
})

// Click-to-load placeholders (placeholders.js) are in the bundle where the site declares
// embeds; elsewhere an iframe held for its category fetches them with the later layer.
/*@!embeds*/hold = (frame) => later('hold', frame)/*@*/

w.addEventListener('gatekeeper:consent', hide)
gatekeeper.show = show

// What waits for a task of its own: placeholders, and the settings control where the banner
// is not asking. scheduler.yield() resumes ahead of the page's other queued work.
function rest() {
  activateWithin(doc)
  if (!host || host.hidden) closed()
}

// With no consent cookie at all the visitor is undecided for sure: the first layer is built
// and put in the page as soon as the cookie store has answered, so the banner is in the
// page's next paint (its focus waits for that paint: show; measured at 4x CPU, this task
// stays under 40 ms). A returning visitor's tags are released first, with no banner built
// (ready). A cookie is believed only once its signature is checked.
async function start() {
  const unsigned = !(await cookies).length
  if (unsigned) show(true)
  await ready
  if (!unsigned && !decision) show(true)
  w.scheduler?.yield ? scheduler.yield().then(rest) : setTimeout(rest)
}
start()
