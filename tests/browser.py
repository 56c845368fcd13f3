"""Helpers for the browser tests: Debian's Chromium driven by Playwright, guarded to loopback, and a PNG reader.

The fixtures that use them (`browser`, `new_page`, `page`, `page_without_js`, `outbound_requests`,
`console_errors`) are in conftest.py. `make test` installs Debian's `chromium` when it is missing; Playwright's
own browsers are never downloaded.
"""

import re
import shutil
import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import urlsplit

# Debian's Chromium: `make test` installs it with apt-get (package chromium) when it is missing.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Headless, as root (no sandbox), and quiet on the network: no background fetches, updates, sync or QUIC,
# and no name but the loopback ones resolves, so a page cannot reach out even past the route guard.
# Playwright gives each launch a new, empty temporary --user-data-dir of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

VIEWPORT = {"width": 1280, "height": 900}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


def is_loopback(url: str) -> bool:
    """Whether fetching url stays on this machine: a loopback host, or a data:, blob: or about: URL."""
    parts = urlsplit(url)
    return parts.scheme in _LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


def guard_context(context, outbound: list[str]) -> None:
    """Let a Playwright BrowserContext reach loopback only: abort any other request, and record its URL."""

    def on_request(route) -> None:
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            outbound.append(url)
            route.abort("blockedbyclient")

    def on_web_socket(socket_route) -> None:
        if is_loopback(socket_route.url):
            socket_route.connect_to_server()
        else:
            outbound.append(socket_route.url)
            socket_route.close()

    context.route("**/*", on_request)
    context.route_web_socket(re.compile(".*"), on_web_socket)


@dataclass(frozen=True)
class Image:
    """A decoded 8-bit PNG: size, bytes per pixel and the pixel rows (unfiltered)."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    def colours(self) -> set[bytes]:
        """The distinct pixel values (each channels bytes long)."""
        step = self.channels
        found: set[bytes] = set()
        for row in self.rows:
            found.update(row[i : i + step] for i in range(0, len(row), step))
        return found


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
_LOW7 = 0x7F
_HIGH1 = 0x80


def read_png(data: bytes) -> Image:
    """Decode a non-interlaced, 8-bit PNG (what Chromium's screenshots are), checking every chunk's CRC.

    Raises ValueError on anything that is not a well-formed PNG of that kind.
    """
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG: wrong signature")
    position, header, compressed, ended = len(_PNG_SIGNATURE), None, [], False
    while position < len(data):
        if position + 12 > len(data):
            raise ValueError("truncated chunk")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if position + 12 + length > len(data):
            raise ValueError(f"chunk {kind!r} is truncated")
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"chunk {kind!r} fails its CRC")
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            ended = True
            break
    if header is None or not compressed or not ended:
        raise ValueError("a PNG needs IHDR, IDAT and IEND chunks")
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in _CHANNELS or interlace != 0 or not width or not height:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    channels = _CHANNELS[colour_type]
    try:
        raw = zlib.decompress(b"".join(compressed))
    except zlib.error as error:
        raise ValueError(f"image data does not inflate: {error}") from None
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"image data is {len(raw)} bytes, {height * (stride + 1)} expected")
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(row)
        previous = row
    return Image(width, height, channels, rows)


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    """Undo one scanline's PNG filter (RFC 2083, 6.3); None, Sub and Up without a Python loop per byte."""
    if kind == 0:
        return line
    if kind == 2:  # Up: add the bytes above, modulo 256, as one big-integer sum without carries between bytes
        size = len(line)
        low7, high1 = int.from_bytes(bytes([_LOW7]) * size, "big"), int.from_bytes(bytes([_HIGH1]) * size, "big")
        a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
        return (((a & low7) + (b & low7)) ^ ((a ^ b) & high1)).to_bytes(size, "big")
    if kind == 1:  # Sub: a running sum of each channel, modulo 256
        out = bytearray(len(line))
        for channel in range(bpp):
            out[channel::bpp] = bytes(map((255).__and__, accumulate(line[channel::bpp])))
        return bytes(out)
    out = bytearray(line)
    if kind == 3:  # Average
        for i in range(len(out)):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + previous[i]) >> 1)) & 255
        return bytes(out)
    if kind == 4:  # Paeth
        for i in range(len(out)):
            if i >= bpp:
                left, up_left = out[i - bpp], previous[i - bpp]
            else:
                left = up_left = 0
            up = previous[i]
            estimate = left + up - up_left
            to_left, to_up, to_up_left = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
            if to_left <= to_up and to_left <= to_up_left:
                predictor = left
            elif to_up <= to_up_left:
                predictor = up
            else:
                predictor = up_left
            out[i] = (out[i] + predictor) & 255
        return bytes(out)
    raise ValueError(f"unknown PNG filter type {kind}")


def tab_to(page, target, presses: int = 30) -> int:
    """Press Tab on page until the Playwright Locator target has the focus (document.activeElement); return
    how many presses it took, or fail after presses presses. Needs JavaScript enabled (page, not page_without_js)."""
    for count in range(1, presses + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return count
    focused = page.evaluate("document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : null")
    raise AssertionError(f"{target} not reached after {presses} Tab presses; the focus is on {focused}")


def record_csp_violations(page, violations: list[str]) -> None:
    """Record in violations each Content-Security-Policy violation page's documents report, on every navigation
    (the securitypolicyviolation event: directive, blocked URL, sample), whatever the browser logs."""

    def record(text: str) -> None:
        violations.append(text)

    page.expose_function("policykgCspViolation", record)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', event => window.policykgCspViolation("
        "`${event.violatedDirective} ${event.blockedURI} ${event.sample} at ${event.documentURI}`));"
    )
