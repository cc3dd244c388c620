"""A resolver stub for webhook hosts: tests never send a DNS query.

`*.example` names (RFC 2606) answer a public address nothing in the tests ever connects to
(deliveries to it go through a stub `http_post`); `localhost` answers loopback; anything else
does not resolve. `FakeDns` answers from a table, one answer per call when given a list of
answers (the second answer is how a DNS rebinding looks).
"""

from __future__ import annotations

import socket

PUBLIC_ADDRESS = "93.184.215.14"


def default_resolver(host: str) -> list[str]:
    if host.endswith(".example"):
        return [PUBLIC_ADDRESS]
    if host == "localhost":
        return ["127.0.0.1", "::1"]
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


class FakeDns:
    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = {host: list(answers) for host, answers in table.items()}
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        answers = self.table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]
