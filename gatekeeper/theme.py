"""The site file's `[theme]` table: the banner's colours, radius, font and spacing, as CSS
custom properties (`--gk-…`) on the banner's host element.

The bundle sets them on `:host`, so a shop's own stylesheet can still override any of
them on `gatekeeper-banner` (the outer document wins over `:host`), while nothing it
writes reaches inside the shadow root. There is one button style: reject, accept and
preferences always look alike. A text or button colour pair under WCAG's 4.5:1 contrast
stops start-up naming both colours; values go into CSS, so each is checked against a
strict grammar first (a colour, a length, a font list), never passed through.
"""

from __future__ import annotations

from typing import Annotated, Iterator, Literal

import msgspec

Colour = Annotated[str, msgspec.Meta(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]
Length = Annotated[str, msgspec.Meta(pattern=r"^(?:0|[0-9]{1,3}(?:\.[0-9]{1,3})?(?:px|rem|em))$")]
_FAMILY = r'(?:[A-Za-z][A-Za-z0-9 -]{0,40}|"[A-Za-z0-9 -]{1,40}")'
FontList = Annotated[str, msgspec.Meta(pattern=rf"^{_FAMILY}(?:, ?{_FAMILY}){{0,7}}$")]

# What a field expects, for the start-up message (msgspec would quote the pattern).
EXPECTED = {
    "Colour": "a colour as #rgb or #rrggbb, like #1b1b1b",
    "Length": "a length in px, rem or em, like 0.375rem",
    "FontList": 'a font list, like "Source Sans 3", system-ui, sans-serif',
}
MIN_CONTRAST = 4.5  # WCAG 2.2, 1.4.3 Contrast (Minimum), normal text


class Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Colours(Struct):
    """The colour keys, in the `[theme]` table and its `[theme.dark]` sub-table."""

    background: Colour | None = None
    text: Colour | None = None
    button_background: Colour | None = None
    button_text: Colour | None = None
    link: Colour | None = None

    def over(self, defaults: Colours) -> dict[str, str]:
        return {k: getattr(self, k) or getattr(defaults, k) for k in Colours.__struct_fields__}


LIGHT = Colours(background="#fff", text="#1b1b1b", button_background="#1b1b1b", button_text="#fff", link="#0b4fc4")
DARK = Colours(background="#1f1f1f", text="#f2f2f2", button_background="#f2f2f2", button_text="#141414", link="#8cb8ff")
SHAPE = {"radius": ".375rem", "font": "system-ui, sans-serif", "spacing": "1rem"}
# Which colour each one is read on: the pairs the contrast check measures.
PAIRS = (("text", "background"), ("button_text", "button_background"), ("link", "background"))


class Theme(Colours):
    radius: Length | None = None
    font: FontList | None = None
    spacing: Length | None = None
    # "auto" follows the visitor's prefers-color-scheme; "light" or "dark" fixes one.
    color_scheme: Literal["auto", "light", "dark"] = "auto"
    dark: Colours = Colours()

    def schemes(self) -> dict[str, dict[str, str]]:
        """The colours of each scheme, defaults filled in: the table's own keys are the
        light scheme, `[theme.dark]` the dark one."""
        return {"light": self.over(LIGHT), "dark": self.dark.over(DARK)}

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, why) for each colour pair a visitor could not read well enough."""
        shown = {"auto": ("light", "dark"), "light": ("light",), "dark": ("dark",)}[self.color_scheme]
        for scheme in shown:
            colours = self.schemes()[scheme]
            for fg, bg in PAIRS:
                ratio = contrast(colours[fg], colours[bg])
                if ratio < MIN_CONTRAST:
                    where = "theme" if scheme == "light" else "theme.dark"
                    yield (f"{where}.{fg}", f"{fg} {colours[fg]} on {bg} {colours[bg]} has a contrast of "
                                            f"{ratio:.2f}:1; WCAG asks at least {MIN_CONTRAST}:1")

    def css(self) -> str:
        """The `:host` rules that set the custom properties, dark scheme included."""
        schemes = self.schemes()
        shape = ";".join(f"--gk-{k}:{getattr(self, k) or v}" for k, v in SHAPE.items())

        def colours(scheme: str) -> str:
            return ";".join(f"--gk-{k.replace('_', '-')}:{v}" for k, v in schemes[scheme].items())

        if self.color_scheme != "auto":
            return f":host{{{shape};{colours(self.color_scheme)};color-scheme:{self.color_scheme}}}"
        return (f":host{{{shape};{colours('light')};color-scheme:light dark}}"
                f"@media (prefers-color-scheme:dark){{:host{{{colours('dark')}}}}}")


def expected(field: str, message: str) -> str | None:
    """A readable expectation for a msgspec error on a theme field, or None."""
    if not field.startswith("theme.") or "matching regex" not in message:
        return None
    name = field.rsplit(".", 1)[-1]
    kind = "FontList" if name == "font" else "Length" if name in ("radius", "spacing") else "Colour"
    return f"expected {EXPECTED[kind]}"


def _luminance(colour: str) -> float:
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)

    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.2 contrast ratio of two #rgb/#rrggbb colours (w3.org/TR/WCAG22/#dfn-contrast-ratio)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)

