"""A real MLLP listener for tests: parses each message with the hl7 library and ACKs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import hl7

START, END = b"\x0b", b"\x1c\x0d"

# (message, how many messages received so far) -> MSA-1 code to answer, or None for silence.
Behaviour = Callable[[hl7.Message, int], str | None]


@dataclass
class Listener:
    port: int
    behaviour: Behaviour
    received: list[hl7.Message] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def segment(self, index: int, name: str) -> hl7.Segment:
        return self.received[index].segment(name)


def _serve(sock: socket.socket, listener: Listener, stop: threading.Event) -> None:
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(5)
            data = b""
            while END not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(START) or END not in data:
                continue
            text = data[1 : data.index(END)].decode()
            listener.raw.append(data)
            message = hl7.parse(text)
            listener.received.append(message)
            code = listener.behaviour(message, len(listener.received))
            if code is None:
                stop.wait(3)  # silence: the sender's timeout must fire
                continue
            ack = message.create_ack(code)
            conn.sendall(START + str(ack).encode() + END)


@contextmanager
def running_listener(behaviour: Behaviour | None = None) -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    listener = Listener(sock.getsockname()[1], behaviour or (lambda _m, _n: "AA"))
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(sock, listener, stop), daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
