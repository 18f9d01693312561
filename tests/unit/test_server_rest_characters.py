"""/api/characters on a server without keys: list, upload in every card format, read, replace,
share, delete, avatar and download, and what bad ids, bodies and files get."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from personae.characters import card_bytes, placeholder_png, read_card_bytes
from tests.support.factories import make_character
from tests.support.rest import error_of, korean_character, png_card, upload
from tests.support.server import make_app

SUMMARY_KEYS = {
    "id",
    "name",
    "description",
    "creator",
    "tags",
    "first_message",
    "avatar_url",
    "owner_id",
    "shared",
    "editable",
    "created_at",
    "updated_at",
    "reply",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path)) as c:
        yield c


def test_list_shows_summaries(client: TestClient) -> None:
    data = client.get("/api/characters").json()["data"]
    assert [c["id"] for c in data] == ["holmes", "irene"]
    holmes = data[0]
    assert set(holmes) == SUMMARY_KEYS
    assert holmes["first_message"] == "You have been in Afghanistan, I perceive."
    assert holmes["avatar_url"] is None and holmes["owner_id"] is None
    assert holmes["shared"] is True and holmes["editable"] is True
    assert holmes["reply"] == {"strategy": "single", "n": 1}


def test_detail_has_the_whole_card(client: TestClient) -> None:
    body = client.get("/api/characters/holmes").json()
    assert set(body) == SUMMARY_KEYS | {"card"}
    assert body["card"]["data"]["name"] == "Holmes"
    assert body["card"]["data"]["scenario"] == "221B Baker Street, a foggy evening."


def test_description_is_cut_to_300_characters(client: TestClient) -> None:
    long = make_character("Verbose", description="x" * 1000)
    created = upload(client, json.dumps(long.to_card_dict()).encode(), "application/json")
    assert created.status_code == 201
    assert len(created.json()["description"]) == 300
    assert len(created.json()["card"]["data"]["description"]) == 1000


def test_korean_png_round_trip_is_identical(client: TestClient) -> None:
    character = korean_character()
    image = placeholder_png("춘향", size=24)
    original = png_card(character, image)
    created = upload(client, original)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == "춘향" and body["name"] == "춘향"
    assert body["tags"] == ["고전", "판소리"] and body["creator"] == "작자 미상"
    assert body["avatar_url"] == f"/api/characters/{quote('춘향')}/avatar"
    assert created.headers["content-type"].startswith("application/json")

    avatar = client.get(body["avatar_url"])
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"
    assert avatar.content == image

    download = client.get(f"/api/characters/{quote('춘향')}/card", params={"format": "png"})
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('춘향.png')}" in disposition
    assert download.content == original  # the very same file
    again = read_card_bytes(download.content)
    assert again.character == character and again.image == image


@pytest.mark.parametrize("fmt", ["json", "charx"])
def test_download_other_formats(client: TestClient, fmt: str) -> None:
    response = client.get("/api/characters/holmes/card", params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"holmes.{fmt}\"; filename*=UTF-8''holmes.{fmt}"
    )
    loaded = read_card_bytes(response.content)
    assert loaded.format == fmt and loaded.character.name == "Holmes"


def test_png_download_without_an_image_gets_a_placeholder(client: TestClient) -> None:
    assert error_of(client.get("/api/characters/holmes/avatar"), 404)["code"] == "no_image"
    response = client.get("/api/characters/holmes/card")  # png is the default
    assert response.status_code == 200
    assert read_card_bytes(response.content).character.name == "Holmes"


def test_png_download_of_a_jpeg_avatar_uses_a_placeholder(client: TestClient) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 64
    charx = card_bytes(make_character("Jay"), "charx", jpeg)
    created = upload(client, charx, "application/zip").json()
    avatar = client.get(created["avatar_url"])
    assert avatar.headers["content-type"] == "image/jpeg" and avatar.content == jpeg
    png = client.get("/api/characters/jay/card")
    assert png.status_code == 200
    assert read_card_bytes(png.content).character.name == "Jay"


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_upload_json_with_any_content_type(client: TestClient, content_type: str) -> None:
    data = card_bytes(korean_character(), "json")
    created = upload(client, data, content_type)
    assert created.status_code == 201, created.text
    assert created.json()["card"]["data"]["first_mes"] == "도련님, 어인 일로 이리 오셨나이까?"
    assert created.json()["avatar_url"] is None


def test_upload_v1_json(client: TestClient) -> None:
    v1 = {"name": "Old", "description": "a V1 card", "first_mes": "Hi.", "personality": ""}
    created = upload(client, json.dumps(v1).encode(), "application/json")
    assert created.status_code == 201
    assert created.json()["id"] == "old" and created.json()["first_message"] == "Hi."


def test_the_same_name_twice_gets_two_ids(client: TestClient) -> None:
    data = png_card(make_character("Twin"))
    ids = [upload(client, data).json()["id"] for _ in range(2)]
    assert ids == ["twin", "twin-2"]


def test_open_server_characters_are_shared_and_ownerless(client: TestClient) -> None:
    created = upload(client, png_card(make_character("Nobody")), shared="false").json()
    assert created["owner_id"] is None and created["shared"] is True


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"", "image/png"),
        (b"   ", "application/json"),
        (b"\xff\xd8\xff\xe0 a jpeg", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"hello, this is not a card", "text/markdown"),
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"spec": "chara_card_v2", "data": {}}', "application/json"),
        (b"PK\x03\x04 broken zip", "application/zip"),
        (placeholder_png("plain", size=8), "image/png"),
        (b"\x89PNG\r\n\x1a\n truncated", "image/png"),
    ],
    ids=[
        "empty",
        "blank",
        "jpeg",
        "gif",
        "text",
        "broken-json",
        "array",
        "no-name",
        "broken-zip",
        "png-without-card",
        "truncated-png",
    ],
)
def test_non_cards_are_400s(client: TestClient, data: bytes, content_type: str) -> None:
    error = error_of(upload(client, data, content_type), 400)
    assert error["code"] == "invalid_card"
    assert [c["id"] for c in client.get("/api/characters").json()["data"]] == ["holmes", "irene"]


def test_oversized_uploads_are_413s(client: TestClient) -> None:
    client.app.state.personae.max_card_bytes = 2000  # type: ignore[attr-defined]
    big = png_card(make_character("Big", description="y" * 5000))
    error = error_of(upload(client, big), 413)
    assert error["code"] == "request_too_large" and "2,000 bytes" in error["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams
        for start in range(0, len(big), 256):
            yield big[start : start + 256]

    png = {"Content-Type": "image/png"}
    streamed = client.post("/api/characters", content=chunks(), headers=png)
    assert error_of(streamed, 413)["code"] == "request_too_large"
    replaced = client.put("/api/characters/holmes", content=big, headers=png)
    assert error_of(replaced, 413)["code"] == "request_too_large"
    assert "big" not in {c["id"] for c in client.get("/api/characters").json()["data"]}
    small = upload(client, card_bytes(make_character("Small"), "json"), "application/json")
    assert small.status_code == 201


def test_card_uploads_may_be_larger_than_json_bodies(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, max_body_bytes=2000)) as client:
        card = png_card(make_character("Roomy", description="z" * 4000))
        assert len(card) > 2000
        assert upload(client, card).status_code == 201
        patch = client.patch("/api/characters/roomy", json={"shared": True, "pad": "p" * 3000})
        assert error_of(patch, 413)["code"] == "request_too_large"


def test_replace_with_json_keeps_the_image(client: TestClient) -> None:
    image = placeholder_png("Pic", size=12)
    upload(client, png_card(make_character("Pic"), image))
    card = client.get("/api/characters/pic").json()["card"]
    card["data"]["description"] = "새 설명: 바뀐 카드."
    replaced = client.put("/api/characters/pic", json=card)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["description"] == "새 설명: 바뀐 카드."
    assert replaced.json()["id"] == "pic"
    assert client.get("/api/characters/pic/avatar").content == image


def test_replace_with_a_png_replaces_the_image(client: TestClient) -> None:
    other = placeholder_png("other", size=10)
    replaced = client.put(
        "/api/characters/holmes",
        content=png_card(make_character("Holmes", description="Renewed."), other),
        headers={"Content-Type": "image/png"},
    )
    assert replaced.status_code == 200 and replaced.json()["description"] == "Renewed."
    assert client.get("/api/characters/holmes/avatar").content == other


def test_replace_with_a_bad_card_changes_nothing(client: TestClient) -> None:
    error = error_of(client.put("/api/characters/holmes", json={"data": {"name": ""}}), 400)
    assert error["code"] == "invalid_card"
    assert client.get("/api/characters/holmes").json()["name"] == "Holmes"


def test_share_flag_of_an_ownerless_character(client: TestClient) -> None:
    assert client.patch("/api/characters/holmes", json={"shared": True}).json()["shared"] is True
    error = error_of(client.patch("/api/characters/holmes", json={"shared": False}), 400)
    assert error["param"] == "shared"


@pytest.mark.parametrize(
    "body",
    [{}, {"shared": "yes"}, {"shared": 1}, {"shared": None}, {"shared": True, "x": 1}, [True]],
)
def test_share_bad_bodies(client: TestClient, body: object) -> None:
    error = error_of(client.patch("/api/characters/holmes", json=body), 400)
    assert error["type"] == "invalid_request_error"


def test_share_malformed_json(client: TestClient) -> None:
    response = client.patch(
        "/api/characters/holmes",
        content=b'{"shared": tru',
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["code"] == "invalid_json"


def test_delete_takes_its_chats(client: TestClient) -> None:
    chat = client.post("/api/chats", json={"character": "irene"}).json()
    response = client.delete("/api/characters/irene")
    assert response.status_code == 204 and response.content == b""
    assert error_of(client.get("/api/characters/irene"), 404)["code"] == "character_not_found"
    assert error_of(client.get(f"/api/chats/{chat['id']}"), 404)["code"] == "chat_not_found"
    assert error_of(client.delete("/api/characters/irene"), 404)["code"] == "character_not_found"


BAD_IDS = ["%2e%2e", "%2E%2E", "-dash", "a b", "x" * 65, "y" * 5000, "%00", "semi;colon"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_are_400s(client: TestClient, bad: str) -> None:
    for response in (
        client.get(f"/api/characters/{bad}"),
        client.get(f"/api/characters/{bad}/avatar"),
        client.get(f"/api/characters/{bad}/card"),
        client.patch(f"/api/characters/{bad}", json={"shared": True}),
        client.put(f"/api/characters/{bad}", json=korean_character().to_card_dict()),
        client.delete(f"/api/characters/{bad}"),
    ):
        assert error_of(response, 400)["param"] == "character"


def test_path_traversal_never_reaches_a_file(client: TestClient) -> None:
    for url in (
        "/api/characters/..",
        "/api/characters/../../etc/passwd",
        "/api/characters/..%2f..%2fetc%2fpasswd",
        "/api/characters/a%2Fb",
        "/api/characters/%2e%2e/card",
    ):
        response = client.get(url)
        assert response.status_code in (400, 404)
        error_of(response, response.status_code)


@pytest.mark.parametrize("missing", ["moriarty", "홍길동", "x" * 64])
def test_unknown_ids_are_404s(client: TestClient, missing: str) -> None:
    for response in (
        client.get(f"/api/characters/{missing}"),
        client.get(f"/api/characters/{missing}/avatar"),
        client.get(f"/api/characters/{missing}/card"),
        client.patch(f"/api/characters/{missing}", json={"shared": True}),
        client.put(f"/api/characters/{missing}", json=korean_character().to_card_dict()),
        client.delete(f"/api/characters/{missing}"),
    ):
        assert error_of(response, 404)["code"] == "character_not_found"


@pytest.mark.parametrize("fmt", ["gif", "PNG", ""])
def test_unknown_download_format(client: TestClient, fmt: str) -> None:
    error = error_of(client.get("/api/characters/holmes/card", params={"format": fmt}), 400)
    assert error["param"] == "format"


def test_bad_shared_query(client: TestClient) -> None:
    data = png_card(make_character("Q"))
    assert error_of(upload(client, data, shared="perhaps"), 400)["param"] == "shared"
