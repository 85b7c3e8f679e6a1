"""Reading the text of a QR code from an uploaded image (zxing-cpp).

Uploads are untrusted: the image type is sniffed from its bytes (never from
the file name or the declared type), and the byte size and pixel count are
limited before the image is decoded.
"""

import io
import logging
import warnings
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

#: Largest upload accepted, in bytes. A phone screenshot of a QR code is
#: well under 1 MB as PNG.
MAX_IMAGE_BYTES: Final = 2 * 1024 * 1024
#: Largest image accepted, in pixels: a 12-megapixel phone photo fits.
MAX_IMAGE_PIXELS: Final = 16_000_000
#: Image formats accepted, as Pillow names them.
ALLOWED_FORMATS: Final = frozenset({"PNG", "JPEG", "GIF", "WEBP", "BMP"})


class QrImageError(ValueError):
    """An upload that is not an image holding a readable QR code."""


def read_qr_text(data: bytes) -> str:
    """Return the text of the first QR code found in an image.

    :raises QrImageError: if the upload is empty, too large, not one of
        :data:`ALLOWED_FORMATS`, unreadable, or holds no readable QR code.
    """
    if not data:
        raise QrImageError(
            "The uploaded file is empty; choose a PNG, JPEG, GIF, WebP or BMP image."
        )
    if len(data) > MAX_IMAGE_BYTES:
        raise QrImageError(
            f"The image is {len(data):,} bytes; the limit is {MAX_IMAGE_BYTES:,}. "
            "Crop it to the QR code or save it as PNG."
        )
    image = _open_image(data)
    results = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    texts = [result.text for result in results if result.valid and result.text]
    if not texts:
        raise QrImageError(
            "No readable QR code was found in the image; photograph the code "
            "straight on, filling most of the picture, or paste its text instead."
        )
    if len(texts) > 1:
        logger.info("image held %d QR codes; the first was used", len(texts))
    return texts[0]


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns before its own decompression-bomb limit; the
            # explicit pixel check below decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise QrImageError(
                    f"The upload is a {image.format or 'unknown'} image; send PNG, "
                    "JPEG, GIF, WebP or BMP."
                )
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise QrImageError(
                    f"The image is {width}x{height} pixels; the limit is "
                    f"{MAX_IMAGE_PIXELS:,} pixels. Crop it to the QR code."
                )
            image.load()
    except QrImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise QrImageError(
            "The upload is not an image this page can read; send a PNG, JPEG, "
            "GIF, WebP or BMP image of the QR code."
        ) from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise QrImageError(
            f"The image is damaged or truncated ({type(error).__name__}); take "
            "the picture again."
        ) from error
    return image.convert("L")
