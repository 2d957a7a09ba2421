"""Organisation logo (issue 8): org admins upload a PNG, JPEG or WebP image (checked from its
content, re-encoded without metadata, at most 512 KB and 1024×1024 px; SVG refused); it is
stored in the organisation's schema, shown in the header at no extra query, served only to
the organisation's signed-in people, and can be removed."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from accounts.models import OrganizationLogo
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

ADMIN = "ceo@acme.example"
NOTIFICATIONS_QUERIES = 7  # as in tests/accounts/test_views_settings.py: the logo adds none


def image_bytes(fmt: str, size=(40, 20), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode != "1" else 1).save(out, format=fmt, **save)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims ``width``×``height`` pixels (a decompression bomb)."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def logos(organization) -> list[tuple]:
    with tenant_context(organization):
        rows = list(OrganizationLogo.objects.values_list("content_type", "sha256", "width", "height"))
    connection.set_schema_to_public()
    return rows


@pytest.fixture
def admin_client(acme) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, ADMIN)
    return client


def post_logo(client: Client, name: str, content: bytes, content_type: str = "image/png"):
    return client.post("/settings/logo/", {"image": upload(name, content, content_type)})


@pytest.mark.parametrize(
    ("fmt", "name", "content_type", "ext"),
    [("PNG", "logo.png", "image/png", "png"), ("JPEG", "logo.jpeg", "image/jpeg", "jpg"),
     ("WEBP", "logo.webp", "image/webp", "webp")],
)  # fmt: skip
def test_an_admin_uploads_a_png_jpeg_or_webp_logo_and_the_header_shows_it(
    acme, admin_client, fmt, name, content_type, ext
):
    response = post_logo(admin_client, name, image_bytes(fmt), "application/octet-stream")

    assert response.status_code == 302
    [(stored_type, sha256, width, height)] = logos(acme)
    assert (stored_type, width, height) == (content_type, 40, 20)
    page = admin_client.get("/settings/notifications/").content.decode()
    assert f'src="/logo/{sha256[:16]}.{ext}"' in page
    assert 'data-testid="org-logo"' in page


def test_the_logo_is_served_with_immutable_cache_headers_and_no_metadata(acme, admin_client):
    exif = Image.Exif()
    exif[0x010E] = "secret camera note"  # ImageDescription
    post_logo(admin_client, "photo.jpg", image_bytes("JPEG", exif=exif.tobytes()), "image/jpeg")
    [(_type, sha256, _w, _h)] = logos(acme)

    response = admin_client.get(f"/logo/{sha256[:16]}.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="logo.jpg"'
    assert b"secret camera note" not in response.content
    assert Image.open(io.BytesIO(response.content)).getexif() == {}
    # Another address (an old logo's, a wrong extension) is a 404.
    assert admin_client.get(f"/logo/{'0' * 16}.jpg").status_code == 404
    assert admin_client.get(f"/logo/{sha256[:16]}.png").status_code == 404


REFUSALS = [
    (
        "fake.png",
        b"just some text pretending to be a PNG\n",
        "The file is not an image that can be read. Upload a PNG, JPEG or WebP image.",
    ),
    (
        "logo.svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "SVG images are not accepted (they can contain scripts). Upload a PNG, JPEG or WebP image.",
    ),
    ("logo.png", b"", "The file is empty."),
    ("anim.gif", image_bytes("GIF"), "This image format is not accepted. Upload a PNG, JPEG or WebP image."),
    ("big.png", image_bytes("PNG", size=(1025, 10)), "The image is 1025×10 pixels; at most 1024×1024"),
    ("bomb.png", png_claiming(200_000, 200_000), "The image has far too many pixels."),
    ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (512 * 1024), "The image is larger than 512 KB"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_upload_says_why_and_changes_nothing(acme, admin_client, name, content, message):
    post_logo(admin_client, "first.png", image_bytes("PNG"))
    before = logos(acme)

    response = post_logo(admin_client, name, content)

    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert logos(acme) == before


def test_an_empty_file_field_is_a_form_error(acme, admin_client):
    response = admin_client.post("/settings/logo/", {})

    assert response.status_code == 422
    assert logos(acme) == []


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_people_who_are_not_org_admins_cannot_upload_or_remove(acme, admin_client, email):
    post_logo(admin_client, "first.png", image_bytes("PNG"))
    before = logos(acme)
    client = Client(HTTP_HOST="acme.localhost")
    sign_in(client, acme, email)

    assert client.get("/settings/logo/").status_code == 403
    assert post_logo(client, "other.png", image_bytes("PNG", size=(5, 5))).status_code == 403
    assert client.post("/settings/logo/remove/").status_code == 403
    assert logos(acme) == before
    # They do see the logo itself.
    assert client.get(f"/logo/{before[0][1][:16]}.png").status_code == 200


def test_the_logo_is_served_to_its_own_organisation_only(acme, globex, admin_client):
    post_logo(admin_client, "logo.png", image_bytes("PNG"))
    [(_type, sha256, _w, _h)] = logos(acme)
    url = f"/logo/{sha256[:16]}.png"
    other = Client(HTTP_HOST="globex.localhost")
    sign_in(other, globex, "ceo@globex.example")

    assert other.get(url).status_code == 404
    assert Client(HTTP_HOST="acme.localhost").get(url).status_code == 404  # signed out
    assert Client(HTTP_HOST="localhost").get(url).status_code == 404  # public host
    assert 'data-testid="org-logo"' not in other.get("/settings/notifications/").content.decode()


def test_remove_takes_the_logo_off_the_header(acme, admin_client):
    post_logo(admin_client, "logo.png", image_bytes("PNG"))
    [(_type, sha256, _w, _h)] = logos(acme)

    response = admin_client.post("/settings/logo/remove/", follow=True)

    assert "Logo removed." in response.content.decode()
    assert logos(acme) == []
    assert 'data-testid="org-logo"' not in response.content.decode()
    assert admin_client.get(f"/logo/{sha256[:16]}.png").status_code == 404


def test_replacing_the_logo_keeps_one_and_changes_its_address(acme, admin_client):
    post_logo(admin_client, "a.png", image_bytes("PNG"))
    post_logo(admin_client, "b.png", image_bytes("PNG", size=(10, 10)))

    [(_type, sha256, width, height)] = logos(acme)
    assert (width, height) == (10, 10)
    assert f"/logo/{sha256[:16]}.png" in admin_client.get("/settings/logo/").content.decode()


def test_the_header_costs_no_extra_query_with_a_logo(acme, admin_client):
    _response, without_logo = get_counting(admin_client, "/settings/notifications/")
    post_logo(admin_client, "logo.png", image_bytes("PNG"))

    response, with_logo = get_counting(admin_client, "/settings/notifications/")

    assert 'data-testid="org-logo"' in response.content.decode()
    assert without_logo == with_logo == NOTIFICATIONS_QUERIES
