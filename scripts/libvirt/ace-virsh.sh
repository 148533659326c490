#!/usr/bin/env bash
# Usage: scripts/libvirt/ace-virsh.sh [options] COMMAND
#   A libvirt domain with the ACE device, from scripts/libvirt/ace-domain.xml.in,
#   managed with virsh.
#   Commands:
#     xml       print the filled-in domain XML
#     define    define (or redefine) the domain
#     start     define it if needed, then start it
#     stop      stop it at once (virsh destroy)
#     undefine  remove its definition (stop it first)
#     state     print its state (virsh domstate)
#   Options:
#     -c URI          libvirt connection (default $LIBVIRT_DEFAULT_URI, else
#                     qemu:///system)
#     -n NAME         domain name (default ace-vm)
#     -s PATH         the device's socket for host services
#                     (default /run/ace/NAME.sock; its directory is created)
#     -m MIB          guest RAM in MiB (default 512)
#     -p N            vCPUs (default 2)
#     -N CELLS        NUMA cells sharing RAM and vCPUs evenly (default 1:
#                     none); libvirt backs each with its own memory backend
#     -k FILE         kernel (default build/guest/vmlinuz)
#     -i FILE         initramfs (default build/vm/initramfs.cpio.gz, else
#                     build/guest/initramfs.cpio.gz)
#     -a STRING       more kernel command line (after console=ttyS0 ...)
#     -l FILE         serial console log (default build/logs/libvirt-NAME.log)
#     -e FILE         QEMU binary (default $ACE_QEMU, else our build)
#     -A auto|tcg|kvm accelerator (default auto: scripts/kvm-probe.sh)
#   QEMU runs as the user libvirt's qemu.conf names: with a system libvirtd
#   that user must be able to read the kernel and initramfs and create the
#   socket, and a security driver (AppArmor/SELinux) must allow those paths.
#   scripts/libvirt/ace-libvirtd.sh runs a private libvirtd instead.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"

URI=${LIBVIRT_DEFAULT_URI:-qemu:///system}
NAME=ace-vm SOCK="" MEM=512 VCPUS=2 CELLS=1 KERNEL="" INITRD="" APPEND="" CONLOG="" EMU=""
ACCEL=auto
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }
case ${1:-} in --help | -h) usage 0 ;; esac
while getopts "c:n:s:m:p:N:k:i:a:l:e:A:h" opt; do
	case $opt in
	c) URI=$OPTARG ;;
	n) NAME=$OPTARG ;;
	s) SOCK=$OPTARG ;;
	m) MEM=$OPTARG ;;
	p) VCPUS=$OPTARG ;;
	N) CELLS=$OPTARG ;;
	k) KERNEL=$OPTARG ;;
	i) INITRD=$OPTARG ;;
	a) APPEND=$OPTARG ;;
	l) CONLOG=$OPTARG ;;
	e) EMU=$OPTARG ;;
	A) ACCEL=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
CMD=$1
case $NAME in *[!A-Za-z0-9_.-]* | "") die "domain name '$NAME': use letters, digits, _ . -" ;; esac
case $MEM$VCPUS$CELLS in *[!0-9]*) die "-m, -p and -N take numbers" ;; esac
[ "$CELLS" -ge 1 ] && [ $((VCPUS % CELLS)) -eq 0 ] && [ $((MEM % CELLS)) -eq 0 ] ||
	die "-N $CELLS must divide the vCPUs ($VCPUS) and the MiB of RAM ($MEM)"

vsh() { virsh -q -c "$URI" "$@"; }
defined() { vsh dominfo "$NAME" >/dev/null 2>&1; }

# abs PATH: an absolute path (libvirt and QEMU do not run in our directory)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# esc STRING: STRING as XML text/attribute content
esc() {
	local s=${1//&/&amp;}
	s=${s//</&lt;}
	s=${s//>/&gt;}
	s=${s//\'/&apos;}
	echo "${s//\"/&quot;}"
}

fill() {
	. "$ACE_SCRIPTS/qemu-env.sh"
	EMU=$(abs "${EMU:-$ACE_QEMU}")
	[ -x "$EMU" ] || die "no QEMU at $EMU (scripts/build-qemu.sh)"
	KERNEL=$(abs "${KERNEL:-$ACE_BUILD/guest/vmlinuz}")
	if [ -z "$INITRD" ]; then
		INITRD=$ACE_BUILD/vm/initramfs.cpio.gz
		[ -f "$INITRD" ] || INITRD=$ACE_BUILD/guest/initramfs.cpio.gz
	fi
	INITRD=$(abs "$INITRD")
	[ -f "$KERNEL" ] || die "no kernel at $KERNEL (scripts/fetch-guest-kernel.sh)"
	[ -f "$INITRD" ] || die "no initramfs at $INITRD (tests/vm/prepare.sh)"
	SOCK=$(abs "${SOCK:-/run/ace/$NAME.sock}")
	CONLOG=$(abs "${CONLOG:-$ACE_BUILD/logs/libvirt-$NAME.log}")
	[ "$ACCEL" = auto ] && ACCEL=$("$ACE_SCRIPTS/kvm-probe.sh")
	local type cpu="" fw="" a numa="" c per=$((VCPUS / CELLS))
	if [ "$CELLS" -gt 1 ]; then
		numa="    <numa>"$'\n'
		for ((c = 0; c < CELLS; c++)); do
			numa+="      <cell id='$c' cpus='$((c * per))-$((c * per + per - 1))' memory='$((MEM / CELLS))' unit='MiB'/>"$'\n'
		done
		numa+="    </numa>"$'\n'
	fi
	case $ACCEL in
	tcg) type=qemu cpu="  <cpu>" ;;
	kvm) type=kvm cpu="  <cpu mode='host-passthrough'>" ;;
	*) die "-A takes auto, tcg or kvm" ;;
	esac
	if [ -n "$numa" ]; then
		cpu+=$'\n'"$numa  </cpu>"
	elif [ "$type" = kvm ]; then
		cpu="  <cpu mode='host-passthrough'/>"
	else
		cpu=""
	fi
	for a in $ACE_QEMU_FIRMWARE_ARGS; do
		fw+="    <qemu:arg value='$(esc "$a")'/>"$'\n'
	done
	local x
	x=$(<"$HERE/ace-domain.xml.in")
	x=${x//@DOMAIN_TYPE@/$type}
	x=${x//@NAME@/$NAME}
	x=${x//@MEMORY_MIB@/$MEM}
	x=${x//@VCPUS@/$VCPUS}
	x=${x//@KERNEL@/$(esc "$KERNEL")}
	x=${x//@INITRD@/$(esc "$INITRD")}
	x=${x//@CMDLINE@/$(esc "console=ttyS0,115200 panic=-1 mitigations=off $APPEND")}
	x=${x//@CPU@$'\n'/$cpu${cpu:+$'\n'}}
	x=${x//@EMULATOR@/$(esc "$EMU")}
	x=${x//@CONSOLE_LOG@/$(esc "$CONLOG")}
	x=${x//@FIRMWARE_ARGS@$'\n'/$fw}
	# QEMU option syntax: a comma inside a value is doubled
	x=${x//@SOCKET@/$(esc "${SOCK//,/,,}")}
	case $x in *@[A-Z_]*@*) die "unfilled placeholder in ace-domain.xml.in" ;; esac
	printf '%s\n' "$x"
}

define() {
	XML=$(mktemp "${TMPDIR:-/tmp}/ace-domain.XXXXXX")
	trap 'rm -f "$XML"' EXIT
	fill >"$XML"
	mkdir -p "$(dirname "$SOCK")" "$(dirname "$CONLOG")"
	vsh define "$XML" >/dev/null || die "virsh define failed"
	log libvirt "defined $NAME (socket $SOCK, console $CONLOG)"
}

case $CMD in
xml) fill ;;
define) define ;;
start)
	defined || define
	vsh start "$NAME" >/dev/null
	log libvirt "started $NAME"
	;;
stop)
	vsh destroy "$NAME" >/dev/null
	log libvirt "stopped $NAME"
	;;
undefine)
	vsh undefine "$NAME" >/dev/null
	log libvirt "undefined $NAME"
	;;
state) vsh domstate "$NAME" ;;
*) echo "ace-virsh: unknown command '$CMD'" >&2; usage ;;
esac
