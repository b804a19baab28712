// Gatekeeper gate: holds the visitor's decision and releases only what it allows (Consent
// Mode, gtag.js, Facebook SDK, scripts, the shop's own tags). Works without the banner UI.
// bundle.py wraps this file and banner.js in one function with CONFIG, MARKUP, CSS, and the
// consent cookie's COOKIE name and FORMAT version (cookies.py, tokens.py).

const w = window, doc = document
const me = doc.currentScript
const nonce = me?.nonce || ''
const src = me?.src || ''
const base = src.includes('/gk/') ? src.slice(0, src.lastIndexOf('/gk/')) : location.origin
const crossOrigin = new URL(base, location.href).origin !== location.origin
const optional = CONFIG.categories
// MARKUP holds every language of the site, then the page's is chosen where it has it, else
// its first; or only the one the shop's bundle URL named (bundle.py: no choice to make).
const languages = Object.keys(MARKUP)
/*@every*/const primary = (doc.documentElement.lang || '').split('-')[0].toLowerCase()
/*@*/const lang = /*@every*/languages.includes(primary) ? primary : /*@*/languages[0]
const loaded = new Set()
let decision = null, hold // hold(iframe): the banner's click-to-load placeholder

w.dataLayer ||= []
function gtag() { w.dataLayer.push(arguments) }
w.gtag ||= gtag
// Every Consent Mode type denied: the site's (CONFIG.modes lists the ad and analytics ones
// always) and the two the shop's own storage uses.
const denied = { functionality_storage: 'denied', security_storage: 'denied', wait_for_update: 500 }
for (const t in CONFIG.modes) denied[t] = 'denied'
gtag('consent', 'default', denied)

const allows = (category) => category === 'necessary' || !!(decision && decision.categories[category])

function decisionOf(granted, id) {
  const categories = { necessary: true }
  for (const c of optional) categories[c] = granted.includes(c)
  return { categories, revision: CONFIG.revision, id }
}

// A decision only from a gk_consent the server signed: its ECDSA P-256 signature is checked
// with the bundle's public KEYS (WebCrypto, so https or localhost only; elsewhere, and for
// two cookies that disagree, another site's, revision's or an expired one: undecided).
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const b64 = (s) => atob(s.replace(/-/g, '+').replace(/_/g, '/'))
const u8 = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0))

// A token verified here once (or received in the server's own answer) is remembered, with
// the keys that checked it, in this origin's localStorage, which a sibling subdomain able to
// plant a cookie cannot write: a reload with that very cookie skips WebCrypto; a cookie
// differing in any byte, or new keys, is verified in full. Secure contexts only.
const memo = (token) => KEYS.length && token + ' ' + KEYS
function remember(token) {
  try { token ? w.isSecureContext && localStorage.setItem(COOKIE, memo(token)) : localStorage.removeItem(COOKIE) } catch (e) { /* no storage */ }
  return token
}

// The consent cookie's values. A page's first document.cookie is a synchronous round trip
// to the browser's cookie store (2-64 ms measured during a page load, all of it a stall in
// the bundle's task); where there is a cookieStore it answers in a task of its own.
const cookies = w.cookieStore
  ? cookieStore.getAll(COOKIE).then((list) => list.map((c) => c.value), () => [])
  : Promise.resolve(doc.cookie.split('; ').filter((p) => p.startsWith(COOKIE + '=')).map((p) => p.slice(COOKIE.length + 1)))

// The decision in the one consent cookie found, once its signature holds; else undefined.
async function storedDecision(found) {
  const values = new Set(found)
  if (values.size === 1) try { // on a first visit no exception is thrown on the way
    const token = [...values][0]
    const [data, sig] = token.split('.')
    const p = JSON.parse(b64(data))
    if (p.v === FORMAT && p.site === CONFIG.site && p.rev === CONFIG.revision && (p.iat + CONFIG.consent_days * 86400) * 1e3 > Date.now()) {
      if (localStorage.getItem(COOKIE) === memo(token)) return decisionOf(p.granted, p.id)
      for (const k of KEYS) {
        const key = await crypto.subtle.importKey('raw', u8(b64(k)), ECDSA, 0, ['verify'])
        if (await crypto.subtle.verify(ECDSA, key, u8(b64(sig)), u8(data))) return remember(token) && decisionOf(p.granted, p.id)
      }
    }
  } catch (e) { /* malformed, no storage, or no WebCrypto (plain http): undecided */ }
}

function expireCookie(name) {
  const labels = location.hostname.split('.')
  doc.cookie = name + '=; Max-Age=0; Path=/'
  for (let i = 0; i < labels.length - 1; i++) {
    doc.cookie = name + '=; Max-Age=0; Path=/; Domain=' + labels.slice(i).join('.')
  }
}

function deleteCookies(category) {
  const patterns = CONFIG.cookies[category] || []
  const matches = (name) => patterns.some((p) => p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p)
  for (const pair of doc.cookie.split('; ')) {
    const name = pair.split('=')[0]
    if (name && matches(name)) expireCookie(name)
  }
}

// Each Consent Mode type is granted when a category the site maps to it is (CONFIG.modes);
// `necessary` keeps the shop's own functional and security storage.
function consentUpdate() {
  const update = { functionality_storage: 'granted', security_storage: 'granted' }
  for (const t in CONFIG.modes) update[t] = CONFIG.modes[t].some(allows) ? 'granted' : 'denied'
  gtag('consent', 'update', update)
}

/*@snippets*/function script(text) {
  const el = doc.createElement('script')
  el.nonce = nonce
  el.text = text
  return doc.head.appendChild(el)
}
/*@*/
// A vendor's script, after its `init` snippet (a command queue) and before its `ready` one.
function addScript(src, init, ready) {
  if (loaded.has(src)) return
  loaded.add(src)
  /*@snippets*/if (init) script(init)/*@*/
  const el = doc.createElement('script')
  el.src = src
  el.async = true
  el.nonce = nonce
  /*@snippets*/if (ready) el.onload = () => script(ready)/*@*/
  doc.head.appendChild(el)
}

// Each service's script URL comes from its preset (gatekeeper/loaders.py); `type` says
// which of these runs it. The SDK calls one window.fbAsyncInit: ours initialises it, then
// runs the shop's own.
function loadFacebook(service) {
  const shop = w.fbAsyncInit
  if (loaded.has(service.src)) return
  w.fbAsyncInit = () => { w.FB.init(Object.assign({ appId: service.id }, service.opts)); shop && shop() }
  addScript(service.src)
}

// One gtag.js for every Google tag, then a config for each.
function loadGtag(tags) {
  if (!tags.length) return
  if (!loaded.has('gtag')) {
    loaded.add('gtag')
    addScript(tags[0].src)
    gtag('js', new Date())
  }
  for (const { id } of tags) {
    if (!loaded.has(id)) { loaded.add(id); gtag('config', id) }
  }
}

/*@gtm*/// The container comes after Consent Mode's default; its tags read every later update.
function loadGtm(src) {
  if (!loaded.has(src)) w.dataLayer.push({ 'gtm.start': Date.now(), event: 'gtm.js' })
  addScript(src)
}
/*@*/
// The shop's own tags: <script type="text/plain" data-category>, <iframe data-src> and
// placeholders [data-gk-allow] that stand in for content until their category is granted.
const HELD = 'script[type="text/plain"][data-category],iframe[data-category][data-src],[data-gk-allow]'

function load(frame) {
  frame.gk = 0
  frame.removeAttribute('srcdoc')
  frame.src = frame.dataset.src
  frame.removeAttribute('data-src')
}

function activate(el) {
  const category = el.dataset.gkAllow || el.dataset.category
  if (!allows(category)) return hold && el.tagName === 'IFRAME' && hold(el)
  if (el.dataset.gkAllow) return el.remove()
  if (el.tagName === 'IFRAME') return load(el)
  const script = doc.createElement('script')
  for (const a of el.attributes) if (a.name !== 'type' && a.name !== 'nonce') script.setAttribute(a.name, a.value)
  script.nonce = nonce || el.nonce
  script.text = el.text
  el.replaceWith(script)
}

function activateWithin(root) {
  if (root.matches?.(HELD)) activate(root)
  root.querySelectorAll?.(HELD).forEach(activate)
}

function release() {
  const gtags = []
  for (const s of CONFIG.services) {
    if (!(s.any || [s.category]).some(allows)) continue
    if (s.type === 'gtag') gtags.push(s)
    else if (s.type === 'facebook_sdk') loadFacebook(s)
    /*@gtm*/else if (s.type === 'gtm') loadGtm(s.src)/*@*/
    else addScript(s.src, s.init, s.ready)
  }
  loadGtag(gtags)
  activateWithin(doc)
}

function emit(name, detail) {
  w.dispatchEvent(new CustomEvent('gatekeeper:' + name, { detail }))
}

function apply(next) {
  const before = optional.filter(allows).join()
  decision = next
  consentUpdate()
  if (next) release() // before reading document.cookie below: the tags do not wait for it
  for (const c of optional) if (!allows(c)) deleteCookies(c)
  if (next) emit('consent', next)
  const granted = optional.filter(allows)
  // For GTM triggers: on load from the cookie, after each decision and after a withdrawal.
  w.dataLayer.push({ event: 'gatekeeper_consent', gatekeeper_categories: granted })
  if (granted.join() !== before) emit('change', next)
}

function send(method, body) {
  return fetch(base + '/api/v1/consent', {
    method, credentials: 'include',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ site: CONFIG.site, language: lang, ...body }),
  })
}

// A grant counts only once the log has recorded it; if recording fails, this page view
// goes on as a refusal and nothing is stored. `grants(category)` says what is chosen.
async function decide(grants, source) {
  const categories = {}
  for (const c of optional) categories[c] = !!grants(c)
  let next = decisionOf([], null)
  try {
    const response = await send('POST', { categories, revision: CONFIG.revision, source })
    if (response.status !== 201) throw response.status // not recorded
    const answer = await response.json()
    if (crossOrigin) {
      const secure = location.protocol === 'https:' ? '; Secure' : ''
      doc.cookie = COOKIE + '=' + answer.token + '; Path=/; Max-Age=' + answer.max_age + '; SameSite=Lax' + secure
    }
    next = decisionOf(optional.filter((c) => categories[c] && answer.decision.categories[c]), answer.consent_id)
    remember(answer.token)
  } catch (e) { /* fail closed */ }
  // gatekeeper.shop's "enforce" mode marks the tag: this page's CSP was sent for the old
  // decision and cannot widen, so a choice that grants more takes effect on a reload.
  if (me?.hasAttribute('data-gk-reload') && optional.some((c) => next.categories[c] && !allows(c))) {
    location.reload()
    return next
  }
  apply(next)
  return next
}

// Withdrawal stops everything on this page even when the server cannot be reached.
async function withdraw(source) {
  try { await send('DELETE', { source: source || 'api' }) } catch (e) { /* still withdraw here */ }
  expireCookie(COOKIE)
  remember()
  apply(null)
}

// Global Privacy Control opts out of marketing: "accept all", from the banner or the API,
// leaves it off; only naming marketing explicitly grants it.
const gpc = navigator.globalPrivacyControl === true && optional.includes('marketing')
const acceptAll = () => optional.filter((c) => !gpc || c !== 'marketing')

const gatekeeper = w.gatekeeper = {
  get decision() { return decision },
  show() {},
  accept: (categories = acceptAll()) => decide((c) => categories.includes(c), gpc && !categories.includes('marketing') ? 'gpc' : 'api'),
  reject: () => decide(() => 0, 'api'),
  withdraw: () => withdraw('api'),
  allows,
}

// The parser adds a page node by node (a record each): for many records, one search of the
// document costs less than one per node; the search finds only what is still held.
new MutationObserver((records) => {
  if (records.length > 9) return activateWithin(doc)
  for (const r of records) r.addedNodes.forEach(activateWithin)
}).observe(doc.documentElement, { childList: true, subtree: true })

// The banner waits for this: a return visit releases its tags with no network round trip.
const ready = cookies.then(storedDecision).then((stored) => stored && !decision && apply(stored))
