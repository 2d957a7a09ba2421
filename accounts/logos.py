"""The organisation's logo (issue 8): check an upload, store it, remove it, and the URL the
header shows it at.

An upload is accepted only when its **content** is a PNG, JPEG or WebP image (Pillow reads
it; the file's name and the browser's content type are ignored), at most ``MAX_BYTES`` and
``MAX_SIDE`` pixels on each side; dimensions are checked from the header before any pixel
is decoded, so a decompression bomb is refused cheaply. SVG is refused: it can carry
scripts. The accepted image is re-encoded in its own format, which drops EXIF and other
metadata (the EXIF orientation is applied first). A refusal changes nothing.

The image is served at ``/logo/<first 16 hex digits of its SHA-256>.<ext>``: the URL changes
with the content, so browsers may cache it for a year.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import InboxItem, OrganizationLogo, User
from accounts.permissions import can_manage_organization_settings, require

MAX_BYTES = 512 * 1024
MAX_SIDE = 1024
HASH_IN_URL = 16
# Pillow's format name → (content type, file extension).
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
EXTENSIONS = {ext: content_type for content_type, ext in FORMATS.values()}
EXTENSION_OF = dict(FORMATS.values())  # content type → file extension


def _allowed() -> str:
    return _("Upload a PNG, JPEG or WebP image.")


def _refuse(message: str):
    raise ValidationError(message, code="invalid_logo")


def _read(upload) -> bytes:
    too_large = _("The image is larger than %(kb)d KB; make it smaller.") % {"kb": MAX_BYTES // 1024}
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        _refuse(too_large)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > MAX_BYTES:
        _refuse(too_large)
    if not data:
        _refuse(_("The file is empty.") + " " + _allowed())
    return data


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def logo_image_check(upload) -> tuple[bytes, str, int, int]:
    """(re-encoded bytes, content type, width, height) of an acceptable logo upload; raises
    ``ValidationError`` with what to do otherwise."""
    data = _read(upload)
    if _looks_like_svg(data):
        _refuse(_("SVG images are not accepted (they can contain scripts).") + " " + _allowed())
    try:
        image = _open(data)
        if image.format not in FORMATS:
            _refuse(_("This image format is not accepted.") + " " + _allowed())
        width, height = image.size
        if width > MAX_SIDE or height > MAX_SIDE:
            _refuse(
                _("The image is %(width)d×%(height)d pixels; at most %(max)d×%(max)d are accepted.")
                % {"width": width, "height": height, "max": MAX_SIDE}
            )
        image.verify()  # checks the file's structure (and the PNG checksums) without decoding
        image = _open(data)  # verify() leaves the image unusable: open it again to decode
        image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(_("The image has far too many pixels.") + " " + _allowed())
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError):
        _refuse(_("The file is not an image that can be read.") + " " + _allowed())
    return _reencoded(image)


def _reencoded(image: Image.Image) -> tuple[bytes, str, int, int]:
    """The image saved again in its own format, without metadata (EXIF, ICC, text chunks)."""
    fmt = image.format
    content_type, _ext = FORMATS[fmt]
    image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, format="PNG", optimize=True)
    elif fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=90, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, format="WEBP", quality=90)
    return out.getvalue(), content_type, image.width, image.height


def organization_logo_set(*, actor: User, upload) -> OrganizationLogo:
    """Replace the organisation's logo with ``upload`` (org admins). Nothing changes when the
    upload is refused."""
    require(can_manage_organization_settings(actor))
    content, content_type, width, height = logo_image_check(upload)
    with transaction.atomic():
        OrganizationLogo.objects.all().delete()
        logo = OrganizationLogo(
            content=content,
            content_type=content_type,
            sha256=hashlib.sha256(content).hexdigest(),
            width=width,
            height=height,
            uploaded_by=actor,
        )
        logo.full_clean()
        logo.save()
    return logo


def organization_logo_remove(*, actor: User) -> bool:
    """Remove the logo (org admins); False when there was none."""
    require(can_manage_organization_settings(actor))
    deleted, _by_model = OrganizationLogo.objects.all().delete()
    return bool(deleted)


def _newest_first():
    return OrganizationLogo.objects.order_by("-uploaded_at", "-pk")


def current_logo(*, with_content: bool = False) -> OrganizationLogo | None:
    logos = _newest_first()
    if not with_content:
        logos = logos.defer("content")
    return logos.first()


def logo_url(sha256: str | None, content_type: str | None) -> str:
    """The logo's address ("" without a logo)."""
    if not sha256 or content_type not in EXTENSION_OF:
        return ""
    return reverse(
        "organization_logo", kwargs={"key": sha256[:HASH_IN_URL], "ext": EXTENSION_OF[content_type]}
    )


def header_state(user_id: int) -> tuple[int, str | None, str | None]:
    """What the header of every page needs: ``user_id``'s unread inbox items, and the current
    logo's hash and content type (None, None without one). One statement written out: the
    same query built with the ORM cost ~4 ms of Python on each page, a fifth of a cached one."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT count(*) FROM {InboxItem._meta.db_table}
                    WHERE user_id = %s AND read_at IS NULL),
                   logo.sha256, logo.content_type
            FROM (SELECT 1) AS one
            LEFT JOIN (SELECT sha256, content_type FROM {OrganizationLogo._meta.db_table}
                       ORDER BY uploaded_at DESC, id DESC LIMIT 1) AS logo ON true  -- _newest_first
            """,  # noqa: S608 - table names from model metadata
            [user_id],
        )
        return cursor.fetchone()
