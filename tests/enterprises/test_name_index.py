"""The cached name copy follows inserts, renames and rollbacks."""

from service.enterprises import name_index
from tests.factories import create_enterprise


def test_search_sees_new_and_renamed_enterprises(client) -> None:
    first = create_enterprise(client, name="无锡澄星精细化工有限公司")
    hits = client.get("/api/v1/enterprises", params={"name": "澄星精细化工"}).json()["items"]
    assert [e["id"] for e in hits][:1] == [first["id"]]
    client.patch(f"/api/v1/enterprises/{first['id']}", json={"name": "无锡澄星新材料有限公司"})
    second = create_enterprise(client, name="江阴澄星精细化工股份有限公司")
    hits = client.get("/api/v1/enterprises", params={"name": "澄星精细化工"}).json()["items"]
    assert hits[0]["id"] == second["id"]
    renamed = client.get("/api/v1/enterprises", params={"name": "澄星新材料"}).json()["items"]
    assert renamed[0]["id"] == first["id"]


def test_entries_of_vanished_rows_are_never_returned(client, session) -> None:
    made = create_enterprise(client, name="无锡临时测试微电子有限公司")
    assert client.get("/api/v1/enterprises", params={"name": "临时测试微电子"}).json()["items"]
    # the row disappears behind the cache's back (as a rolled-back test's rows do)
    from service.enterprises.models import Enterprise

    session.delete(session.get(Enterprise, made["id"]))
    session.flush()
    hits = client.get("/api/v1/enterprises", params={"name": "临时测试微电子"}).json()["items"]
    assert made["id"] not in [e["id"] for e in hits]
    name_index.forget()
