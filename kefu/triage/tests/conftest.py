"""Fixtures of the triage tests: a generated labelled history on the test cast and a model
trained on it, stored in a temporary data directory."""

from __future__ import annotations

import pytest

from kefu.triage.demo import create_history, generate

# Small but enough for every category (min. 20 examples per value by default).
COUNTS = {
    "hardware": 30,
    "installation": 24,
    "orders": 27,
    "returns": 24,
    "software": 27,
    "accounts": 24,
}


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def history(cast):
    return create_history(
        generate(COUNTS, seed=11),
        groups={"cs": cast.cs, "aftersales": cast.aftersales, "tech": cast.tech},
        agents={"cs": cast.agent, "aftersales": cast.supervisor, "tech": cast.tech_agent},
        contacts={
            "zh": [cast.alice.contact, cast.carol.contact],
            "en": [cast.bob.contact, cast.bella.contact],
        },
        seed=11,
    )


@pytest.fixture
def trained(history):
    from kefu.triage.actions import train_now

    return train_now(None)
