"""``kong.ssh``: the Kong nodes whose kong.conf kong-slo patches, each read into an ``SshSettings``.

Every Kong node reads its own kong.conf (a hybrid control plane passes no tracing settings to its data planes),
so the section lists them: ``nodes: [{host, port, hostKey, …}]`` under shared ``user``, ``privateKey``, ``port``,
``confPath``, ``restartCommand`` and ``adminUrl``. The single-node form (``host`` beside the shared keys) stays:
one node.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from urllib.parse import urlsplit

from kong_slo.secrets import Secret
from kong_slo.settings.model import DEFAULT_ADMIN_URL, SshSettings
from kong_slo.settings.reader import Node, describe

NODE_KEYS = ("host", "port", "hostKey", "acceptAnyHostKey", "confPath", "restartCommand", "adminUrl")
SSH_KEYS = ("host", "nodes", "user", "port", "privateKey", "hostKey", "acceptAnyHostKey", "confPath",
            "restartCommand", "adminUrl")
DEFAULT_CONF_PATH = "/etc/kong/kong.conf"
HOST_KEY_LINE = re.compile(r"^(ssh-|ecdsa-)[a-z0-9-]+ [A-Za-z0-9+/=]+( .*)?$")


def reload_command(conf_path: str) -> str:
    """The default: a reload, which applies kong.conf without dropping a connection (nginx's graceful ``HUP``),
    fitted to how the node runs. Under Kong's systemd unit (build/package/kong.service@3.9.1: ``ExecReload`` runs
    ``kong prepare`` then ``nginx -s reload`` with the unit's environment) ``systemctl reload kong``; else
    ``kong reload -c PATH``. Never ``kong restart``: it stops nginx fast (``TERM``: requests in flight dropped)
    and, under the unit, starts Kong outside it without the unit's environment."""
    conf = shlex.quote(conf_path)
    return (f"if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kong; "
            f"then systemctl reload kong; else kong reload -c {conf}; fi")


def read_ssh(node: Node | None) -> tuple[SshSettings, ...]:
    """The nodes of ``kong.ssh`` (none when the section is absent); every problem named by its key."""
    if node is None:
        return ()
    node.reject_unknown(SSH_KEYS)
    key = node.secret("privateKey")
    if key is None and "privateKey" not in node.data:
        command = node.problems.config_set(node.key("privateKey"), "").replace(' "`', '"` < ~/.ssh/id_ed25519')
        node.problem("privateKey", f"is required: {command}")
    user = node.string("user") or "ubuntu"
    port = _port(node, 22)
    conf_path = _conf_path(node, DEFAULT_CONF_PATH)
    restart = node.string("restartCommand")
    admin_url = _admin_url(node, DEFAULT_ADMIN_URL)
    raw_nodes = node.raw("nodes")
    if raw_nodes is None:
        if not node.has("host"):
            node.problem("host", "is required: the Kong node to patch (or list them under kong.ssh.nodes)")
            return ()
        return (_node(node, user=user, port=port, key=key, conf_path=conf_path, restart=restart, admin_url=admin_url),)
    if node.has("host") or node.has("hostKey") or node.has("acceptAnyHostKey"):
        node.problem("host", "and kong.ssh.nodes both name nodes: move host, hostKey and acceptAnyHostKey into "
                             "the list (kong.ssh.nodes: [{host: …, hostKey: …}]), keeping the node patched "
                             "so far first")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        shown = "an empty list" if raw_nodes == [] else describe(raw_nodes)
        node.problem("nodes", f"{shown} is not a list of nodes such as [{{host: 10.0.1.10, "
                              "hostKey: ssh-ed25519 AAAA…}]")
        return ()
    nodes: list[SshSettings] = []
    seen: dict[tuple[str, int], int] = {}
    for index, item in enumerate(raw_nodes):
        path = f"{node.key('nodes')}[{index}]"
        if not isinstance(item, Mapping):
            node.problems.add(path, f"{describe(item)} is not a mapping with at least a host")
            continue
        child = Node(item, path, node.problems)
        child.reject_unknown(NODE_KEYS)
        found = _node(child, user=user, port=port, key=key, conf_path=conf_path, restart=restart,
                      admin_url=_admin_url(child, admin_url))
        where = (found.host, found.port)
        if where in seen:
            child.problem("host", f"{found.host}:{found.port} is already {node.key('nodes')}[{seen[where]}]")
        seen.setdefault(where, index)
        nodes.append(found)
    return tuple(nodes)


def _node(node: Node, *, user: str, port: int, key: Secret | None, conf_path: str, restart: str | None,
          admin_url: str) -> SshSettings:
    host = node.string("host", required=True) or ""
    port = _port(node, port)
    conf_path = _conf_path(node, conf_path)
    host_key = node.string("hostKey")
    if host_key is not None and not HOST_KEY_LINE.match(host_key):
        node.problem("hostKey", "is not a public key line such as 'ssh-ed25519 AAAA…' (ssh-keyscan prints them)")
    any_host_key = node.boolean("acceptAnyHostKey", False)
    if host_key is None and not any_host_key and "hostKey" not in node.data:
        node.problem("hostKey", f"is required, so that kong.conf goes only to {host!r} itself: "
                                f"`ssh-keyscan -t ed25519 {host}`; or set {node.key('acceptAnyHostKey')}: true to "
                                "accept whatever key the host presents")
    if host_key is not None and any_host_key:
        node.problem("acceptAnyHostKey", "contradicts hostKey: pin the key or accept any, not both")
    command = node.string("restartCommand") or restart or reload_command(conf_path)
    return SshSettings(host, user, port, key or Secret(None), conf_path, command, host_key, admin_url)


def _port(node: Node, default: int) -> int:
    port = node.integer("port", default)
    if port is None or not 0 < port < 65536:
        node.problem("port", f"{describe(node.raw('port'))} is not a TCP port")
        return default
    return port


def _admin_url(node: Node, default: str) -> str:
    """An http(s) URL with a host and nothing past the path: the node reads ``GET /`` there with curl or wget."""
    url = node.string("adminUrl") or default
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not one
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password or any(char in url for char in " '\"\\$`"):
        node.problem("adminUrl", f"{url!r} is not the node's Admin API URL, such as {DEFAULT_ADMIN_URL} (as the "
                                 "node itself reaches it)")
        return default
    return url.rstrip("/")


def _conf_path(node: Node, default: str) -> str:
    conf_path = node.string("confPath") or default
    if not conf_path.startswith("/"):
        node.problem("confPath", f"{conf_path!r} is not an absolute path")
    return conf_path
