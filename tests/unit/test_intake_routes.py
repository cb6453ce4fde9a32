"""Intake's API documents every command: a route with a summary, a body with an example."""

from __future__ import annotations

import pytest

from services.intake import commands
from services.intake.app import create_app
from services.intake.client import PATHS
from services.intake.config import Settings

COMMANDS = sorted(
    (
        model
        for model in vars(commands).values()
        if isinstance(model, type)
        and issubclass(model, commands.Command)
        and model is not commands.Command
    ),
    key=lambda model: model.__name__,
)


@pytest.fixture(scope="module")
def openapi() -> dict:
    return create_app(Settings(database_url="sqlite:///unused.db")).openapi()  # nothing starts


def test_there_are_twenty_three_commands_and_the_client_knows_where_each_goes():
    assert len(COMMANDS) == 23
    assert set(PATHS) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda model: model.__name__)
def test_every_command_has_a_documented_route_and_a_valid_fictional_example(openapi, command):
    operation = openapi["paths"][PATHS[command]]["post"]
    assert operation["summary"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.rsplit("/", 1)[-1] == command.__name__
    [example] = openapi["components"]["schemas"][command.__name__]["examples"]
    command.model_validate(example)
