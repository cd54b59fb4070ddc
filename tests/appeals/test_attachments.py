"""A request's files: judged by their bytes, size- and count-limited, named safely, stored
behind the store interface, and shown to a bank only when the enterprise allowed it."""

import pytest

from service.appeals import storage
from service.appeals.attachments import MAX_FILES, clean_filename
from service.core.settings import get_settings
from tests.appeals.conftest import Parties, charge_request, step

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _raised(p: Parties, **overrides) -> int:
    return p.firm.post("/api/v1/requests", json=charge_request(p.bank_code, **overrides)).json()[
        "id"
    ]


def _attach(
    client, rid: int, content: bytes, name: str = "发票.pdf", media: str = "application/pdf"
):
    return client.post(
        f"/api/v1/requests/{rid}/attachments", files={"file": (name, content, media)}
    )


def test_a_pdf_and_images_are_kept_and_read_back(parties: Parties, memory_store) -> None:
    p = parties
    rid = _raised(p)
    for content, media in ((PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")):
        made = _attach(p.firm, rid, content, "收费凭证", "application/octet-stream")
        assert made.status_code == 201, made.text
        assert made.json()["media_type"] == media
        back = p.firm.get(made.json()["url"])
        assert back.status_code == 200 and back.content == content
        assert back.headers["content-type"].startswith(media)
        assert back.headers["content-disposition"].startswith("attachment;")
        assert back.headers["x-content-type-options"] == "nosniff"
    assert len(memory_store.files) == 3
    shown = p.firm.get(f"/api/v1/requests/{rid}").json()
    assert len(shown["attachments"]) == 3
    assert [e["kind"] for e in shown["events"]].count("attached") == 3


@pytest.mark.parametrize(
    "content",
    [
        b"just text pretending to be a PDF",
        b"<html><script>alert(1)</script></html>",
        b"PK\x03\x04 a zip or an xlsx",
        b"MZ\x90\x00 an exe",
    ],
)
def test_what_is_not_a_pdf_or_image_is_refused(parties: Parties, memory_store, content) -> None:
    p = parties
    rid = _raised(p)
    refused = _attach(p.firm, rid, content, "invoice.pdf")
    assert refused.status_code == 415 and refused.json()["code"] == "unsupported_attachment"
    assert memory_store.files == {}
    assert p.firm.get(f"/api/v1/requests/{rid}").json()["attachments"] == []


def test_empty_too_large_and_too_many(parties: Parties, memory_store, monkeypatch) -> None:
    p = parties
    rid = _raised(p)
    assert _attach(p.firm, rid, b"").status_code == 422
    monkeypatch.setattr(get_settings(), "attachment_max_bytes", 2048)
    large = _attach(p.firm, rid, PDF + b"0" * 2048)
    assert large.status_code == 413 and large.json()["code"] == "attachment_too_large"
    for _ in range(MAX_FILES):
        assert _attach(p.firm, rid, PDF).status_code == 201
    extra = _attach(p.firm, rid, PDF)
    assert extra.status_code == 409 and extra.json()["code"] == "too_many_attachments"
    assert len(memory_store.files) == MAX_FILES


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\王\\收据.pdf", "收据.pdf"),
        ("bad\x00name\x1f.pdf", "badname.pdf"),
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("...", "附件.pdf"),
        ("", "附件.pdf"),
        ("长" * 300 + ".pdf", ("长" * 300 + ".pdf")[-120:]),
    ],
)
def test_file_names_are_made_safe(name: str, shown: str) -> None:
    assert clean_filename(name, "application/pdf") == shown


def test_the_store_never_takes_a_name_as_a_path(tmp_path) -> None:
    disk = storage.DiskStore(tmp_path)
    key = storage.new_key()
    disk.put(key, PDF)
    assert disk.get(key) == PDF
    assert (tmp_path / key[:2] / key).read_bytes() == PDF
    for bad in ("../x", "a" * 32 + "/..", "/etc/passwd", "ABCDEF" * 6):
        with pytest.raises(ValueError):
            disk.get(bad)


def test_a_bank_sees_the_enterprises_files_only_when_allowed(parties: Parties) -> None:
    p = parties
    hidden, shown = _raised(p, show_to_bank=False), _raised(p, show_to_bank=True)
    files = {rid: _attach(p.firm, rid, PDF).json() for rid in (hidden, shown)}
    for rid in (hidden, shown):
        step(p.office, rid, action="accept", category_code="charges")
        step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    assert p.bank.get(f"/api/v1/requests/{hidden}").json()["attachments"] == []
    assert p.bank.get(files[hidden]["url"]).status_code == 404
    assert p.bank.get(files[shown]["url"]).status_code == 200
    # the bank's own evidence it always sees; another bank sees nothing
    own = _attach(p.bank, hidden, PNG, "退款凭证.png", "image/png")
    assert own.status_code == 201
    assert [a["id"] for a in p.bank.get(f"/api/v1/requests/{hidden}").json()["attachments"]] == [
        own.json()["id"]
    ]
    assert p.other_bank.get(own.json()["url"]).status_code == 404
    assert _attach(p.other_bank, hidden, PDF).status_code == 404
    assert p.other_firm.get(files[shown]["url"]).status_code == 404


def test_no_files_after_the_request_ended(parties: Parties) -> None:
    p = parties
    rid = _raised(p)
    step(p.firm, rid, action="withdraw", text="已与银行协商解决")
    refused = _attach(p.firm, rid, PDF)
    assert refused.status_code == 409 and refused.json()["code"] == "request_closed"


def test_a_retried_upload_is_kept_once(parties: Parties, memory_store) -> None:
    p = parties
    rid = _raised(p)
    headers = {"Idempotency-Key": "upload-1"}
    files = {"file": ("a.pdf", PDF, "application/pdf")}
    first = p.firm.post(f"/api/v1/requests/{rid}/attachments", files=files, headers=headers)
    second = p.firm.post(f"/api/v1/requests/{rid}/attachments", files=files, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"] and len(memory_store.files) == 1
