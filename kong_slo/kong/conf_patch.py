"""``KongConfPatch``: switch Kong's tracing on in kong.conf on the Kong host, over SSH, during ``pulumi up``.

Design. The Kong host runs Kong, not kong-slo (nor necessarily Python), so the patch is computed in the program
with the same pure ``patch_kong_conf`` the CLI uses, and the host only copies bytes around:

1. ``<name>-read`` (remote ``Command``) prints the file base64-encoded, so CRLF endings, a missing final newline
   and any byte survive the trip. It runs on create and again whenever the wanted settings or the connection,
   path or restart command change (``triggers``). Its stdout is a secret: kong.conf may hold passwords.
2. The program decodes it and patches it inside ``apply``; that only computes a string (no resource is declared
   in ``apply``). In ``pulumi preview`` of a new stack the content is unknown, and so is the patch.
3. ``<name>-write`` (remote ``Command``, after the read) receives the patched file base64-encoded on stdin, as
   a secret. On the host it compares, and only when the content differs: keeps the pre-kong-slo file once as
   ``PATH.kong-slo.orig``, the previous one as ``PATH.bak``, writes a copy with the same mode and owner next to
   the file and renames it over (atomic), checks it with ``kong check`` when available (restoring ``PATH.bak``
   if Kong refuses it), and runs the restart command. The same script runs on update, so a settings change
   re-reads and re-patches without deleting anything first. An unchanged ``pulumi up`` runs no command.
4. A new host, port or ``confPath`` replaces the write command, old one first: its ``delete`` restores the old
   host's file (with the old connection) before the new host is patched. Neither command gets the previous
   output in its environment (``add_previous_output_in_env`` off): the read's output, the whole file in base64,
   can exceed Linux's 128 KiB per variable, and sshd would refuse it anyway.
5. ``pulumi destroy`` runs the write command's ``delete``: it puts back only what kong-slo changed (each tracing
   line it rewrote or uncommented, and its appended block; ``restore_chunks``, computed from the file as it was
   before kong-slo, which the read also prints while ``PATH.kong-slo.orig`` exists). Every other edit made since
   stays; a tracing line someone changed since stays too, and the destroy says so. Then it restarts Kong. The
   delete command carries those lines, so it is a secret.

Files are written, and the restart command run, with ``sudo -n`` only when the SSH user cannot write kong.conf
itself. A restart that fails is retried by the next run, even when the file needs no change. A symlinked kong.conf
keeps its link; the file it points to is patched. The read runs again whenever anything the write command uses
changes (host, user, port, path, restart command, wanted settings), so the write never replays an old read over
later edits. The private key is passed as a Pulumi secret and stays one.
"""

from __future__ import annotations

import base64
import shlex

import pulumi
from pulumi_command import remote

from kong_slo.errors import KongSloError
from kong_slo.kong.conf import ENCODING, KongConfError, patch_kong_conf, restore_chunks
from kong_slo.kong.tracing import TracingSettings
from kong_slo.settings import SshSettings

DIAL_TIMEOUT_SECONDS = 15
COMMAND_TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m", delete="10m")

_PRELUDE = r"""set -eu
conf=$1; restart=$2
if [ -L "$conf" ]; then conf=$(readlink -f -- "$conf"); fi  # write the file the link points to; keep the link
dir=$(dirname -- "$conf")
if [ -w "$conf" ] && [ -r "$conf" ] && [ -w "$dir" ]; then as_owner() { "$@"; }
else as_owner() { sudo -n -- "$@"; }; fi
pending="$conf.kong-slo.restart-pending"
restart_kong() {  # the marker outlives a failed restart, so the next run restarts even when the file is unchanged
  as_owner touch -- "$pending"
  if command -v timeout >/dev/null 2>&1; then as_owner timeout 300 sh -c "$restart"; else as_owner sh -c "$restart"; fi
  as_owner rm -f -- "$pending"
}
finish_pending_restart() {
  if as_owner test -e "$pending"; then
    restart_kong; echo "kong-slo: Kong restarted (the restart after the last change of $conf had failed)"
  fi
}
replace_with() {  # replace_with SOURCE: same mode and owner as $conf, renamed over it in one step
  as_owner cp -p -- "$conf" "$conf.kong-slo.new"
  as_owner sh -c 'cat -- "$1" > "$2"' replace "$1" "$conf.kong-slo.new"
  as_owner mv -f -- "$conf.kong-slo.new" "$conf"
}
"""

APPLY_SCRIPT = _PRELUDE + r"""new=$(mktemp); trap 'rm -f "$new"' EXIT
base64 -d > "$new"
if as_owner cmp -s -- "$new" "$conf"; then
  echo "kong-slo: $conf already has the tracing settings"; finish_pending_restart; exit 0
fi
as_owner test -e "$conf.kong-slo.orig" || as_owner cp -p -- "$conf" "$conf.kong-slo.orig"
as_owner cp -p -- "$conf" "$conf.bak"
replace_with "$new"
if command -v kong >/dev/null 2>&1 && ! as_owner kong check "$conf" >&2; then
  replace_with "$conf.bak"
  echo "kong-slo: kong check refused the patched $conf; the previous file is back in place" >&2; exit 1
fi
as_owner cp -p -- "$conf" "$conf.kong-slo.applied"
restart_kong
echo "kong-slo: tracing switched on in $conf (previous content in $conf.bak); Kong restarted"
"""

RESTORE_SCRIPT = _PRELUDE + r"""orig="$conf.kong-slo.orig"; applied="$conf.kong-slo.applied"; shift 2
if ! as_owner test -e "$orig" && ! as_owner test -e "$applied"; then
  echo "kong-slo: nothing to restore in $conf"; finish_pending_restart; exit 0
fi
nl='
'
cr=$(printf '\r')
unpack() { printf '%s' "$1" | base64 -d; printf x; }
text=$(as_owner cat -- "$conf"; printf x); text="$nl${text%x}"
undone=0; left=0
while [ $# -ge 2 ]; do  # pairs: what kong-slo wrote, what was there before (base64)
  patched=$(unpack "$1"); patched=${patched%x}; original=$(unpack "$2"); original=${original%x}; shift 2
  case $patched in "$nl"*|"$cr$nl"*) needle=$patched; lead= ;; *) needle=$nl$patched; lead=$nl ;; esac
  case $text in
    *"$needle"*) text=${text%%"$needle"*}$lead$original${text#*"$needle"}; undone=$((undone + 1)) ;;
    *) left=$((left + 1)) ;;
  esac
done
if [ "$left" -gt 0 ]; then
  echo "kong-slo: $left of the tracing settings kong-slo wrote in $conf were changed since; they stay as they are" >&2
fi
if [ "$undone" -eq 0 ]; then
  as_owner rm -f -- "$orig" "$applied"; finish_pending_restart; exit 0
fi
new=$(mktemp); trap 'rm -f "$new"' EXIT
printf '%s' "${text#"$nl"}" > "$new"
as_owner cp -p -- "$conf" "$conf.bak"
replace_with "$new"
as_owner rm -f -- "$orig" "$applied"
restart_kong
echo "kong-slo: the tracing settings $conf had before kong-slo are back (other edits stay); Kong restarted"
"""

ORIGINAL_MARK = "kong-slo:original"
"""Separates the file from the copy kept before kong-slo first patched it, in the read command's output."""

READ_SCRIPT = r"""set -eu
show() { if [ -r "$1" ]; then base64 < "$1"; else sudo -n -- base64 -- "$1"; fi; }
if [ -r "$1" ] || sudo -n -- test -r "$1" 2>/dev/null; then show "$1"
else echo "kong-slo: cannot read $1 as $(id -un), nor with sudo -n; check kong.ssh.confPath and the user" >&2; exit 1
fi
conf=$1; if [ -L "$conf" ]; then conf=$(readlink -f -- "$conf"); fi
if [ -e "$conf.kong-slo.orig" ] || sudo -n -- test -e "$conf.kong-slo.orig" 2>/dev/null; then
  echo "kong-slo:original"; show "$conf.kong-slo.orig"
fi
"""


def remote_script(script: str, *arguments: str) -> str:
    """A command line that runs ``script`` under ``sh`` whatever the SSH user's login shell."""
    return " ".join(["sh", "-c", shlex.quote(script), "kong-slo", *(shlex.quote(arg) for arg in arguments)])


def _decode(encoded: str) -> str:
    return base64.b64decode("".join(encoded.split()), validate=True).decode(*ENCODING)


def decode_conf(stdout: str | None) -> str:
    """kong.conf from the read command's base64 output (line breaks in the encoding are ignored; an empty
    file prints nothing)."""
    return _decode((stdout or "").partition(ORIGINAL_MARK)[0])


def decode_original(stdout: str | None) -> str:
    """kong.conf as it was before kong-slo first patched it: the kept copy the read printed, else the file."""
    current, mark, original = (stdout or "").partition(ORIGINAL_MARK)
    return _decode(original if mark else current)


def encode_conf(text: str) -> str:
    return base64.b64encode(text.encode(*ENCODING)).decode("ascii")


def patched_payload(stdout: str, tracing: TracingSettings, where: str = "kong.conf") -> str:
    """What the write command gets on stdin: the patched kong.conf, base64-encoded.

    Raises ``KongSloError`` naming ``where`` (``host:path``) and the line when the file is not kong.conf.
    """
    try:
        return encode_conf(patch_kong_conf(decode_conf(stdout), tracing))
    except KongConfError as error:
        raise KongSloError(f"{where}:{error.line_no}: {error.reason}; kong.conf left unchanged") from None
    except ValueError as error:
        raise KongSloError(f"{where}: could not read the file back from the host ({error})") from None


def restore_arguments(stdout: str, tracing: TracingSettings) -> list[str]:
    """The restore script's arguments: (written, original) pairs base64-encoded, from ``restore_chunks`` of the
    file as it was before kong-slo. An unreadable file gives none (the patch itself reports it)."""
    try:
        chunks = restore_chunks(decode_original(stdout), tracing)
    except (KongConfError, ValueError):
        return []
    return [encode_conf(text) for chunk in chunks for text in chunk]


def node_patches(nodes: tuple[SshSettings, ...]) -> list[tuple[str, SshSettings, pulumi.ResourceOptions]]:
    """A resource name and options per node, named by its address: a node leaving the list is deleted (its file
    given back), one joining is created, the others stay untouched whatever their place in the list. The first
    node also answers to ``kong-conf``, the name of the one node stacks patched before nodes were listed: the
    same host listed first changes nothing on it; another host gives the old one's file back first."""
    return [(f"kong-conf-{node.host}-{node.port}", node,
             pulumi.ResourceOptions(aliases=[pulumi.Alias(name="kong-conf")] if index == 0 else None))
            for index, node in enumerate(nodes)]


class KongConfPatch(pulumi.ComponentResource):
    """Kong's kong.conf on one host, with the tracing ``tracing`` asks for; see the module docstring."""

    def __init__(self, name: str, ssh: SshSettings, tracing: TracingSettings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kongslo:kong:KongConfPatch", name, None, opts)
        if not ssh.private_key.known:
            raise KongSloError("kong-slo:kong.ssh.privateKey: the key is still encrypted; run through `pulumi up`")
        connection = remote.ConnectionArgs(
            host=ssh.host, user=ssh.user, port=ssh.port,
            private_key=pulumi.Output.secret(ssh.private_key.reveal()), host_key=ssh.host_key,
            per_dial_timeout=DIAL_TIMEOUT_SECONDS)
        wanted = sorted(tracing.properties().items())
        read_command = remote_script(READ_SCRIPT, ssh.conf_path)
        self.read = remote.Command(
            f"{name}-read", connection=connection, create=read_command, update=read_command,
            triggers=[ssh.host, ssh.user, str(ssh.port), ssh.conf_path, ssh.restart_command,
                      *(f"{key}={value}" for key, value in wanted)],
            logging=remote.Logging.STDERR, add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"],
                                        custom_timeouts=COMMAND_TIMEOUTS))
        where = f"{ssh.host}:{ssh.conf_path}"
        payload = pulumi.Output.secret(self.read.stdout.apply(lambda stdout: patched_payload(stdout, tracing, where)))
        apply_command = remote_script(APPLY_SCRIPT, ssh.conf_path, ssh.restart_command)
        self.write = remote.Command(
            f"{name}-write", connection=connection,
            create=apply_command, update=apply_command,
            delete=pulumi.Output.secret(self.read.stdout.apply(lambda stdout: remote_script(
                RESTORE_SCRIPT, ssh.conf_path, ssh.restart_command, *restore_arguments(stdout, tracing)))),
            stdin=payload, logging=remote.Logging.STDOUT_AND_STDERR, add_previous_output_in_env=False,
            triggers=[ssh.host, str(ssh.port), ssh.conf_path],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.read], custom_timeouts=COMMAND_TIMEOUTS,
                                        delete_before_replace=True))
        self.result = self.write.stdout
        self.register_outputs({"confPath": ssh.conf_path, "result": self.result})
