"""Running gunicorn in-process, so that `hongfeng serve` and `hongfeng demo` need no separate
config file. Sync workers: measured 3–4× faster than uvicorn for this stack on 2 cores."""

from django.db import connections
from gunicorn.app.base import BaseApplication


class _Application(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from hongfeng.wsgi import application

        return application


def run_gunicorn(*, host: str, port: int, workers: int, timeout: int = 30) -> None:
    connections.close_all()  # never share a database connection across the fork
    _Application(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": timeout,
            "graceful_timeout": 10,
            "accesslog": "-",
            # The access log shows paths, never query strings (they may carry a mobile number).
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        }
    ).run()
