"""gunicorn's configuration for production: `scripts/serve` runs `gunicorn -c platform/config/gunicorn.conf.py`.

Every value comes from the environment (docs/deployment.md has the table):

- HOST [127.0.0.1], PORT [8000]: where to listen. Behind a reverse proxy on the same machine keep the
  loopback address; in a container, HOST=0.0.0.0 and let the network policy admit only the proxy.
- WEB_CONCURRENCY [2 x cores + 1]: worker processes (cores this process may run on, e.g. a container's limit).
- GUNICORN_TIMEOUT [60]: seconds a request may take before its worker is restarted (a bulk ingest of
  DJANGO_REQUEST_BODY_MAX_BYTES takes a few seconds).
- GUNICORN_ACCESS_LOG [-, stdout], GUNICORN_ERROR_LOG [-, stderr]: a file path, or - for the stream.
- GUNICORN_CONTROL_SOCKET [none]: a path for gunicorn's control socket (gunicornc); none without it.
- DJANGO_TRUSTED_PROXIES: the addresses (or networks) of the proxies in front, whose X-Forwarded-Proto
  gunicorn believes. Default: the loopback addresses when DJANGO_TRUSTED_PROXY_COUNT is above 0 (a proxy on
  the same machine), none when it is 0. Which X-Forwarded-For entry is the client is Django's rule
  (DJANGO_TRUSTED_PROXY_COUNT, api.throttling.client_address), not gunicorn's.

The health probes (/healthz, /readyz) are left out of the access log: a probe every few seconds would bury
the requests that matter.
"""

import os

from gunicorn import glogging


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _trusted_proxies() -> str:
    configured = os.environ.get("DJANGO_TRUSTED_PROXIES")
    if configured is not None:
        return ",".join(item.strip() for item in configured.split(",") if item.strip())
    behind_proxy = os.environ.get("DJANGO_BEHIND_TLS_PROXY", "").lower() in {"1", "true", "yes", "on"}
    proxy_count = _int("DJANGO_TRUSTED_PROXY_COUNT", 1 if behind_proxy else 0)
    return "127.0.0.1,::1" if proxy_count > 0 else ""


PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class AccessLogWithoutProbes(glogging.Logger):
    """gunicorn's logger, without access-log lines for the health probes."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") in PROBE_PATHS:
            return
        super().access(resp, req, environ, request_time)


wsgi_app = "config.wsgi:application"
pythonpath = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # platform/

bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", 2 * _cores() + 1)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so that no slow leak grows without bound.
max_requests = 2000
max_requests_jitter = 200

forwarded_allow_ips = _trusted_proxies()

# gunicorn's control socket (gunicornc) only when asked for, at a path of one's own: by default every
# instance on the machine would share $HOME/.gunicorn/gunicorn.ctl.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

logger_class = AccessLogWithoutProbes
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# The common log format, the X-Forwarded-For chain as received, and the time taken in microseconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" xff="%({x-forwarded-for}i)s" %(D)s'
