"""The playground's API against hostile and careless requests (issue 10, items 15, 17 and 18).

Every refusal is a 4xx whose message names the field (or the header) and the fix; a refused
request runs nothing (no training job, no file). The oracle is the rule itself: which statuses
are allowed, what the job store and the output folder hold afterwards.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.playground import create_app
from glassgrad.playground.safety import FIELD_LABELS, PRACTICE_LABELS, host_is_allowed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")

JSON = {"content-type": "application/json"}
SERVER = "http://127.0.0.1:8000"


@pytest.fixture
def client(tmp_path):
    app = create_app(output_dir=tmp_path / "out", max_jobs=2)
    with starlette_testclient.TestClient(app, base_url=SERVER) as test_client:
        yield test_client


def refusal(response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 20
    return message


def post(client, path: str, text: str, headers: dict | None = None):
    return client.post(path, content=text.encode(), headers=JSON if headers is None else headers)


# --- 15: numbers that overflow ------------------------------------------------------------------


@pytest.mark.parametrize("path, text, field", [
    ("/api/train", '{"steps": 1e999}', "steps"),
    ("/api/train", '{"steps": -1e999}', "steps"),
    ("/api/step", '{"seed": 1e999}', "seed"),
    ("/api/practice/new", '{"seed": 1e999}', "seed"),
    ("/api/train", '{"config": {"lr": ' + "1" * 400 + "}}", "lr"),
    ("/api/train", '{"config": {"lr": 0.' + "0" * 400 + "1}}", "lr"),
    ("/api/train", '{"config": {"lr": ' + "1" * 400 + ".5}}", "lr"),
    ("/api/step", '{"seed": ' + "7" * 5000 + "}", "seed"),
    ("/api/step", '{"lr": -' + "7" * 5000 + "}", "lr"),
    ("/api/train/compare", '{"rates": [0.1, ' + "9" * 5000 + "]}", "rates"),
    ("/api/train", '{"config": {"samples": ' + "9" * 30 + "}}", "samples"),
    ("/api/step", '{"example": "custom", "sizes": "²,2"}', "sizes"),
    ("/api/step", '{"example": "custom", "sizes": "2,' + "9" * 5000 + '"}', "sizes"),
    ("/api/train", '{"config": {"hidden": "٣,2"}}', "hidden"),
])
def test_overflowing_numbers_get_422_naming_the_field(client, path, text, field):
    labels = PRACTICE_LABELS if path.startswith("/api/practice") else FIELD_LABELS  # the view's labels (round 115)
    assert labels.get(field, field) in refusal(post(client, path, text), 422)  # as the page labels it (round 114)


# one JSON value as text: anything json.dumps writes, plus the number literals that overflow a float or
# Python's int conversion, and texts that look like numbers to str.isdigit or float() but are not plain digits
NUMBER_LITERALS = st.sampled_from(["1e999", "-1e999", "1e-999", "1" * 400, "-" + "9" * 5000, "0." + "0" * 500 + "1",
                                   "1" * 30, "2147483648", "-0", "0.0", "1E5", "123456789.5"])
ODD_TEXTS = st.sampled_from(["²", "²,2", "1_0", "١٠", "٣,2", "1e999", "nan", "-inf", "x[0]=1_0", "W1[0,0]=1e999",
                             "lr=1e999", "f b", "dW1[0,0]", "", " ", "0x10", "1" * 5000])
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=12) | ODD_TEXTS)
PLAIN = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                           max_size=4), max_leaves=8)
JSON_TEXT = st.one_of(NUMBER_LITERALS, NUMBER_LITERALS.map(lambda n: f"[{n}, {n}]"),
                      PLAIN.map(lambda value: json.dumps(value, ensure_ascii=False)))

# each endpoint, a body it accepts (kept quick: few steps), and the fields a client can send it
ENDPOINTS = {
    "/api/step": ({"example": "custom"}, ["example", "seed", "lr", "actions", "sizes", "activation", "loss"]),
    "/api/step/explain": ({"actions": "f"}, ["cell", "example", "seed", "lr", "actions"]),
    "/api/train": ({"steps": 1}, ["steps", "config"]),
    "/api/train/compare": ({"rates": [0.1, 1.0], "steps": 2}, ["rates", "steps", "config"]),
    "/api/practice/new": ({}, ["kind", "seed"]),
    "/api/practice/check": ({"answer": "1"}, ["kind", "seed", "answer"]),
}
CONFIG_FIELDS = ["dataset", "samples", "noise", "hidden", "activation", "loss", "optimizer", "lr", "momentum",
                 "batch_size", "clip", "seed"]
FIELDS = [(path, name, False) for path, (_, names) in ENDPOINTS.items() for name in names] + [
    (path, name, True) for path in ("/api/train", "/api/train/compare") for name in CONFIG_FIELDS]


@given(st.sampled_from(FIELDS), JSON_TEXT)
def test_any_json_value_in_any_field_gets_an_answer_never_a_server_error(where, value_text):
    path, name, in_config = where
    base, _ = ENDPOINTS[path]
    body = json.dumps(base)[:-1] + (", " if base else "")
    text = body + (f'"config": {{"{name}": {value_text}}}}}' if in_config else f'"{name}": {value_text}}}')
    app = create_app(output_dir="/nonexistent-never-written", max_jobs=1)
    with starlette_testclient.TestClient(app, base_url=SERVER) as fuzz_client:
        response = post(fuzz_client, path, text)
    assert response.status_code < 500, (text[:200], response.text)
    assert response.status_code in (200, 400, 404, 409, 413, 422, 429), response.text
    assert isinstance(response.json(), dict)
    if response.status_code >= 400:
        assert len(response.json()["error"]) > 10


# --- 17: requests from another site -------------------------------------------------------------


@pytest.mark.parametrize("headers, status, words", [
    ({"content-type": "text/plain"}, 415, "Content-Type: application/json"),
    ({"content-type": "application/x-www-form-urlencoded"}, 415, "Content-Type: application/json"),
    ({"content-type": "multipart/form-data; boundary=x"}, 415, "Content-Type: application/json"),
    ({}, 415, "no Content-Type"),
    ({"content-type": "text/plain", "origin": "http://evil.example", "sec-fetch-site": "cross-site"}, 403, "evil"),
    ({**JSON, "origin": "http://evil.example"}, 403, "http://evil.example"),
    ({**JSON, "origin": "null"}, 403, "'null'"),
    ({**JSON, "origin": "http://127.0.0.1:9999"}, 403, "only the playground's own page"),
    ({**JSON, "origin": "https://127.0.0.1:8000"}, 403, "only the playground's own page"),
    ({**JSON, "sec-fetch-site": "cross-site"}, 403, "Sec-Fetch-Site: cross-site"),
    ({**JSON, "sec-fetch-site": "same-site"}, 403, "Sec-Fetch-Site: same-site"),
])
def test_requests_from_other_sites_are_refused_and_start_nothing(client, tmp_path, headers, status, words):
    for path, body in (("/api/train", '{"steps": 1}'), ("/api/train/compare", '{"rates": [0.1, 1], "steps": 1}')):
        assert words in refusal(post(client, path, body, headers), status)
    assert client.app.state.jobs.jobs == {} and client.app.state.jobs.reserved == 0
    job = client.post("/api/train", json={"steps": 1}).json()["id"]  # the slots are all still free
    assert words in refusal(post(client, f"/api/train/{job}/save", '{"name": "stolen"}', headers), status)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("headers", [
    {}, {"origin": SERVER}, {"origin": SERVER.upper()}, {"sec-fetch-site": "same-origin", "origin": SERVER},
    {"sec-fetch-site": "none"}, {"content-type": "application/json; charset=utf-8"},
])
def test_the_pages_own_requests_are_answered(client, headers):
    response = post(client, "/api/step", '{"actions": "f"}', {**JSON, **headers})
    assert response.status_code == 200, response.text
    assert response.json()["loss"]["text"] == "0.8963"


@pytest.mark.parametrize("origins", [[SERVER, "http://evil.example"], ["http://evil.example", SERVER],
                                     [SERVER, SERVER]])
def test_more_than_one_origin_header_is_refused(client, origins):
    headers = [("content-type", "application/json"), *(("origin", origin) for origin in origins)]
    assert "2 Origin headers" in refusal(client.post("/api/train", content=b'{"steps": 1}', headers=headers), 403)
    assert client.app.state.jobs.jobs == {}


@pytest.mark.parametrize("hosts", [["evil.example", "127.0.0.1:8000"], ["127.0.0.1:8000", "evil.example"],
                                   ["127.0.0.1:8000", "127.0.0.1:8000"]])
def test_more_than_one_host_header_is_refused(client, hosts):
    headers = [("content-type", "application/json"), *(("host", host) for host in hosts),
               ("origin", f"http://{hosts[0]}")]
    assert "2 Host headers" in refusal(client.post("/api/train", content=b'{"steps": 1}', headers=headers), 400)
    assert client.app.state.jobs.jobs == {}


def test_a_link_from_another_site_still_opens_the_page(client):
    navigation = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    assert client.get("/?view=step&s_actions=f", headers=navigation).status_code == 200  # a classroom link
    assert "another site" in refusal(client.get("/api/options", headers={"sec-fetch-site": "cross-site"}), 403)


# --- 18: names, numbers and hosts parsed strictly ----------------------------------------------------


@pytest.mark.parametrize("name", ["ok\n", "ok\r\n", "\nok", "ok\x00", "ok ", "ok\t"])
def test_save_names_with_line_breaks_or_spaces_are_refused(client, tmp_path, name):
    job = client.post("/api/train", json={"steps": 1}).json()["id"]
    assert "not allowed" in refusal(client.post(f"/api/train/{job}/save", json={"name": name}), 422)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("action", ["x[0]=1_0", "W1[0,0]=0_5", "lr=0_1", "x[0]=١٠", "y[1]=½", "x[0]=0x1"])
def test_step_through_edits_accept_only_plain_numbers(client, action):
    assert "is not a number" in refusal(client.post("/api/step", json={"actions": action}), 422)


def test_step_through_edits_still_take_every_plain_number_form(client):
    for text, value in (("10", 10.0), ("-2.5", -2.5), ("+.5", 0.5), ("1.", 1.0), ("2e1", 20.0), ("-1E-1", -0.1)):
        view = client.post("/api/step", json={"actions": f"x[0]={text}"}).json()
        assert view["input"]["values"][0] == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("host", ["[::1", "[::1]]", "[::1]:", "[::1]:80:80", "localhost:", "localhost:0",
                                  "localhost:٨٠", "localhost :80", " localhost"])
def test_malformed_hosts_are_refused(client, host):
    assert not host_is_allowed(host)
    assert "DNS-rebinding" in refusal(client.get("/api/options", headers={"host": host.encode()}), 400)
