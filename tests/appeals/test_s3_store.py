"""Attachments in an S3-compatible bucket: the same contract as the disk (round trip, missing
key, bad key), objects under the configured prefix with their media type and no public grant,
the endpoint-URL path (MinIO, OSS) against moto's server over HTTP, the API storing and
serving through the bucket, a store that cannot be reached or refuses us giving a 503 and no
row, and settings that stop the start when they cannot work.

Nothing here leaves the machine: moto's in-process mock or its server on 127.0.0.1, fake
credentials, and no instance-metadata lookup."""

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer
from pydantic import ValidationError
from sqlmodel import Session, select

from service.appeals import storage
from service.appeals.models import AppealAttachment
from service.core.settings import Settings, get_settings
from tests.appeals.conftest import Parties, charge_request
from tests.conftest import changed, row_counts

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
REGION = "cn-north-1"


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials through the standard chain (the environment), and nothing else of this
    machine's: no ~/.aws files, no instance-metadata address."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def s3() -> Iterator[Any]:
    """A client of moto's in-process S3 (every boto3 client made meanwhile talks to it)."""
    with mock_aws():
        yield boto3.client("s3", region_name=REGION)


def _new_bucket(client: Any) -> str:
    name = f"finmatch-{uuid.uuid4().hex[:12]}"
    client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": client.meta.region_name}
    )
    return name


@pytest.fixture
def bucket(s3: Any) -> str:
    return _new_bucket(s3)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's S3 as an HTTP server on this machine: the endpoint-URL path a MinIO takes."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the store -------------------------------------------------------------------------------


@pytest.fixture(params=["disk", "memory", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> storage.AttachmentStore:
    if request.param == "disk":
        return storage.DiskStore(tmp_path)
    if request.param == "memory":
        return storage.MemoryStore()
    client = request.getfixturevalue("s3")
    return storage.S3Store(_new_bucket(client), "attachments", region=REGION)


def test_every_store_keeps_one_contract(any_store: storage.AttachmentStore) -> None:
    key, large = storage.new_key(), PDF + bytes(range(256)) * 8192  # 2 MB of every byte
    any_store.put(key, large)
    assert any_store.get(key) == large
    any_store.put(key, PNG)  # a key written again holds the new bytes
    assert any_store.get(key) == PNG
    with pytest.raises(FileNotFoundError):
        any_store.get(storage.new_key())
    for bad in ("../x", "a" * 32 + "/..", "/etc/passwd", "ABCDEF" * 6, ""):
        with pytest.raises(ValueError):
            any_store.put(bad, PDF)
        with pytest.raises(ValueError):
            any_store.get(bad)


def test_objects_sit_under_the_prefix_with_their_media_type(s3: Any, bucket: str) -> None:
    store = storage.S3Store(bucket, "/finmatch/attachments/", region=REGION)
    files = {storage.new_key(): PDF, storage.new_key(): PNG, storage.new_key(): b"plain text"}
    for key, content in files.items():
        store.put(key, content)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"finmatch/attachments/{k}" for k in files)
    types = {}
    for key, content in files.items():
        head = s3.head_object(Bucket=bucket, Key=f"finmatch/attachments/{key}")
        assert head["ContentLength"] == len(content)
        types[content] = head["ContentType"]
    assert types == {
        PDF: "application/pdf",
        PNG: "image/png",
        b"plain text": "application/octet-stream",
    }
    top = storage.S3Store(bucket, "", region=REGION)
    key = storage.new_key()
    top.put(key, PDF)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PDF


def test_objects_are_granted_to_nobody_but_the_owner(s3: Any, bucket: str) -> None:
    store = storage.S3Store(bucket, "attachments", region=REGION)
    key = storage.new_key()
    store.put(key, PDF)
    acl = s3.get_object_acl(Bucket=bucket, Key=f"attachments/{key}")
    assert [g["Grantee"]["Type"] for g in acl["Grants"]] == ["CanonicalUser"]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]


@pytest.mark.parametrize("style", ["path", "auto"])
def test_a_store_at_an_endpoint_url(moto_server: str, style: str) -> None:
    client = boto3.client("s3", endpoint_url=moto_server, region_name=REGION)
    name = _new_bucket(client)
    store = storage.S3Store(
        name, "fm", endpoint_url=moto_server, region=REGION, addressing_style=style
    )
    assert store.client.meta.endpoint_url == moto_server
    key = storage.new_key()
    store.put(key, PNG)
    assert store.get(key) == PNG
    assert client.head_object(Bucket=name, Key=f"fm/{key}")["ContentType"] == "image/png"
    with pytest.raises(FileNotFoundError):
        store.get(storage.new_key())


def _denied(store: storage.S3Store) -> Stubber:
    stub = Stubber(store.client)
    stub.add_client_error("put_object", "AccessDenied", "Access Denied", 403)
    stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    stub.activate()
    return stub


def test_a_store_that_cannot_be_used_says_so(s3: Any, tmp_path: Path) -> None:
    missing_bucket = storage.S3Store("finmatch-no-such-bucket", region=REGION)
    denied = storage.S3Store(_new_bucket(s3), region=REGION)
    _denied(denied)
    key = storage.new_key()
    for store in (missing_bucket, denied):
        with pytest.raises(storage.StoreUnavailable):
            store.put(key, PDF)
        with pytest.raises(storage.StoreUnavailable):  # not "missing": we could not look
            store.get(key)
    (tmp_path / "a-file").write_bytes(b"")
    disk = storage.DiskStore(tmp_path / "a-file")  # a root that cannot be a directory
    with pytest.raises(storage.StoreUnavailable):
        disk.put(key, PDF)
    assert list(tmp_path.iterdir()) == [tmp_path / "a-file"]


def test_an_unreachable_endpoint_is_unavailable() -> None:
    store = storage.S3Store(
        "finmatch-attachments", endpoint_url=f"http://127.0.0.1:{_closed_port()}", region=REGION
    )
    with pytest.raises(storage.StoreUnavailable):
        store.put(storage.new_key(), PDF)


# --- through the API -------------------------------------------------------------------------


def _raised(p: Parties) -> int:
    return p.firm.post("/api/v1/requests", json=charge_request(p.bank_code)).json()["id"]


def _attach(client: Any, rid: int, content: bytes = PDF, **headers: str) -> Any:
    return client.post(
        f"/api/v1/requests/{rid}/attachments",
        files={"file": ("收费凭证.pdf", content, "application/pdf")},
        headers=headers,
    )


@pytest.fixture
def configure(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., storage.AttachmentStore]]:
    """Choose the store by the settings, as a deployment does, and return what the service
    then uses."""

    def choose(**values: str) -> storage.AttachmentStore:
        for name, value in values.items():
            monkeypatch.setattr(get_settings(), name, value)
        storage.use_store(None)  # the next use builds the configured one
        return storage.get_store()

    yield choose
    storage.use_store(None)


def test_files_go_to_the_configured_bucket_and_come_back(
    parties: Parties, session: Session, moto_server: str, configure
) -> None:
    client = boto3.client("s3", endpoint_url=moto_server, region_name=REGION)
    name = _new_bucket(client)
    store = configure(
        attachment_store="s3",
        attachment_s3_bucket=name,
        attachment_s3_endpoint_url=moto_server,
        attachment_s3_region=REGION,
        attachment_s3_prefix="finmatch/attachments",
        attachment_s3_addressing_style="path",
    )
    assert isinstance(store, storage.S3Store)
    p = parties
    rid = _raised(p)
    made = _attach(p.firm, rid, PNG)
    assert made.status_code == 201, made.text
    row = session.get(AppealAttachment, made.json()["id"])
    assert row is not None and row.size_bytes == len(PNG)
    kept = client.get_object(Bucket=name, Key=f"finmatch/attachments/{row.storage_key}")
    assert kept["Body"].read() == PNG and kept["ContentType"] == "image/png"
    back = p.firm.get(made.json()["url"])
    assert back.status_code == 200 and back.content == PNG
    assert back.headers["content-type"].startswith("image/png")


def _broken(kind: str, s3: Any, tmp_path: Path) -> storage.AttachmentStore:
    if kind == "no_bucket":
        return storage.S3Store("finmatch-no-such-bucket", "attachments", region=REGION)
    if kind == "denied":
        store = storage.S3Store(_new_bucket(s3), "attachments", region=REGION)
        stub = Stubber(store.client)
        stub.add_client_error("put_object", "AccessDenied", "Access Denied", 403)
        stub.activate()
        return store
    if kind == "unreachable":
        endpoint = f"http://127.0.0.1:{_closed_port()}"
        return storage.S3Store("finmatch-attachments", endpoint_url=endpoint, region=REGION)
    (tmp_path / "a-file").write_bytes(b"")
    return storage.DiskStore(tmp_path / "a-file")


@pytest.mark.parametrize("kind", ["no_bucket", "denied", "unreachable", "disk_unwritable"])
def test_an_upload_the_store_refuses_is_a_503_and_leaves_no_row(
    parties: Parties, session: Session, s3: Any, tmp_path: Path, kind: str
) -> None:
    p = parties
    rid = _raised(p)
    storage.use_store(_broken(kind, s3, tmp_path))
    before = row_counts(session)
    refused = _attach(p.firm, rid)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "attachment_store_unavailable"
    assert problem["detail"] == "附件存储暂时无法访问，文件没有保存；请稍后重试。"
    assert changed(before, row_counts(session)) == {}
    shown = p.firm.get(f"/api/v1/requests/{rid}").json()
    assert shown["attachments"] == []
    assert "attached" not in [e["kind"] for e in shown["events"]]
    assert session.exec(select(AppealAttachment)).all() == []


def test_a_retry_after_the_store_is_back_is_stored(
    parties: Parties, session: Session, s3: Any
) -> None:
    p = parties
    rid = _raised(p)
    name = f"finmatch-{uuid.uuid4().hex[:12]}"
    storage.use_store(storage.S3Store(name, "attachments", region=REGION))
    first = _attach(p.firm, rid, **{"Idempotency-Key": "upload-1"})
    assert first.status_code == 503
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    again = _attach(p.firm, rid, **{"Idempotency-Key": "upload-1"})  # not the 503 replayed
    assert again.status_code == 201, again.text
    row = session.get(AppealAttachment, again.json()["id"])
    assert row is not None
    assert s3.get_object(Bucket=name, Key=f"attachments/{row.storage_key}")["Body"].read() == PDF
    replayed = _attach(p.firm, rid, **{"Idempotency-Key": "upload-1"})
    assert replayed.json()["id"] == row.id and replayed.headers["idempotent-replayed"] == "true"


def _lose_the_bytes(store: storage.AttachmentStore, key: str, s3: Any, root: Path) -> None:
    if isinstance(store, storage.S3Store):
        s3.delete_object(Bucket=store.bucket, Key=store.object_key(key))
    else:
        (root / key[:2] / key).unlink()


@pytest.mark.parametrize("kind", ["disk", "s3"])
def test_bytes_lost_from_either_store_answer_the_same(
    parties: Parties, session: Session, s3: Any, tmp_path: Path, kind: str
) -> None:
    store: storage.AttachmentStore
    if kind == "disk":
        store = storage.DiskStore(tmp_path)
    else:
        store = storage.S3Store(_new_bucket(s3), "attachments", region=REGION)
    storage.use_store(store)
    p = parties
    rid = _raised(p)
    made = _attach(p.firm, rid)
    assert made.status_code == 201, made.text
    row = session.get(AppealAttachment, made.json()["id"])
    assert row is not None
    _lose_the_bytes(store, row.storage_key, s3, tmp_path)
    # A row whose bytes are gone is a fault of ours, never a client's: a 500 that says so by
    # the file's name, the same for both stores (each raises FileNotFoundError).
    lost = p.firm.get(made.json()["url"])
    assert lost.status_code == 500 and lost.json()["code"] == "attachment_lost", lost.text
    assert "找不到" in lost.json()["detail"] and "联系金融办" in lost.json()["detail"]


def test_a_download_the_store_refuses_is_a_503(parties: Parties, session: Session, s3: Any) -> None:
    store = storage.S3Store(_new_bucket(s3), "attachments", region=REGION)
    storage.use_store(store)
    p = parties
    rid = _raised(p)
    made = _attach(p.firm, rid)
    assert made.status_code == 201
    stub = Stubber(store.client)
    stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    stub.activate()
    refused = p.firm.get(made.json()["url"])
    assert refused.status_code == 503
    assert refused.json()["code"] == "attachment_store_unavailable"
    assert refused.json()["detail"] == "附件存储暂时无法访问，请稍后再下载。"


# --- settings --------------------------------------------------------------------------------


def test_the_disk_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FINMATCH_ATTACHMENT_STORE", raising=False)
    monkeypatch.setenv("FINMATCH_ATTACHMENT_DIR", str(tmp_path))
    store = storage.configured_store(Settings())
    assert isinstance(store, storage.DiskStore) and store.root == tmp_path


def test_s3_settings_build_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINMATCH_ATTACHMENT_STORE", "s3")
    monkeypatch.setenv("FINMATCH_ATTACHMENT_S3_BUCKET", "wx-finmatch.attachments")
    monkeypatch.setenv("FINMATCH_ATTACHMENT_S3_ENDPOINT_URL", "http://minio.internal:9000")
    monkeypatch.setenv("FINMATCH_ATTACHMENT_S3_REGION", "us-east-1")
    monkeypatch.setenv("FINMATCH_ATTACHMENT_S3_PREFIX", "/finmatch/requests/")
    monkeypatch.setenv("FINMATCH_ATTACHMENT_S3_ADDRESSING_STYLE", "path")
    settings = Settings()
    assert settings.attachment_s3_prefix == "finmatch/requests"
    store = storage.configured_store(settings)
    assert isinstance(store, storage.S3Store)
    assert store.bucket == "wx-finmatch.attachments"
    assert store.client.meta.endpoint_url == "http://minio.internal:9000"
    assert store.client.meta.region_name == "us-east-1"
    assert store.client.meta.config.s3 == {"addressing_style": "path"}
    assert store.object_key("0" * 32) == "finmatch/requests/" + "0" * 32


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"FINMATCH_ATTACHMENT_STORE": "s3"}, "needs FINMATCH_ATTACHMENT_S3_BUCKET"),
        ({"FINMATCH_ATTACHMENT_STORE": "oss"}, "FINMATCH_ATTACHMENT_STORE"),
        ({"FINMATCH_ATTACHMENT_S3_BUCKET": "My_Bucket"}, "is not a bucket name"),
        ({"FINMATCH_ATTACHMENT_S3_BUCKET": "ab"}, "is not a bucket name"),
        ({"FINMATCH_ATTACHMENT_S3_ENDPOINT_URL": "minio:9000"}, "is not an http(s) address"),
        ({"FINMATCH_ATTACHMENT_S3_ENDPOINT_URL": "http://minio:port"}, "not an http(s)"),
        ({"FINMATCH_ATTACHMENT_S3_ENDPOINT_URL": "ftp://minio"}, "not an http(s)"),
        ({"FINMATCH_ATTACHMENT_S3_REGION": "华东2"}, "is not a region name"),
        ({"FINMATCH_ATTACHMENT_S3_PREFIX": "a//b"}, "is not a folder in a bucket"),
        ({"FINMATCH_ATTACHMENT_S3_PREFIX": "a/../b"}, "is not a folder in a bucket"),
        ({"FINMATCH_ATTACHMENT_S3_ADDRESSING_STYLE": "host"}, "ADDRESSING_STYLE"),
    ],
)
def test_attachment_settings_that_cannot_work_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], says: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert says in str(raised.value)


def test_the_app_does_not_start_with_s3_and_no_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.main import create_app

    monkeypatch.setenv("FINMATCH_ATTACHMENT_STORE", "s3")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationError, match="FINMATCH_ATTACHMENT_S3_BUCKET"):
            create_app()
    finally:
        monkeypatch.delenv("FINMATCH_ATTACHMENT_STORE")
        get_settings.cache_clear()
