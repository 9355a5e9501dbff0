"""A live server a test (or a bench) can take off the network and bring back on the same port: the
browser's offline switch does not reach everything (a service worker's own fetches), a stopped
server does. Stopping also cuts the browser's kept-alive connections."""
import socket
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        if str(code).startswith("5"):
            super().log_request(code, size)


class _TrackedHandler(_QuietHandler):
    """Remembers its connection, so stopping the server can cut the browser's kept-alive sockets too."""
    open_sockets: set = set()

    def setup(self):
        super().setup()
        self.open_sockets.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.open_sockets.discard(self.connection)


class Server:
    """The app on a fixed port that a test can stop (connection refused) and start again."""

    def __init__(self, app):
        self.app = app
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = self.thread = None

    def start(self):
        if self.server is not None:
            return
        for _ in range(50):
            try:
                self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                          request_handler=_TrackedHandler)
                break
            except OSError:  # the old socket is still closing
                time.sleep(0.05)
        else:
            raise RuntimeError(f"port {self.port} stays busy")
        self.thread = threading.Thread(target=self.server.serve_forever, name="stoppable-server", daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        for sock in list(_TrackedHandler.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)
        self.server = self.thread = None

    @property
    def up(self) -> bool:
        return self.server is not None
