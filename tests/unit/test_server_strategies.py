"""Reply strategies in the server (issue 15): the configured default, a character's own and a
request's ``personae`` field; bad fields and too many candidates are 400s naming the param; a
stateless ``n`` > 1 answers the ranked candidates; REST regenerate shows a kept swipe without
generating; one failed candidate does not fail the reply; a best-of-N reply holds n slots."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personae.config import Settings
from personae.errors import BackendError, ConfigError
from personae.server import create_app
from personae.server.admission import Admission
from personae.server.options import resolve
from personae.settings.reply import ReplyStrategy
from personae.store import ChatRepository, Database
from tests.support.rest import error_of
from tests.support.server import DEFAULT_MODEL, Backends, chunks, make_store, sse_body, wait_until

URL = "/v1/chat/completions"
GOOD = "The game is afoot, Watson: a letter came this morning from Lestrade, about a stolen ring."
ALSO_GOOD = "Sit down, Watson. Lestrade writes of a ring stolen in Kent; the case has promise."
AI = "As an AI language model, I cannot help with that request, but I can try another."
BEST_OF_2 = ReplyStrategy("best-of-n", n=2)


def app_with(
    tmp_path: Path,
    backends: Backends,
    *,
    reply: ReplyStrategy | None = None,
    server: dict[str, Any] | None = None,
    **options: Any,
) -> FastAPI:
    settings = Settings(
        backend="scripted",
        model=DEFAULT_MODEL,
        user_name="Watson",
        reply_guard=False,
        reply=reply or ReplyStrategy(),
        server=server or {},
    )
    options.setdefault("allowed_hosts", ["testserver"])
    return create_app(
        make_store(tmp_path / "server.db"),
        settings=settings,
        backend_factory=backends,
        memory=False,
        **options,
    )


@pytest.fixture
def backends() -> Backends:
    return Backends()


def ask(model: str = "holmes", **fields: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": "Anything new?"}]}
    return {"seed": 7, **body, **fields}


def seeds(backends: Backends) -> list[int]:
    return sorted((p.seed or 0) for _, p in backends.default.calls)


# -- where the strategy comes from ---------------------------------------------------------------


def test_the_configured_default_chooses_among_candidates(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.by_seed = {7: AI, 8: GOOD}
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        body = client.post(URL, json=ask()).json()
    assert [c["message"]["content"] for c in body["choices"]] == [GOOD]
    assert seeds(backends) == [7, 8]
    # The scores only in personae's own field: the OpenAI shape is unchanged.
    extension = body["personae"]
    assert extension["strategy"] == "best-of-n"
    ranked = extension["candidates"]
    assert [r["text"] for r in ranked] == [GOOD, AI]
    assert ranked[0]["passed"] and not ranked[1]["passed"]
    assert "fidelity" in {s["verifier"] for s in ranked[1]["scores"]}
    assert all(s["reason"] for s in ranked[1]["scores"])


def test_a_character_may_have_its_own_strategy(tmp_path: Path, backends: Backends) -> None:
    server = {"reply": {"holmes": {"strategy": "best-of-n", "n": 2}}}
    backends.default.by_seed = {7: AI, 8: GOOD}
    with TestClient(app_with(tmp_path, backends, server=server)) as client:
        holmes = client.post(URL, json=ask()).json()
        assert holmes["choices"][0]["message"]["content"] == GOOD
        assert len(backends.default.calls) == 2
        irene = client.post(URL, json=ask("irene")).json()  # [reply]: single
        assert len(backends.default.calls) == 3 and "personae" not in irene


def test_the_character_api_says_how_each_character_replies(
    tmp_path: Path, backends: Backends
) -> None:
    # The web page shows "choosing among 2 replies…" for Holmes while his candidates run.
    server = {
        "reply": {"holmes": {"strategy": "best-of-n", "n": 2}, "irene": {"strategy": "refine"}}
    }
    with TestClient(app_with(tmp_path, backends, server=server)) as client:
        listed = {c["id"]: c["reply"] for c in client.get("/api/characters").json()["data"]}
        one = client.get("/api/characters/holmes").json()["reply"]
    assert listed == {
        "holmes": {"strategy": "best-of-n", "n": 2},
        "irene": {"strategy": "refine", "n": 1},  # one candidate, written again
    }
    assert one == listed["holmes"]
    with TestClient(app_with(tmp_path / "plain", backends)) as client:
        data = client.get("/api/characters").json()["data"]
    assert {c["reply"]["strategy"] for c in data} == {"single"}


def test_a_request_asks_for_its_own_strategy(tmp_path: Path, backends: Backends) -> None:
    backends.default.by_seed = {7: AI, 8: GOOD, 9: ALSO_GOOD}
    with TestClient(app_with(tmp_path, backends, parallel=4)) as client:
        plain = client.post(URL, json=ask()).json()  # a plain OpenAI client: the default
        assert plain["choices"][0]["message"]["content"] == AI and "personae" not in plain
        backends.default.calls.clear()
        asked = {"strategy": "best-of-n", "n": 3, "rounds": 1, "time_budget_s": 20}
        body = client.post(URL, json=ask(personae=asked)).json()
    assert body["choices"][0]["message"]["content"] in (GOOD, ALSO_GOOD)
    assert seeds(backends) == [7, 8, 9]
    assert len(body["personae"]["candidates"]) == 3


def test_a_request_field_replaces_only_what_it_gives(tmp_path: Path, backends: Backends) -> None:
    server = {"reply": {"holmes": {"strategy": "best-of-n", "n": 2}}}
    with TestClient(app_with(tmp_path, backends, server=server, parallel=4)) as client:
        client.post(URL, json=ask(personae={"n": 3}))
        assert len(backends.default.calls) == 3  # holmes' best-of-n, with 3 candidates
        client.post(URL, json=ask(personae={"strategy": "single"}))
        assert len(backends.default.calls) == 4


# -- bad requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("personae", "param"),
    [
        ({"strategy": "best"}, "personae.strategy"),
        ({"strategy": 4}, "personae.strategy"),
        ({"n": 0}, "personae.n"),
        ({"n": 9}, "personae.n"),
        ({"n": "4"}, "personae.n"),
        ({"n": 2.5}, "personae.n"),
        ({"rounds": 7}, "personae.rounds"),
        ({"time_budget_s": -1}, "personae.time_budget_s"),
        ({"time_budget_s": 1e9}, "personae.time_budget_s"),
        ({"token_budget": 0}, "personae.token_budget"),
        ({"colour": "blue"}, "personae.colour"),
        ("best-of-n", "personae"),
    ],
)
def test_bad_strategy_fields_are_a_400_naming_the_param(
    tmp_path: Path, backends: Backends, personae: Any, param: str
) -> None:
    with TestClient(app_with(tmp_path, backends, parallel=8)) as client:
        error = error_of(client.post(URL, json=ask(personae=personae)), 400)
        assert error["param"] == param, error
        chat = client.post("/api/chats", json={"character": "holmes"}).json()
        regenerate = client.post(f"/api/chats/{chat['id']}/regenerate", json={"personae": personae})
        assert error_of(regenerate, 400)["param"] == param
    assert backends.default.calls == []


def test_more_candidates_than_slots_is_a_400_that_says_so(
    tmp_path: Path, backends: Backends
) -> None:
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2, parallel=2)) as client:
        error = error_of(
            client.post(URL, json=ask(personae={"strategy": "best-of-n", "n": 4})), 400
        )
        assert error["param"] == "personae.n" and "2 parallel slots" in error["message"]
        # n choices need n candidates, decoded together.
        error = error_of(client.post(URL, json=ask(n=3)), 400)
        assert error["param"] == "n" and "parallel" in error["message"]
    assert backends.default.calls == []


def test_a_raw_model_takes_no_strategy(tmp_path: Path, backends: Backends) -> None:
    with TestClient(app_with(tmp_path, backends)) as client:
        body = ask(f"raw:{DEFAULT_MODEL}", personae={"strategy": "best-of-n"})
        assert error_of(client.post(URL, json=body), 400)["param"] == "personae"


def test_a_stored_chat_still_answers_one_reply(tmp_path: Path, backends: Backends) -> None:
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        error = error_of(client.post(URL, json=ask(user="ann", n=2)), 400)
        assert error["param"] == "n"


# -- choices, streams, swipes -------------------------------------------------------------------


def test_stateless_n_returns_the_ranked_candidates(tmp_path: Path, backends: Backends) -> None:
    backends.default.by_seed = {7: AI, 8: GOOD, 9: ALSO_GOOD}
    strategy = ReplyStrategy("best-of-n", n=3)
    with TestClient(app_with(tmp_path, backends, reply=strategy, parallel=4)) as client:
        body = client.post(URL, json=ask(n=2)).json()
        texts = [c["message"]["content"] for c in body["choices"]]
        ranked = [r["text"] for r in body["personae"]["candidates"]]
        assert texts == ranked[:2] and set(texts) == {GOOD, ALSO_GOOD}
        assert [c["index"] for c in body["choices"]] == [0, 1]
        assert len(backends.default.calls) == 3  # one turn of 3 candidates, not 2 turns
        # Usage counts every candidate's tokens once, on the chosen reply.
        words = sum(len(t.split()) for t in (AI, GOOD, ALSO_GOOD))
        assert body["usage"]["completion_tokens"] == words
        # More choices than the strategy's candidates: as many candidates as choices.
        backends.default.by_seed[10] = "Mrs Hudson has brought the tea; do sit, Watson, and listen."
        more = client.post(URL, json=ask(n=4)).json()
        assert len(more["choices"]) == 4 and len(more["personae"]["candidates"]) == 4


def test_a_chosen_reply_streams_once_it_is_chosen(tmp_path: Path, backends: Backends) -> None:
    backends.default.by_seed = {7: AI, 8: GOOD}
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        response = client.post(URL, json=ask(n=2, stream=True))
    assert response.status_code == 200
    events = chunks(sse_body(response.text))
    deltas = [(e["choices"][0]["index"], e["choices"][0]["delta"]) for e in events]
    # Per choice: the role first, then the whole text at once, then the finish.
    assert deltas[0] == (0, {"role": "assistant"})
    assert deltas[1] == (0, {"content": GOOD})
    assert deltas[2] == (0, {})
    assert deltas[3:] == [(1, {"role": "assistant"}), (1, {"content": AI}), (1, {})]
    # The candidates ride on choice 0's finish chunk only.
    assert [r["text"] for r in events[2]["personae"]["candidates"]] == [GOOD, AI]
    assert "personae" not in events[5]


def test_rest_regenerate_shows_a_kept_swipe_without_generating(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.by_seed = {7: GOOD, 8: ALSO_GOOD}
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        chat = client.post("/api/chats", json={"character": "holmes"}).json()
        first = client.post(URL, json=ask(chat_id=chat["id"])).json()
        shown = first["choices"][0]["message"]["content"]
        assert {r["text"] for r in first["personae"]["candidates"]} == {GOOD, ALSO_GOOD}
        calls = len(backends.default.calls)
        again = client.post(f"/api/chats/{chat['id']}/regenerate", json={"stream": False})
        assert again.status_code == 200, again.text
        swipe = again.json()["choices"][0]["message"]["content"]
        assert {shown, swipe} == {GOOD, ALSO_GOOD}
        assert len(backends.default.calls) == calls  # nothing generated
        stored = client.get(f"/api/chats/{chat['id']}").json()["messages"]
        assert stored[-1]["content"] == swipe
        # The swipes used up, it generates again, with the strategy the request asks for.
        backends.default.by_seed = {}
        backends.default.enqueue(GOOD)
        third = client.post(
            f"/api/chats/{chat['id']}/regenerate",
            json={"stream": False, "personae": {"strategy": "single"}},
        )
        assert third.json()["choices"][0]["message"]["content"] == GOOD
        assert len(backends.default.calls) == calls + 1


def test_a_failed_candidate_still_ends_the_reply_cleanly(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.by_seed = {7: BackendError("the slot went away"), 8: GOOD}
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        body = client.post(URL, json=ask()).json()
        assert body["choices"][0]["message"]["content"] == GOOD
        assert [r["text"] for r in body["personae"]["candidates"]] == [GOOD]
        streamed = client.post(URL, json=ask(stream=True, user="ann"))
        events = chunks(sse_body(streamed.text))  # ends with [DONE]
        assert "".join(e["choices"][0]["delta"].get("content", "") for e in events) == GOOD
        assert events[-1]["choices"][0]["finish_reason"] == "stop"
    with Database(tmp_path / "server.db") as db:
        chat = ChatRepository(db).latest("holmes", user_id="ann")
        assert chat is not None
        last = ChatRepository(db).messages(chat.id)[-1]
        assert last.content == GOOD and last.status == "complete"


def test_when_every_candidate_fails_the_error_keeps_its_status(
    tmp_path: Path, backends: Backends
) -> None:
    backends.default.by_seed = {7: BackendError("down"), 8: BackendError("down too")}
    with TestClient(app_with(tmp_path, backends, reply=BEST_OF_2)) as client:
        response = client.post(URL, json=ask())
    assert response.status_code >= 500 and "Traceback" not in response.text
    assert set(response.json()) == {"error"}


# -- configuration and slots -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"holmes": {"n": 9}}, "[server.reply.holmes] n must be"),
        (
            {"holmes": {"strategy": "best"}},
            "[server.reply.holmes] strategy must be one of 'single', 'best-of-n'",
        ),
        ({"holmes": {"colour": 1}}, "[server.reply.holmes] has no setting 'colour'"),
        ({"holmes": 4}, "[server.reply.holmes] must be a table"),
        ({"../etc": {}}, "not a character id"),
        (3, "[server] reply must be a table"),
    ],
)
def test_a_bad_character_table_fails_at_start(table: Any, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(Settings(backend="scripted", server={"reply": table}))
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_the_embedded_backend_has_a_slot_for_every_candidate() -> None:
    settings = Settings(
        backend="embedded",
        reply=ReplyStrategy(),
        server={"reply": {"holmes": {"strategy": "auto", "n": 6}}},
    )
    resolved, options = resolve(settings, parallel=2)
    assert options.parallel == 2 and resolved.backend_options["n_parallel"] == 6
    resolved, options = resolve(Settings(backend="embedded", reply=BEST_OF_2), parallel=4)
    assert resolved.backend_options["n_parallel"] == 4
    # refine makes one candidate at a time: no more slots.
    refine = Settings(backend="embedded", reply=ReplyStrategy("refine", n=8))
    assert resolve(refine, parallel=1)[0].backend_options["n_parallel"] == 1


def test_a_best_of_n_job_holds_its_slots_while_it_runs() -> None:
    admission = Admission(3, 8)
    gates = {name: threading.Event() for name in ("heavy", "light", "after")}
    ran: list[str] = []

    def work(name: str) -> Any:
        def run() -> None:
            ran.append(name)
            assert gates[name].wait(10)

        return run

    try:
        admission.submit("a", work("light"), threading.Event())
        heavy = admission.submit("b", work("heavy"), threading.Event(), weight=3)
        after = admission.submit("c", work("after"), threading.Event())
        wait_until(lambda: ran == ["light"], what="the light job")
        # The heavy job needs all three slots: it waits, and the job behind it waits its turn.
        assert admission.running == 1 and admission.waiting == 2
        gates["light"].set()
        wait_until(lambda: ran == ["light", "heavy"], what="the heavy job")
        assert admission.waiting == 1
        gates["heavy"].set()
        heavy.result(10)
        gates["after"].set()
        after.result(10)
        assert ran == ["light", "heavy", "after"]
        with pytest.raises(ValueError, match="weight"):
            admission.submit("a", work("light"), threading.Event(), weight=0)
    finally:
        for gate in gates.values():
            gate.set()
        admission.shutdown()


def test_openapi_documents_the_extension_field(tmp_path: Path, backends: Backends) -> None:
    with TestClient(app_with(tmp_path, backends)) as client:
        schema = client.get("/openapi.json").json()
    body = schema["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    field = body["properties"]["personae"]
    text = str(field)
    for name in ("strategy", "n", "rounds", "time_budget_s", "token_budget", "best-of-n"):
        assert name in text
    regenerate = str(schema["paths"]["/api/chats/{chat_id}/regenerate"]["post"])
    assert "personae" in regenerate or "RegenerateRequest" in regenerate
