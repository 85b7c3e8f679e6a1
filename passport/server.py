"""Running the platform under gunicorn."""

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from passport.app import create_app

        return create_app()


def run_server(*, host: str, port: int, workers: int) -> None:
    """Serve the app with ``workers`` gunicorn processes until interrupted.

    Each worker creates its own app (and database pool) after the fork.
    """
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": 4,
            "accesslog": "-",
            # The default access log line holds the URL only; no body or
            # header values reach the log.
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "timeout": 60,
        }
    ).run()
