// Gatekeeper's later layer: the preferences, the withdrawal note and the settings control,
// fetched by the banner on first use (banner.js, later) with their markup (HTML, BUTTONS)
// and styles (STYLE). bundle.py wraps it in a function of the bundle's parts (LAYER_ARGS)
// returning `actions`.

let control
// This layer's styles are a sheet of their own, adopted beside the banner's by the settings
// control and by the banner once the preferences are in it. The banner's sheet is parsed
// here if the banner is not built yet (a returning visitor's settings control); its build
// parses the same CSS again, which changes nothing.
const extra = new CSSStyleSheet()
extra.replaceSync(STYLE)
sheet.cssRules.length || sheet.replaceSync(CSS)
const adopt = (root) => { root.adoptedStyleSheets = [sheet, extra] }

// The bundle's own "cookie settings" control, shown whenever the banner is closed.
function closed() {
  if (!control) {
    const [el, r] = shadow('gatekeeper-settings', '<button type="button"></button>', true)
    adopt(r)
    el.dataset.pos = CONFIG.pos
    r.firstChild.textContent = CONFIG.label[lang]
    r.firstChild.onclick = show
    attach(control = el)
  }
  control.hidden = false
}

function asking(run) {
  if (control) control.hidden = true
  run()
}

const inPrefs = () => $('[data-layer=first]').hidden

function layer(prefs) {
  $('[data-layer=first]').hidden = prefs
  $('[data-layer=prefs]').hidden = !prefs
  $('[data-gk=prefs]').hidden = prefs
  $('[data-gk=save]').hidden = !prefs
  $('[data-gk=withdraw]').hidden = !(prefs && optional.some(allows))
}

// Added to the banner once, on first open: the layer, its buttons and its styles.
function build() {
  if ($('[data-layer=prefs]')) return
  adopt($('[role=dialog]').getRootNode())
  $('[data-layer=first]').insertAdjacentHTML('afterend', HTML)
  $('.gk-buttons').insertAdjacentHTML('beforeend', BUTTONS)
  local($('[data-layer=prefs]'))
  // Escape steps back from the preferences to the first layer of an undecided visitor's
  // banner; it never makes a decision (a reopened banner it closes: banner.js).
  $('[role=dialog]').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || gatekeeper.decision) return
    if (inPrefs()) {
      layer(false)
      focusDialog()
    }
  })
}

function open() {
  build()
  $('[data-layer=prefs]').querySelectorAll('input[data-category]:not(:disabled)').forEach((input) => {
    input.checked = allows(input.dataset.category)
  })
  $('[data-gk-unavailable]').hidden = true
  $('[data-gk-withdrawn]').hidden = true
  $('[data-gk-receipt]').hidden = !gatekeeper.decision?.id
  layer(true)
  $('#gk-prefs-title').focus({ preventScroll: true })
}

function save() {
  hide()
  const ticked = (c) => $('input[data-category="' + c + '"]').checked
  decide(ticked, gpc && !ticked('marketing') ? 'gpc' : 'preferences')
}

// Scripts already running cannot be unloaded: say so, and offer the reload that stops them.
async function withdrawn() {
  await withdraw('preferences')
  open()
  const note = $('[data-gk-withdrawn]')
  note.hidden = false
  note.focus()
}

// `hold` is set by placeholders.js where this layer carries it (bundle.py).
const actions = {
  prefs: () => asking(open),
  first: () => asking(() => $('[data-layer=prefs]') && layer(false)),
  closed,
  save,
  withdraw: withdrawn,
  reload: () => location.reload(),
  hold: (frame) => hold(frame),
}
