"""QR code images of single credentials, for showing from a phone.

Each QR code contains :func:`credentials.qr_payload.encode_credential` of the
signed credential at error correction level M (15% of the code may be
damaged and still read). A laptop webcam reads about version 13 from a
phone screen, so larger codes are logged: they still work, but less well.
"""

import io
import logging
from dataclasses import dataclass
from typing import Any, Final

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from credentials.qr_payload import encode_credential

logger = logging.getLogger(__name__)

#: The largest QR version a laptop webcam reliably reads from a phone screen.
TARGET_MAX_VERSION: Final = 13
#: Pixels per QR module. A version 13 code (69 modules and a 4-module quiet
#: zone each side) then renders 616 pixels wide, sharp on any phone.
BOX_SIZE: Final = 8
QUIET_ZONE_MODULES: Final = 4


@dataclass(frozen=True)
class CredentialQr:
    """A rendered QR code: the PNG, its width in pixels, its QR version and
    the text it holds."""

    png: bytes
    width: int
    version: int
    payload: str


def qr_version_for(payload: str) -> int:
    """Return the smallest QR version that fits ``payload`` at level M."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    code.add_data(payload)
    # best_fit sizes the data against each version's capacity without
    # drawing the symbol, which make() would do eight times (once per mask).
    return int(code.best_fit())


def credential_qr(credential: dict[str, Any]) -> CredentialQr:
    """Render the QR code of a signed credential as a PNG.

    :raises credentials.qr_payload.QrPayloadTooLarge: if the credential does
        not fit in any QR code.
    """
    # The payload uses only QR alphanumeric characters, which qrcode detects,
    # so the whole text is one alphanumeric segment (5.5 bits a character).
    qr = render_qr(encode_credential(credential))
    if qr.version > TARGET_MAX_VERSION:
        logger.warning(
            "credential QR code is version %d, above the target %d; webcams "
            "may not read it from a phone",
            qr.version,
            TARGET_MAX_VERSION,
        )
    return qr


def render_qr(payload: str) -> CredentialQr:
    """Render ``payload`` as a QR code PNG at level M, in the smallest version."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=QUIET_ZONE_MODULES
    )
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return CredentialQr(
        png=buffer.getvalue(),
        width=image.pixel_size,
        version=int(code.version),
        payload=payload,
    )
