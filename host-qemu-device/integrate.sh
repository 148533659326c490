#!/usr/bin/env bash
# Usage: host-qemu-device/integrate.sh QEMU_SRC_DIR
#
# Hooks the virtio-ace device into a QEMU 7.2 tree whose hw/virtio/ already
# holds our files (virtio-ace.c, virtio-ace-peers.c, virtio-ace-control.c,
# virtio-ace-internal.h, virtio-ace-ctrl.[ch], virtio-ace-pci.c,
# ace-shared/) and include/hw/virtio/virtio-ace.h.  Every edit is
# idempotent: each one checks for its own marker first, so running it twice
# changes nothing.
set -euo pipefail
src=${1:?usage: integrate.sh QEMU_SRC_DIR}
cd "$src"

edit() { # edit FILE MARKER: append stdin to FILE unless MARKER is in it
	grep -qF "$2" "$1" || cat >>"$1"
}

# 1. The device ID (the value is ours to pick: see docs/device.md).
grep -q 'VIRTIO_ID_ACE' include/standard-headers/linux/virtio_ids.h ||
	sed -i 's|^\(#define VIRTIO_ID_GPIO.*\)$|\1\n#define VIRTIO_ID_ACE\t\t\t63 /* virtio ACE message channel */|' \
		include/standard-headers/linux/virtio_ids.h
grep -q 'VIRTIO_ID_ACE' include/standard-headers/linux/virtio_ids.h

# 2. virtio_init() asserts the ID has a name; QMP status asserts it has a
#    feature decoder: add ours to both.
grep -q '\[VIRTIO_ID_ACE\]' hw/virtio/virtio.c ||
	sed -i 's|^\(    \[VIRTIO_ID_GPIO\] = "virtio-gpio"\)$|\1,\n    [VIRTIO_ID_ACE] = "virtio-ace"|' hw/virtio/virtio.c
grep -q '\[VIRTIO_ID_ACE\]' hw/virtio/virtio.c
grep -q 'case VIRTIO_ID_ACE:' hw/virtio/virtio.c ||
	sed -i 's|^\(    /\* No features \*/\)$|\1\n    case VIRTIO_ID_ACE:|' hw/virtio/virtio.c
grep -q 'case VIRTIO_ID_ACE:' hw/virtio/virtio.c

# 3. Kconfig and meson.
edit hw/virtio/Kconfig 'config VIRTIO_ACE' <<'K'

config VIRTIO_ACE
    bool
    default y
    depends on VIRTIO
K
edit hw/virtio/meson.build 'CONFIG_VIRTIO_ACE' <<'M'

virtio_ace_core = files('ace-shared/ace_arena.c', 'ace-shared/ace_pool.c',
                        'ace-shared/ace_mproc.c', 'ace-shared/ace_inbox.c',
                        'ace-shared/ace_notify.c')
specific_virtio_ace_ss = ss.source_set()
specific_virtio_ace_ss.add(when: 'CONFIG_VIRTIO_ACE',
                           if_true: [files('virtio-ace.c', 'virtio-ace-peers.c',
                                           'virtio-ace-control.c',
                                           'virtio-ace-ctrl.c'),
                                     virtio_ace_core])
specific_virtio_ace_ss.add(when: ['CONFIG_VIRTIO_ACE', 'CONFIG_VIRTIO_PCI'],
                           if_true: files('virtio-ace-pci.c'))
specific_ss.add_all(when: 'CONFIG_VIRTIO', if_true: specific_virtio_ace_ss)
M

# 4. Trace events.
edit hw/virtio/trace-events 'virtio_ace_attach' <<'T'

# virtio-ace.c
virtio_ace_attach(uint32_t size, uint64_t generation) "arena %u bytes, generation %" PRIu64
virtio_ace_detach(const char *why) "%s"
virtio_ace_ctrl(uint32_t cmd, uint32_t status, uint32_t detail) "cmd %u status %u detail %u"
virtio_ace_peer_up(int peer) "peer %d"
virtio_ace_peer_down(int peer) "peer %d"
virtio_ace_reaped(uint32_t peers, uint32_t mprocs, int64_t blocks, int64_t us) "peers 0x%x: %u mproc(s), %" PRId64 " block(s) in %" PRId64 " us"
virtio_ace_raise(int peer, int interrupts, int relays) "peer %d: %d interrupt(s), %d relay(s)"
virtio_ace_defer(uint32_t slot, uint32_t seq) "slot %u section %u"
virtio_ace_overrun(uint32_t slot, uint32_t seq) "slot %u section %u"
virtio_ace_event(uint32_t type, uint32_t peer, int owed) "type %u peer %u owed %d"
virtio_ace_doorbell(int peer) "peer %d"
virtio_ace_bell(int peer, int kvm) "peer %d: direct doorbell (kvm %d)"
virtio_ace_freeze(uint32_t up_before, uint32_t up_after) "peers up 0x%x, after DETACH 0x%x"
T
echo "[integrate] virtio-ace hooked into $src"
