from tests.slack_fixtures import socket_world, standin, world  # noqa: F401


async def test_help(world):
    s = world.standin
    ack = await world.send(s.slash_command("/companion", "help", "UANN"))
    assert ack.seconds < 3
    call = await s.wait_for(lambda c: c.method == "response_url")
    print(call.data)
    assert "lesson" in call.data["text"] or "Commands" in str(call.data)
