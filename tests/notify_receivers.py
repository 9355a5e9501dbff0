"""Local receivers on loopback for the notification delivery tests and bench/notify.py: an HTTP server
that answers like a group robot (or refuses, or stalls), and a small SMTP server. Real sockets, so the
sending code runs as in production."""
from __future__ import annotations

import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Robot:
    """A group-robot webhook on 127.0.0.1. `mode`: "ok", "refuse" (HTTP 503), "errcode" (HTTP 200 with an
    error code, as WeCom and DingTalk refuse), "stall" (answers after `stall` seconds)."""

    def __init__(self, mode: str = "ok", stall: float = 3.0):
        self.mode, self.stall = mode, stall
        self.received: list[dict] = []   # every request: {"path", "body", "mode", "at"}
        self.event = threading.Event()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = robot.mode
                robot.received.append({"path": self.path, "body": json.loads(raw or b"{}"), "mode": mode,
                                       "at": time.monotonic()})
                if mode == "stall":
                    time.sleep(robot.stall)
                if mode == "refuse":
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = {"errcode": 93000, "errmsg": "invalid webhook url"} if mode == "errcode" else \
                    {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    return
                if mode == "ok":
                    robot.event.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"

    def accepted(self) -> list[dict]:
        return [r for r in self.received if r["mode"] == "ok"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A minimal SMTP server on 127.0.0.1 (EHLO, MAIL, RCPT, DATA, QUIT). `refuse`: answer 554 to RCPT."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.messages: list[dict] = []
        box = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 localhost test SMTP")
                sender, rcpts = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender, rcpts = command[10:].strip(), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        if box.refuse:
                            self.reply("554 5.7.1 relay refused")
                        else:
                            rcpts.append(command[8:].strip())
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        data = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b".\n", b""):
                                break
                            data.append(chunk)
                        box.messages.append({"from": sender, "to": rcpts, "data": b"".join(data)})
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
