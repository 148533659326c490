#!/usr/bin/env bash
# Usage: scripts/libvirt/ace-libvirtd.sh [--timeout SECS] DIR
#   Runs a private libvirtd and virtlogd (as root) whose whole state lives in
#   DIR, and stays in the foreground until it gets SIGTERM/SIGINT or SECS
#   (default 600) have passed; then it stops both daemons by their PIDs and
#   waits for them. A system libvirt is neither used nor touched: the daemons
#   run in a private mount namespace where DIR/etc, DIR/run, DIR/lib,
#   DIR/log and DIR/cache are bind-mounted over /etc/libvirt, /run/libvirt,
#   /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt. QEMU runs as
#   root, without security driver, cgroups or a private /dev (qemu.conf in
#   DIR/etc); without libvirt-daemon-system, the namespace also gets a
#   passwd/group naming libvirt-qemu, which libvirtd insists on. Connect from outside with
#       virsh -c "qemu:///system?socket=DIR/run/libvirt-sock" ...
#   DIR/libvirtd.pid and DIR/virtlogd.pid hold the daemons' PIDs, DIR/log/
#   their logs and the domains' QEMU logs. Needs root, unshare(1) and the
#   Debian packages of `scripts/deps.sh libvirt`.
set -euo pipefail

SECS=600
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) SECS=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	-*) echo "ace-libvirtd: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
[ "$(id -u)" -eq 0 ] || { echo "ace-libvirtd: must run as root" >&2; exit 1; }
for p in libvirtd virtlogd unshare; do
	command -v "$p" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$p" >/dev/null ||
		{ echo "ace-libvirtd: $p not found (scripts/deps.sh libvirt)" >&2; exit 1; }
done
mkdir -p "$1"
D=$(cd "$1" && pwd)

# --- inside the private mount namespace -------------------------------------
if [ "${ACE_LIBVIRTD_NS:-}" = "$D" ]; then
	mount --make-rprivate /
	for m in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt \
		log:/var/log/libvirt cache:/var/cache/libvirt; do
		# the mount points are the standard (empty) package directories
		mkdir -p "${m#*:}"
		mount --bind "$D/${m%%:*}" "${m#*:}"
	done
	# libvirtd resolves Debian's default QEMU user and group (libvirt-qemu)
	# before it reads qemu.conf; only libvirt-daemon-system creates them. A
	# private passwd/group names them (as root, whom qemu.conf picks anyway).
	for f in passwd group; do
		getent "$f" libvirt-qemu >/dev/null && continue
		cp "/etc/$f" "$D/etc/$f"
		if [ $f = passwd ]; then
			echo "libvirt-qemu:x:0:0:QEMU as root:/nonexistent:/usr/sbin/nologin"
		else
			echo "libvirt-qemu:x:0:"
		fi >>"$D/etc/$f"
		mount --bind "$D/etc/$f" "/etc/$f"
	done
	LPID="" VPID=""
	# shellcheck disable=SC2317 # called from the traps
	stop() {
		local p f
		# domains still running: their QEMU outlives libvirtd otherwise
		for f in "$D"/run/qemu/*.pid; do
			[ -f "$f" ] || continue
			p=$(cat "$f")
			grep -q qemu "/proc/$p/cmdline" 2>/dev/null || continue
			echo "ace-libvirtd: killing QEMU $p of a domain left running" >&2
			kill -KILL "$p" 2>/dev/null || true
		done
		for p in $LPID $VPID; do
			kill -TERM "$p" 2>/dev/null || continue
			for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		done
		rm -f "$D/libvirtd.pid" "$D/virtlogd.pid"
	}
	trap 'stop; exit 0' TERM INT
	trap stop EXIT
	virtlogd --config "$D/etc/virtlogd.conf" --pid-file "$D/run/virtlogd.pid" \
		>>"$D/log/virtlogd.out" 2>&1 &
	VPID=$!
	echo "$VPID" >"$D/virtlogd.pid"
	for _ in $(seq 100); do [ -S "$D/run/virtlogd-sock" ] && break; sleep 0.1; done
	libvirtd --config "$D/etc/libvirtd.conf" --pid-file "$D/run/libvirtd.pid" \
		>>"$D/log/libvirtd.out" 2>&1 &
	LPID=$!
	echo "$LPID" >"$D/libvirtd.pid"
	deadline=$((SECONDS + SECS))
	while [ $SECONDS -lt "$deadline" ]; do
		kill -0 "$LPID" 2>/dev/null || { echo "ace-libvirtd: libvirtd exited" >&2; exit 1; }
		kill -0 "$VPID" 2>/dev/null || { echo "ace-libvirtd: virtlogd exited" >&2; exit 1; }
		sleep 0.5 &
		wait $! || true
	done
	echo "ace-libvirtd: time limit (${SECS}s) reached, stopping" >&2
	exit 0
fi

# --- outside: write the configuration, enter the namespace ------------------
mkdir -p "$D"/{etc,run,lib,log,cache}
chmod 0700 "$D/run"
cat >"$D/etc/libvirtd.conf" <<EOF
# private libvirtd: root only, on a socket in $D/run
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$D/log/libvirtd.log"
EOF
cat >"$D/etc/virtlogd.conf" <<EOF
log_outputs = "3:file:$D/log/virtlogd.log"
EOF
cat >"$D/etc/qemu.conf" <<EOF
# QEMU as root, nothing that needs a system set-up (users, AppArmor,
# cgroups, a private /dev): the domains of this daemon are test guests.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "logd"
EOF
export ACE_LIBVIRTD_NS=$D
exec unshare -m -- bash "$0" --timeout "$SECS" "$D"
