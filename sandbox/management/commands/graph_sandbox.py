from django.core.management.base import BaseCommand

from sandbox.demo import sandbox_state
from sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Run the Graph API sandbox: a local HTTP server that answers like Meta's Graph API."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--demo", action="store_true", help="start with the demo WABA, numbers, tokens and templates")

    def handle(self, *args, host, port, demo, **options):
        server = SandboxServer((host, port))
        if demo:
            server.state.merge(sandbox_state())
        self.stdout.write(f"Graph API sandbox on {server.url} (control API under /_sandbox/)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
