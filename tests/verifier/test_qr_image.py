import io

import pytest
from PIL import Image

from verifier.qr_image import MAX_IMAGE_BYTES, QrImageError, read_qr_text
from wallet_web.qr import credential_qr


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_reads_qr_text(seeded):
    qr = credential_qr(seeded.documents["valid"])
    assert read_qr_text(qr.png) == qr.payload


def test_reads_jpeg_photo_of_qr(seeded):
    qr = credential_qr(seeded.documents["valid"])
    image = (
        Image.open(io.BytesIO(qr.png))
        .convert("RGB")
        .rotate(7, expand=True, fillcolor="white")
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    assert read_qr_text(buffer.getvalue()) == qr.payload


def test_empty_upload_rejected():
    with pytest.raises(QrImageError, match="empty"):
        read_qr_text(b"")


def test_oversized_upload_rejected():
    with pytest.raises(QrImageError, match="limit"):
        read_qr_text(b"\x89PNG" + bytes(MAX_IMAGE_BYTES))


def test_text_file_rejected():
    with pytest.raises(QrImageError, match="not an image"):
        read_qr_text(b"SP1:THIS IS TEXT, NOT AN IMAGE")


@pytest.mark.parametrize("data", [b"", b"plain text"])
def test_rejection_lists_every_format(data):
    with pytest.raises(QrImageError) as raised:
        read_qr_text(data)
    for name in ("PNG", "JPEG", "GIF", "WebP", "BMP"):
        assert name in str(raised.value)


def test_unlisted_format_rejected():
    buffer = io.BytesIO()
    Image.new("L", (10, 10), 255).save(buffer, format="TIFF")
    with pytest.raises(QrImageError, match="TIFF"):
        read_qr_text(buffer.getvalue())


def test_too_many_pixels_rejected():
    data = _png(Image.new("1", (5000, 4000), 1))
    assert len(data) < MAX_IMAGE_BYTES
    with pytest.raises(QrImageError, match="5000x4000"):
        read_qr_text(data)


def test_truncated_png_rejected(seeded):
    qr = credential_qr(seeded.documents["valid"])
    with pytest.raises(QrImageError, match="damaged or truncated"):
        read_qr_text(qr.png[: len(qr.png) // 2])


def test_image_without_qr_rejected():
    with pytest.raises(QrImageError, match="No readable QR code"):
        read_qr_text(_png(Image.new("L", (300, 300), 255)))
