"""README shows the fixtures' tokens and a sample curl that works: the docs use the data file."""

from __future__ import annotations

import json
import re
import shlex

from mockserver.domain.fixtures import load_world
from mockserver.http.app import create_app
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def marked_block(name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n```sh\n(.*?)```\n<!-- /{name} -->", README, re.S)
    assert match, f"README has no <!-- {name} --> block"
    return match.group(1)


def test_readme_lists_every_fixture_token():
    for user in load_world().users.values():
        assert f"`{user.token}`" in README, user.token


def test_readme_sample_curl_creates_an_invoice():
    words = shlex.split(marked_block("sample-curl").replace("\\\n", " "))
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    body = json.loads(words[words.index("-d") + 1])
    url = next(word for word in words if word.startswith("http://127.0.0.1:8080"))
    client = create_app(validate_responses=True).test_client()
    response = client.post(url.removeprefix("http://127.0.0.1:8080"), json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["invoice_blueprint_uid"] == body["invoice_blueprint_uid"]
