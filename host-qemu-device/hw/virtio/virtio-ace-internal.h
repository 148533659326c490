/*
 * virtio-ace: what the device's files (virtio-ace.c, virtio-ace-peers.c,
 * virtio-ace-control.c) call of each other.  Not for other devices.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_ACE_INTERNAL_H
#define HW_VIRTIO_ACE_INTERNAL_H

#include "hw/virtio/virtio-ace.h"

/* How long a migration waits for each peer's DETACHED. */
#define ACE_DETACH_ACK_MS   1000

/* virtio-ace.c: the device core */
void virtio_ace_event(VirtIOAce *s, uint32_t type, uint32_t peer);
void virtio_ace_scan(VirtIOAce *s, int raiser);
void virtio_ace_raise(void *opaque);         /* a peer's raise fd handler */

/* virtio-ace-peers.c: host peers */
bool virtio_ace_peer_send(VirtIOAcePeer *p, uint32_t type,
                          const void *body, size_t len, int *fds, int nfds);
void virtio_ace_peer_send_arena(VirtIOAcePeer *p);
void virtio_ace_peer_down(VirtIOAcePeer *p);
void virtio_ace_check_broken(VirtIOAce *s);
void virtio_ace_drop_bh(void *opaque);
void virtio_ace_chr_hangup(VirtIOAce *s);
void virtio_ace_reap_abort(VirtIOAce *s);
void virtio_ace_reap_start(VirtIOAce *s, uint32_t peers);
void virtio_ace_reap_finish(VirtIOAce *s);
void virtio_ace_reap_bh(void *opaque);
void virtio_ace_detach_peers_sync(VirtIOAce *s);
int virtio_ace_chr_can_read(void *opaque);
void virtio_ace_chr_read(void *opaque, const uint8_t *buf, int size);
void virtio_ace_chr_event(void *opaque, QEMUChrEvent event);
bool virtio_ace_listen(VirtIOAce *s, Error **errp);

/* virtio-ace-control.c: the control queue */
void virtio_ace_detach(VirtIOAce *s, const char *why);
void virtio_ace_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq);

#endif
