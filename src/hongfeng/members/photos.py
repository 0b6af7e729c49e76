"""Member photos (security.md uploads): an allow-list of image types, size and pixel caps,
re-encoded to a fresh JPEG so that EXIF (GPS position, device) and anything hidden in the file
are dropped; stored privately and served only through an access-checked view."""

import io
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from hongfeng.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; beyond that, decompression bombs
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
BOX = (600, 800)


def reencode(content: bytes) -> bytes:
    """A clean JPEG of at most 600×800 from an uploaded image, or a DomainError."""
    if not content:
        raise DomainError("请选择照片。", code="file_required", field="photo")
    if len(content) > MAX_BYTES:
        raise DomainError("照片不能超过 5 MB。", code="file_too_large", field="photo")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            kind = probe.format
            width, height = probe.size
        if kind not in ALLOWED_FORMATS:
            raise DomainError(
                "只接受 JPEG、PNG 或 WebP 格式的照片。", code="invalid_image", field="photo"
            )
        if width * height > MAX_PIXELS:
            raise DomainError("照片分辨率过高。", code="invalid_image", field="photo")
        with Image.open(io.BytesIO(content)) as image:
            image = ImageOps.exif_transpose(image)  # keep the orientation, lose the EXIF
            image = image.convert("RGB")
            image.thumbnail(BOX)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DomainError(
            "无法识别该图片，请换一张 JPEG 或 PNG 照片。", code="invalid_image", field="photo"
        ) from None
    return out.getvalue()


def store(jpeg: bytes) -> str:
    """Save under an unguessable name; returns the storage name."""
    return default_storage.save(f"members/photos/{uuid.uuid4().hex}.jpg", ContentFile(jpeg))


def delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()
