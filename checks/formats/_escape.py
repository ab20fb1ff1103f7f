"""Making hostile text safe to show: student output and messages quoting it.

A submission controls its printed output and its exception messages, and the grader's
messages quote both. Every writer therefore passes text through `printable` first: no
terminal escape sequence, carriage return or bidirectional override reaches a screen,
and no character that XML forbids or UTF-8 cannot encode reaches a file.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["exact_number", "number", "one_line", "printable"]

# C0 controls but tab and newline, DEL and the C1 controls (0x9b is a one-byte CSI),
# bidirectional embeddings, overrides and isolates ("Trojan source"), the two
# noncharacters XML 1.0 forbids, and lone surrogates (undecodable bytes).
_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""`text` with every unsafe character shown as an escape (`\x1b`), newlines kept.

    Windows line ends become plain newlines; lone surrogates become U+FFFD. The result
    is valid in XML 1.0, encodable in UTF-8, and inert on a terminal.
    """
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def one_line(text: str) -> str:
    r"""`printable(text)` on one line: newlines and tabs shown as `\n` and `\t` too."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def number(value: float) -> str:
    """A number of points for people: `1`, `0.5`, `0.333333` (six significant digits)."""
    return f"{value:g}"


def exact_number(value: float) -> str:
    """A number of points for machines: `1`, `0.5`, `0.3333333333333333` (round-trips)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
