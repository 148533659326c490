/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_abi.h - the one description of everything ACE shares.
 *
 * Included unchanged by the guest kernel module, the QEMU device, libace,
 * the tools and the tests.  Nothing else declares a structure that lives in
 * the arena, in the device's config space, on its queues or on the host
 * peer socket (the /dev/ace ioctls are in <linux/ace.h>).
 *
 * Every field is little-endian and fixed-width; every link inside the arena
 * is a 32-bit byte offset from the arena base (never a pointer), because
 * each side maps the arena at a different address.  ace_le* marks a word a
 * peer can write: read it once, check it, then use only the copy.
 *
 * The arena lives in a memory region of its own, owned by the device: a
 * virtio shared memory region (id ACE_SHM_ARENA) that the guest maps
 * write-back and host peers map from the region's fd.  It is never guest
 * RAM, so no side can reach any other guest memory through it.  Layout
 * (offsets from the region's base; the arena starts at offset 0):
 *
 *   0x0000 +--------------------------------------------+
 *          | struct ace_arena_hdr                 4 KiB |  magic, version,
 *          |   classes[8]: block size, count, base      |  geometry,
 *          |   free[8]: tagged free-list heads, 1 line  |  free-list heads
 *          |            each {u32 handle | u32 tag}     |
 *   mproc_off +-----------------------------------------+
 *          | struct ace_mproc [nr_mprocs]   256 B each  |  line 0: inbox,
 *          |                                            |  notify, state;
 *          |                                            |  line 1: name;
 *          |                                            |  lines 2-3: counters
 *   pending_off +---------------------------------------+
 *          | pending bitmap: u64 [ceil(nr_mprocs / 64)] |  bit n: mproc slot n
 *          |                                            |  was asked to wake
 *   msg_off +-------------------------------------------+  (64 B aligned)
 *          | struct ace_msg [total blocks]   32 B each  |  one descriptor per
 *          |   class 0's, then class 1's, ...           |  block: the header,
 *          |                                            |  out of line
 *   classes[0].base +-----------------------------------+  (4 KiB aligned)
 *          | payload | payload | ... class 0 (64 B)     |
 *   classes[1].base +-----------------------------------+
 *          | class 1 (256 B) ... class 7 (1 MiB)        |
 *   size   +--------------------------------------------+
 *
 * A block is payload only, block_size bytes, naturally placed (a 4 KiB
 * payload is one page); its header is its descriptor.  A message is named
 * by its *handle*: the byte offset of its descriptor with its class in the
 * low three bits (descriptors are 32-byte aligned, so those bits are free):
 *
 *   handle = msg_off + 32 * (first descriptor of class c + i) + c
 *
 * Checking a handle a peer wrote is one subtraction, one rotate and one
 * compare against the private geometry (ace_core.h), whatever the class;
 * a handle whose class bits lie fails it.
 *
 * An mproc's inbox is a push list: senders link a message in with one CAS
 * on `inbox`; the owner takes the whole list with one exchange and reverses
 * it into FIFO order.  Free lists are Treiber stacks whose 64-bit head
 * carries a 32-bit ABA tag.  See docs/architecture.md.
 */
#ifndef ACE_ABI_H
#define ACE_ABI_H

#include "ace_compat.h"

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

#define ACE_ARENA_MAGIC		0x31454341u	/* "ACE1" in memory order */
#define ACE_ABI_MAJOR		2	/* incompatible layout changes */
#define ACE_ABI_MINOR		2	/* additions; 1: the HELLO kick
					 * and raise fds are socket pairs;
					 * 2: direct doorbells (BELL) */
#define ACE_ABI_VERSION		((ACE_ABI_MAJOR << 16) | ACE_ABI_MINOR)

/*
 * Virtio device ID.  The spec defines no private range; 63 (PCI device
 * 0x1040 + 63 = 0x107f) is the last ID stock Linux's virtio-pci accepts and
 * the one least likely to be assigned soon.  See docs/device.md.
 */
#ifndef VIRTIO_ID_ACE
#define VIRTIO_ID_ACE		63
#endif
#define ACE_PCI_VENDOR_ID	0x1af4
#define ACE_PCI_DEVICE_ID	(0x1040 + VIRTIO_ID_ACE)

/*
 * Device feature bits (virtio feature bits 0-23 are the device's own).
 *
 * VIRTIO_ACE_F_BELL_PAGES: on PCI, each queue's notify address is a page
 * of its own: the notify capability's notify_off_multiplier is a multiple
 * of 4096 and every queue's queue_notify_off is its index, so doorbell
 * queue N (one per host peer) is rung by any write to
 *   BAR + cap.offset + (ACE_VQ_DOORBELL0 + N) * notify_off_multiplier
 * and nothing else is on that page.  The guest driver may then map a
 * doorbell's page into a process (/dev/aceN) so that it rings a host
 * peer with one store instead of a system call.  Offered by
 * virtio-ace-pci with page-per-vq=on (its default).  See docs/device.md.
 */
#define VIRTIO_ACE_F_BELL_PAGES	0

/* ------------------------------------------------------------------ */
/* Geometry limits (checked by ace_arena_init/attach)                  */
/* ------------------------------------------------------------------ */

#define ACE_HDR_SIZE		4096u
#define ACE_MAX_CLASSES		8	/* the class is a handle's low 3 bits */
#define ACE_MIN_ARENA		(64u << 10)	/* 64 KiB */
#define ACE_MAX_ARENA		(1u << 30)	/* 1 GiB; offsets are u32 */
#define ACE_MIN_BLOCK_SHIFT	6		/* 64 B */
#define ACE_MAX_BLOCK_SHIFT	22		/* 4 MiB */
#define ACE_MAX_MPROCS		1024u
#define ACE_DEFAULT_MPROCS	64u
#define ACE_DEFAULT_ARENA	(64u << 20)	/* the device's default region */
#define ACE_NAME_MAX		48		/* bytes including the NUL */
#define ACE_MAX_PEERS		32u		/* host peers per device */

/* ------------------------------------------------------------------ */
/* Arena header                                                        */
/* ------------------------------------------------------------------ */

struct ace_class_desc {
	ace_le32 block_size;	/* payload bytes, power of two, 64 B .. 4 MiB */
	ace_le32 nr_blocks;	/* may be 0 */
	ace_le32 base;		/* offset of block 0's payload, 4 KiB aligned */
	ace_le32 reserved;
};

/* Free-list head of one class: alone on its cache line. */
struct ace_free_head {
	ace_le64 head;		/* low 32: top block offset (0 = empty),
				 * high 32: ABA tag, +1 on every change */
	ace_le64 reserved[7];
};

struct ace_arena_hdr {
	ace_le32 magic;			/* 0x000 ACE_ARENA_MAGIC */
	ace_le16 version_major;		/* 0x004 ACE_ABI_MAJOR */
	ace_le16 version_minor;		/* 0x006 ACE_ABI_MINOR */
	ace_le32 size;			/* 0x008 arena bytes */
	ace_le32 hdr_size;		/* 0x00c ACE_HDR_SIZE */
	ace_le32 nr_mprocs;		/* 0x010 mproc table slots */
	ace_le32 mproc_off;		/* 0x014 offset of the table */
	ace_le32 mproc_size;		/* 0x018 sizeof(struct ace_mproc) */
	ace_le32 pending_off;		/* 0x01c offset of the pending bitmap */
	ace_le32 nr_classes;		/* 0x020 1 .. ACE_MAX_CLASSES */
	ace_le32 flags;			/* 0x024 reserved, 0 */
	ace_le64 generation;		/* 0x028 bumped at every (re)init */
	ace_le32 msg_off;		/* 0x030 offset of the descriptors */
	ace_le32 reserved0[3];		/* 0x034 */
	struct ace_class_desc classes[ACE_MAX_CLASSES];	/* 0x040 */
	ace_le32 reserved1[16];		/* 0x0c0 */
	struct ace_free_head free[ACE_MAX_CLASSES];	/* 0x100 */
	u8 reserved2[ACE_HDR_SIZE - 0x300];		/* 0x300 */
};

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/*
 * Values of ace_msg.flags, the block's state:
 *   FREE    on its class's free list
 *   ALLOC   held by `owner` (allocated, or received)
 *   CACHED  free, but kept in `owner`'s private block cache (struct
 *           ace_cache): not on any shared list, reclaimed with its owner,
 *           and a second free of it is seen at once
 *   QUEUED  in flight: pushed to an inbox, not yet taken; `owner` is the
 *           receiver.  Only the receiver (or the close of the destination)
 *           turns it back into ALLOC, so reclaiming a dead mproc's blocks
 *           (ALLOC or CACHED, owner == id) never frees a message in flight.
 */
#define ACE_MSG_FREE		0x45455246u	/* "FREE" */
#define ACE_MSG_ALLOC		0x434f4c41u	/* "ALOC" */
#define ACE_MSG_CACHED		0x48434143u	/* "CACH" */
#define ACE_MSG_QUEUED		0x44455551u	/* "QUED" */

/* A message's descriptor (its header, out of line: see the arena above). */
struct ace_msg {
	ace_le32 next;		/* handle: inbox, FIFO or free list; 0 = end */
	ace_le32 len;		/* payload bytes */
	ace_le32 src;		/* sender mproc id */
	ace_le32 dst;		/* destination mproc id */
	ace_le32 type;		/* user-defined */
	ace_le32 owner;		/* mproc id holding the block (see flags) */
	ace_le32 flags;		/* ACE_MSG_FREE / _ALLOC / _QUEUED */
	ace_le32 tag;		/* user-defined, e.g. a sequence number */
};
#define ACE_MSG_SHIFT		5	/* descriptors are 1 << 5 bytes */
#define ACE_MSG_SIZE		(1u << ACE_MSG_SHIFT)
#define ACE_HANDLE_CLASS(h)	((h) & (ACE_MAX_CLASSES - 1))
#define ACE_HANDLE_DESC(h)	((h) & ~(u32)(ACE_MAX_CLASSES - 1))

/* ------------------------------------------------------------------ */
/* mprocs                                                              */
/* ------------------------------------------------------------------ */

/*
 * An mproc id names one incarnation of a table slot:
 *   bits  0..11  slot index (< nr_mprocs)
 *   bits 12..31  generation (1 .. 2^20-1; never 0, so no id is 0)
 */
#define ACE_ID_SLOT_BITS	12
#define ACE_ID_SLOT_MASK	((1u << ACE_ID_SLOT_BITS) - 1)
#define ACE_ID_GEN_MASK		0xfffffu
#define ACE_ID(slot, gen)	(((u32)(gen) << ACE_ID_SLOT_BITS) | (u32)(slot))
#define ACE_ID_SLOT(id)		((id) & ACE_ID_SLOT_MASK)
#define ACE_ID_GEN(id)		((id) >> ACE_ID_SLOT_BITS)

/* ace_mproc.state: generation << 4 | one of: */
#define ACE_SLOT_FREE		0u
#define ACE_SLOT_CLAIMING	1u	/* being set up by its claimer */
#define ACE_SLOT_ACTIVE		2u
#define ACE_SLOT_CLOSING	3u	/* being torn down, reclaiming */
#define ACE_SLOT_STATE(s)	((s) & 0xfu)
#define ACE_SLOT_GEN(s)		(((s) >> 4) & ACE_ID_GEN_MASK)
#define ACE_SLOT_WORD(gen, st)	((((u32)(gen) & ACE_ID_GEN_MASK) << 4) | (st))

/* ace_mproc.inbox value of a closed mproc: no push can land on it. */
#define ACE_INBOX_CLOSED	0xffffffffu

/* ace_mproc.side: who owns the slot: kind | peer index << 8 */
#define ACE_SIDE_GUEST_KERNEL	1u
#define ACE_SIDE_GUEST_USER	2u
#define ACE_SIDE_HOST		3u
#define ACE_SIDE_KIND(s)	((s) & 0xffu)
#define ACE_SIDE_PEER(s)	(((s) >> 8) & 0xffu)
#define ACE_SIDE(kind, peer)	((u32)(kind) | ((u32)(peer) << 8))

/* ace_mproc.mode: the owner's delivery mode (informational for peers) */
#define ACE_MODE_POLL		0u	/* never armed: senders never notify */
#define ACE_MODE_INTERRUPT	1u	/* armed whenever it waits */
#define ACE_MODE_ADAPTIVE	2u	/* polls a while, then arms */

/*
 * The notify word: written by the owner (ARMED, section depth) and by the
 * notifying side (DEFERRED, FORCE) with atomic read-modify-writes only.
 *
 * A delivery (interrupt, wake-up, callback) is made iff
 *     ARMED && (depth == 0 || FORCE).
 *   bits  0..7   ACE section nesting depth
 *   bit   8      ARMED: the owner waits and wants to be notified
 *   bit   9      DEFERRED: a notification arrived inside a section
 *   bit  10      FORCE: the section outlived its time bound; deliver anyway
 *   bits 16..31  section sequence, +1 at every outermost section begin
 */
#define ACE_NOTIFY_DEPTH_MASK	0xffu
#define ACE_NOTIFY_ARMED	(1u << 8)
#define ACE_NOTIFY_DEFERRED	(1u << 9)
#define ACE_NOTIFY_FORCE	(1u << 10)
#define ACE_NOTIFY_SEQ_SHIFT	16
#define ACE_NOTIFY_DEPTH(n)	((n) & ACE_NOTIFY_DEPTH_MASK)
#define ACE_NOTIFY_SEQ(n)	((n) >> ACE_NOTIFY_SEQ_SHIFT)

/* Per-mproc counters.  Informational: nobody trusts them for control. */
struct ace_mproc_counters {
	/* written by the owner only */
	ace_le64 sent;		/* messages this mproc sent */
	ace_le64 received;	/* messages it took from its inbox */
	ace_le64 drains;	/* inbox exchanges that found mail */
	ace_le64 max_batch;	/* largest drain */
	ace_le64 waits;		/* times it armed to sleep */
	ace_le64 wakeups;	/* deliveries made to it: written by its
				 * side's notifier, atomically */
	ace_le64 sections;	/* outermost sections entered */
	ace_le64 reserved0;
	/* written by senders and notifiers (atomic adds) */
	ace_le64 notifies;	/* notifications raised toward it */
	ace_le64 interrupts;	/* interrupts injected for it */
	ace_le64 deferrals;	/* sends that found it inside a section */
	ace_le64 overruns;	/* sections that outlived the time bound */
	ace_le64 spurious;	/* deliveries that found it not armed */
	ace_le64 reclaimed;	/* blocks reclaimed when it closed */
	ace_le64 reserved1[2];
};

struct ace_mproc {
	/* line 0: senders CAS inbox, then load notify on the same line */
	ace_le32 inbox;		/* 0x00 newest pushed message, 0 empty */
	ace_le32 notify;	/* 0x04 ACE_NOTIFY_* */
	ace_le32 state;		/* 0x08 ACE_SLOT_WORD(gen, ACE_SLOT_*) */
	ace_le32 side;		/* 0x0c ACE_SIDE(kind, peer) */
	ace_le32 mode;		/* 0x10 ACE_MODE_* */
	ace_le32 pid;		/* 0x14 owner's pid, informational */
	ace_le32 reserved0[10];	/* 0x18 */
	/* line 1: identity */
	char name[ACE_NAME_MAX];	/* 0x40 NUL-terminated */
	ace_le32 reserved1[4];		/* 0x70 */
	/* lines 2-3 */
	struct ace_mproc_counters c;	/* 0x80 */
};

/* ------------------------------------------------------------------ */
/* Device: config space, control queue, event queue                    */
/* ------------------------------------------------------------------ */

/* Feature bits (device-specific bits 0..23).  None yet. */

/* Virtqueues: 0 control, 1 event, then one doorbell queue per host peer. */
#define ACE_VQ_CTRL		0
#define ACE_VQ_EVENT		1
#define ACE_VQ_DOORBELL0	2

/*
 * The arena's shared memory region: virtio shared memory region id 0
 * (PCI: a VIRTIO_PCI_CAP_SHARED_MEMORY_CFG capability into a 64-bit
 * prefetchable BAR).  Its length is at least arena_max; the guest formats
 * an arena of at most arena_max bytes at its offset 0.
 */
#define ACE_SHM_ARENA		0

struct ace_virtio_config {
	ace_le32 abi_version;	/* 0x00 ACE_ABI_VERSION of the device */
	ace_le32 arena_max;	/* 0x04 largest arena: the region's usable size */
	ace_le32 max_mprocs;	/* 0x08 largest mproc table */
	ace_le32 max_peers;	/* 0x0c doorbell queues = host peers */
	ace_le32 section_ns;	/* 0x10 ACE section time bound */
	ace_le32 peers_up;	/* 0x14 bitmap of connected peers */
	ace_le32 reserved[2];	/* 0x18 */
};

#define ACE_CTRL_ATTACH		1u	/* the arena in the region is ready */
#define ACE_CTRL_DETACH		2u	/* forget the arena */
#define ACE_CTRL_RESET		3u	/* detach and drop every peer state */

/* Driver -> device (device-readable buffer, exactly this long). */
struct ace_ctrl_cmd {
	ace_le32 cmd;		/* ACE_CTRL_* */
	ace_le32 reserved0;	/* 0 */
	ace_le32 arena_size;	/* ATTACH: bytes from the region's offset 0 */
	ace_le32 reserved1;	/* 0 */
	ace_le64 generation;	/* ATTACH: the arena header's generation */
};

/* Device -> driver (device-writable buffer). */
struct ace_ctrl_status {
	ace_le32 status;	/* 0 or a positive errno */
	ace_le32 detail;	/* the refused value or field */
};

#define ACE_EVT_PENDING		1u	/* scan the pending bitmap */
#define ACE_EVT_PEER_UP		2u	/* peer index came up */
#define ACE_EVT_PEER_DOWN	3u	/* peer index went away */
#define ACE_EVT_BROKEN		4u	/* the device found the arena broken */

/* ace_event.peer of a PEER_UP/DOWN the device could not deliver in time:
 * "peers changed, re-read peers_up from the config space". */
#define ACE_EVT_PEER_ANY	ACE_MAX_PEERS

/* Device -> driver, written into a buffer the driver posted. */
struct ace_event {
	ace_le32 type;		/* ACE_EVT_* */
	ace_le32 peer;		/* peer index, where it applies */
	ace_le32 arg;
	ace_le32 reserved;
};

/* ------------------------------------------------------------------ */
/* Host peer protocol on the device's UNIX socket                      */
/* ------------------------------------------------------------------ */

#define ACE_PEER_MAGIC		0x50454341u	/* "ACEP" */

#define ACE_PEER_HELLO		1u	/* dev -> peer, fds: kick, raise */
#define ACE_PEER_ARENA		2u	/* dev -> peer, fd: the arena region */
#define ACE_PEER_DETACH		3u	/* dev -> peer: arena gone */
#define ACE_PEER_FULL		4u	/* dev -> peer: no free peer slot */
#define ACE_PEER_BROKEN		5u	/* either way: the arena is broken */
#define ACE_PEER_DETACHED	6u	/* peer -> dev, no body: "after DETACH,
					 * I no longer touch the arena" */
#define ACE_PEER_BELL_REQ	7u	/* peer -> dev, no body: "give me my
					 * doorbell's notifier" (2.2) */
#define ACE_PEER_BELL		8u	/* dev -> peer, no body, fd: the
					 * doorbell's notifier (2.2) */

struct ace_peer_msg {
	ace_le32 magic;		/* ACE_PEER_MAGIC */
	ace_le32 type;		/* ACE_PEER_* */
	ace_le32 len;		/* bytes after this header */
	ace_le32 reserved;
};

/* ACE_PEER_HELLO body.  fds[0] = kick (device -> peer: readable when the
 * guest rang this peer's doorbell or another peer sent to its mprocs; the
 * peer reads and discards what is there), fds[1] = raise (peer -> device:
 * any bytes mean "scan the pending bitmap").  From ABI 2.1 each is one end
 * of a UNIX stream socket pair whose other end only the device holds,
 * shut in the direction not used; both sides read and write them with
 * MSG_DONTWAIT, so neither can make the other wait.  (2.0 passed eventfds,
 * one file shared by both sides; peers refuse them.) */
struct ace_peer_hello {
	ace_le32 abi_version;
	ace_le32 peer;		/* this peer's index */
	ace_le32 max_peers;
	ace_le32 section_ns;
	ace_le32 features;	/* ACE_HELLO_F_* (2.2; a 2.1 HELLO is 16
				 * bytes long and offers none) */
};

/*
 * ACE_HELLO_F_BELL: the device can hand this peer its doorbell's
 * notifier, so that a guest doorbell reaches the peer without a QEMU
 * thread relaying it.  A peer that wants it sends ACE_PEER_BELL_REQ; the
 * device answers ACE_PEER_BELL with one fd, an eventfd that the
 * hypervisor signals when the guest rings this peer's doorbell (KVM's
 * ioeventfd; under TCG the vCPU thread that rang).  The peer only reads
 * it (non-blocking) and polls it, beside the kick fd, which keeps
 * carrying the relays from other peers.  Doorbells rung before the BELL
 * arrives are in its counter.  A peer that does not ask keeps the kick
 * socket for everything (2.1 peers).
 */
#define ACE_HELLO_F_BELL	(1u << 0)

/* ACE_PEER_ARENA body.  fds[0] = the arena region (memfd or file, at
 * least region_size bytes long): the arena is its bytes [0, arena_size). */
struct ace_peer_arena {
	ace_le32 arena_size;
	ace_le32 region_size;	/* the region's size, >= arena_size */
	ace_le64 generation;
};

/*
 * ACE_PEER_BROKEN body.  Peer -> device: "a word in the arena is wrong",
 * sent once per arena by a peer whose core returned -EIO.  Device -> peer:
 * "stop using this arena", sent to every other peer when a peer or the
 * device itself found it broken (and to a peer that connects meanwhile).
 * A report about another generation than the attached one is stale and
 * ignored.  The arena stays broken until the guest attaches a new one.
 */
#define ACE_WHY_MAX		96
#define ACE_WHO_DEVICE		ACE_MAX_PEERS	/* peer value: the device */

struct ace_peer_broken {
	ace_le64 generation;	/* of the arena in question */
	ace_le32 value;		/* the offending value (ace_arena.why_value) */
	ace_le32 peer;		/* who found it: a peer index or ACE_WHO_DEVICE */
	char why[ACE_WHY_MAX];	/* what was wrong, NUL-terminated */
};

/* The /dev/aceN ioctls are the guest driver's uapi:
 * guest-module/include/uapi/linux/ace.h (<linux/ace.h>). */

/* ------------------------------------------------------------------ */
/* Layout checks                                                       */
/* ------------------------------------------------------------------ */

#define ACE_OFFSET_CHECK(type, field, off) \
	ACE_STATIC_ASSERT(__builtin_offsetof(struct type, field) == (off), \
			  #type "." #field " must be at " #off)
#define ACE_SIZE_CHECK(type, size) \
	ACE_STATIC_ASSERT(sizeof(struct type) == (size), \
			  "struct " #type " must be " #size " bytes")

ACE_SIZE_CHECK(ace_class_desc, 16);
ACE_SIZE_CHECK(ace_free_head, 64);
ACE_SIZE_CHECK(ace_arena_hdr, ACE_HDR_SIZE);
ACE_OFFSET_CHECK(ace_arena_hdr, version_major, 0x004);
ACE_OFFSET_CHECK(ace_arena_hdr, size, 0x008);
ACE_OFFSET_CHECK(ace_arena_hdr, nr_mprocs, 0x010);
ACE_OFFSET_CHECK(ace_arena_hdr, pending_off, 0x01c);
ACE_OFFSET_CHECK(ace_arena_hdr, nr_classes, 0x020);
ACE_OFFSET_CHECK(ace_arena_hdr, generation, 0x028);
ACE_OFFSET_CHECK(ace_arena_hdr, msg_off, 0x030);
ACE_OFFSET_CHECK(ace_arena_hdr, classes, 0x040);
ACE_OFFSET_CHECK(ace_arena_hdr, reserved1, 0x0c0);
ACE_OFFSET_CHECK(ace_arena_hdr, free, 0x100);
ACE_OFFSET_CHECK(ace_arena_hdr, reserved2, 0x300);
ACE_SIZE_CHECK(ace_msg, ACE_MSG_SIZE);
ACE_OFFSET_CHECK(ace_msg, owner, 0x14);
ACE_OFFSET_CHECK(ace_msg, tag, 0x1c);
ACE_SIZE_CHECK(ace_mproc_counters, 128);
ACE_SIZE_CHECK(ace_mproc, 256);
ACE_OFFSET_CHECK(ace_mproc, notify, 0x04);
ACE_OFFSET_CHECK(ace_mproc, state, 0x08);
ACE_OFFSET_CHECK(ace_mproc, name, 0x40);
ACE_OFFSET_CHECK(ace_mproc, c, 0x80);
ACE_SIZE_CHECK(ace_virtio_config, 32);
ACE_SIZE_CHECK(ace_ctrl_cmd, 24);
ACE_SIZE_CHECK(ace_ctrl_status, 8);
ACE_SIZE_CHECK(ace_event, 16);
ACE_SIZE_CHECK(ace_peer_msg, 16);
ACE_SIZE_CHECK(ace_peer_hello, 20);
ACE_SIZE_CHECK(ace_peer_arena, 16);
ACE_SIZE_CHECK(ace_peer_broken, 112);

#endif /* ACE_ABI_H */
