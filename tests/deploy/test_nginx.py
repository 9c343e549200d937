"""The reference deployment: nginx (deploy/nginx.conf) in front of two instances sharing one
database and Redis; bookings and events pass through the proxy in both directions."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest
import requests

from tests.conftest import REDIS_URL, ROOT, api_session, free_port
from tests.sockets import sentinel

pytestmark = pytest.mark.server
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def render(conf: str, port: int, upstreams: list[int], prefix) -> str:
    """deploy/nginx.conf with this test's ports and a private prefix for pid, logs and temp."""
    servers = "".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams
    )
    conf = re.sub(r"(    upstream loadzone \{\n)(?:        server .*\n)+", r"\g<1>" + servers, conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("pid /run/loadzone-nginx.pid;", f"pid {prefix}/nginx.pid;")
    conf = conf.replace("/var/log/nginx/loadzone-error.log", f"{prefix}/error.log")
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return conf.replace("http {\n", "http {\n" + temp, 1)


@pytest.fixture
def proxy(server_factory, tmp_path):
    instances = [
        server_factory(admins="admin@example.com", redis_url=REDIS_URL, proxy_hops=1)
        for _ in range(2)
    ]
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render(
            (ROOT / "deploy" / "nginx.conf").read_text(),
            port,
            [s.port for s in instances],
            tmp_path,
        )
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.05)
    yield url, instances
    process.terminate()
    process.wait(timeout=10)


def test_book_through_proxy_and_see_events_from_both_instances(proxy, watcher_factory):
    url, instances = proxy
    alice = api_session(url, "alice@example.com")
    admin = api_session(url, "admin@example.com")
    # Clients through nginx (round robin spreads them), plus one on each instance directly:
    # whichever instance handles a booking, every client must hear of it.
    watchers = [watcher_factory(url, alice.token) for _ in range(4)]
    watchers += [watcher_factory(instance.url, alice.token) for instance in instances]
    for index in range(6):
        assert admin.post(f"{url}/api/vms", json={"id": f"vm-{index}"}).status_code == 201
    for index in range(6):
        response = alice.post(f"{url}/api/vms/vm-{index}/book", json={"hours": 1})
        assert response.status_code == 200
    for watcher in watchers:
        for index in range(6):
            vm = watcher.wait_for(
                "vm_updated", lambda d, i=index: d["id"] == f"vm-{i}" and d["booked_by"]
            )
            assert vm["booked_by"] == "alice@example.com"


def test_one_instance_stopped_the_other_serves(proxy, watcher_factory):
    url, instances = proxy
    admin = api_session(url, "admin@example.com")
    instances[0].kill()
    codes = [admin.post(f"{url}/api/vms", json={"id": f"after-{i}"}).status_code for i in range(4)]
    assert codes == [201] * 4
    watch = watcher_factory(url, admin.token)
    sentinel(admin, url, watch)
    listed = {vm["id"] for vm in admin.get(f"{url}/api/vms").json()}
    assert {f"after-{i}" for i in range(4)} <= listed
