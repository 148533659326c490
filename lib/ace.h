/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace.h - libace: one API for ACE mprocs in guest processes (backend:
 * /dev/aceN) and host processes (backend: the virtio-ace device's socket).
 * The same calls and the same message layout on both sides.
 *
 *   struct ace *ch;
 *   struct ace_mp *mp;
 *   struct ace_buf b;
 *
 *   ace_open(&ch, "/dev/ace0", 0);       // or a socket path on the host
 *   ace_mp_create(ch, "client", ACE_MODE_ADAPTIVE, &mp);
 *   ace_lookup(ch, "echo", 5000, &dst);  // wait up to 5 s for "echo"
 *   ace_mp_alloc(mp, 64, &b);            // b.data: 64 bytes, in place
 *   memcpy(b.data, "hello", 6);
 *   ace_mp_send(mp, dst, &b);            // zero copy: the block moves
 *   ace_mp_recv(mp, &b, ACE_FOREVER);    // the reply
 *   ace_mp_free(mp, &b);
 *
 * Every call returns 0 (or a count) on success and -errno on failure;
 * ace_error(ch) says what went wrong in words.  Never a crash, whatever
 * the device or the guest does.  The errors every call may give, and
 * what the application may and must do then:
 *   -EIO     the arena is broken (a peer wrote nonsense; sticky).  May:
 *            close its mprocs.  Must: stop using the arena's mprocs; on
 *            the host, ace_service() then reports the guest's next arena
 *            (ACE_SVC_ATTACHED), or close the channel.
 *   -ESTALE  (host) the handle belongs to an arena that is gone: the
 *            guest detached it, attached another (taken or refused), or
 *            the connection broke; ace_error() names the event.  Nothing
 *            of that arena is touched again, and no other arena through
 *            it: an mproc keeps its own arena (once gone, private memory
 *            in its place) until it is closed, so a call already under
 *            way in another thread when the arena went (a wait in
 *            ace_mp_recv(), a close) ends in that, never in the next
 *            arena.  May: ace_mp_close() the mproc (always safe; it
 *            also lets go of that memory), drop its buffers (never free
 *            or send them).  Must: create the mprocs again after
 *            ACE_SVC_ATTACHED, or close the channel if it is dead.
 *   -EPIPE   the device went away (QEMU exited), broke the protocol or
 *            stalled in a message (bounded: the caller's timeout, at most
 *            1 s once a message began).  Must: ace_close() the channel
 *            (that closes every fd); may ace_open() again.
 *   -ENOTCONN (host, a channel opened with ACE_PERSIST) the guest took its
 *            arena away and may come back (a reboot, ace.ko reloaded):
 *            the mproc is kept, and the library creates it again, under
 *            the same name, when the guest attaches its next arena.  Its
 *            buffers are dead (drop them).  May: ace_mp_close() it.
 *            Must: wait for ACE_SVC_REATTACHED (ace_service_wait()), then
 *            use the mproc again.  QEMU gone is -EPIPE, never this.
 *            Calls on the channel (ace_mp_create(), ace_lookup(), the
 *            name calls) say -ENOTCONN too while there is no arena
 *            ("no arena now"): retry them after ACE_SVC_REATTACHED or
 *            ACE_SVC_ATTACHED.
 * A buffer (struct ace_buf) belongs to the mproc that allocated or
 * received it, and lives no longer than that mproc.  Freed or sent
 * through another mproc it gives -EINVAL (the arena records which mproc
 * holds each block), through an mproc of another arena -ESTALE.  Once
 * its mproc is closed the buffer is dead: a later arena may be mapped
 * where it points, and a stray free or send of it fails, or at worst
 * frees or sends a block that the calling mproc itself holds, never
 * another mproc's.
 *
 * Threads: a channel may be shared; an mproc belongs to one thread at a
 * time (its receive cursor is not locked).
 */
#ifndef ACE_H
#define ACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ace;		/* a channel: one arena */
struct ace_mp;		/* an mproc opened on a channel */

/* Delivery modes: the same values as in ace_abi.h. */
#ifndef ACE_MODE_POLL
#define ACE_MODE_POLL		0u	/* spin on the inbox; never notified */
#define ACE_MODE_INTERRUPT	1u	/* sleep until notified */
#define ACE_MODE_ADAPTIVE	2u	/* spin for spin_us, then sleep */
#endif

#define ACE_FOREVER	(-1LL)	/* timeout: wait as long as it takes */
#define ACE_NOWAIT	0LL	/* timeout: do not wait */

/* A message: where it is and what its header said. */
struct ace_buf {
	void *data;		/* payload, in the arena */
	uint32_t len;		/* payload bytes (set before ace_send) */
	uint32_t cap;		/* payload capacity of the block */
	uint32_t off;		/* the message's handle in the arena */
	uint32_t src;		/* sender's mproc id (received messages) */
	uint32_t type;		/* user-defined, carried to the receiver */
	uint32_t tag;		/* user-defined, carried to the receiver */
};

/* Per-mproc counters (a snapshot; see ace-stat). */
struct ace_stats {
	uint64_t sent, received, drains, max_batch, waits, wakeups, sections;
	uint64_t notifies, interrupts, deferrals, overruns, spurious;
	uint32_t held;		/* blocks this mproc holds now */
	uint32_t queued;	/* messages waiting in its inbox */
	uint32_t notify;	/* its notify word */
};

/*
 * Open a channel.  `where`: a guest device ("/dev/ace0"; NULL means that),
 * or the host path of a virtio-ace socket (socket=PATH or a chardev path).
 * On the host, waits up to `timeout_ms` (negative: for ever) for the
 * device and for the guest to attach its arena.  *ch is set even on
 * failure, so ace_error() can say why; ace_close() it either way.
 */
int ace_open(struct ace **ch, const char *where, int timeout_ms);

/*
 * ace_open() with flags:
 *   ACE_PERSIST  (host) the channel's mprocs outlive the guest's arena.
 *                When the guest detaches it (a reboot, ace.ko unloaded),
 *                calls on them give -ENOTCONN (not -ESTALE); when it
 *                attaches its next arena, ace_service() creates each of
 *                them again in it (same name and mode, a new id: guest
 *                lookups find them again) and returns ACE_SVC_REATTACHED.
 *                A service then simply goes on serving.  The connection
 *                breaking (QEMU gone) is -EPIPE as always: ace_close().
 *                ace_service() may run in another thread than the
 *                mprocs' (an event loop on ace_fd() while workers
 *                receive): it makes an mproc's new incarnation whole and
 *                then swaps it in at once, so a call that was under way
 *                ends on the old arena (-ENOTCONN, or a buffer that is
 *                now dead) and the next one uses the new.  A call still
 *                under way two re-attaches later is not supported (the
 *                library keeps one incarnation back).
 * In a guest the flags change nothing (the driver keeps the arena).
 */
#define ACE_PERSIST	1u
int ace_open_flags(struct ace **ch, const char *where, int timeout_ms,
		   unsigned flags);
void ace_close(struct ace *ch);

/* What went wrong, in words: this thread's last failing call, if it was
 * on this channel (another thread's failing call never overwrites it);
 * else the channel's latest message, from any thread.  Valid until this
 * thread's next failing call or ace_error(). */
const char *ace_error(const struct ace *ch);

/* 1 if this channel is the guest backend, 0 if host. */
int ace_is_guest(const struct ace *ch);

/* Arena facts: size in bytes, mproc slots, host peer index (host). */
uint32_t ace_arena_size(const struct ace *ch);
uint32_t ace_max_mprocs(const struct ace *ch);

/* Create a named mproc owned by this process.  -EEXIST, -ENOSPC, -EINVAL. */
int ace_mp_create(struct ace *ch, const char *name, unsigned mode,
		  struct ace_mp **mp);
/* Close it: its queued and held messages are freed. */
int ace_mp_close(struct ace_mp *mp);
uint32_t ace_mp_id(const struct ace_mp *mp);
struct ace *ace_mp_channel(const struct ace_mp *mp);

/* Change the delivery mode; spin_us is the adaptive spin (default 50). */
int ace_mp_set_mode(struct ace_mp *mp, unsigned mode, unsigned spin_us);

/* Find an mproc by name, waiting up to timeout_ms for it to appear; the
 * wait ends early (-EPIPE, -ESTALE) if the device or the arena goes. */
int ace_lookup(struct ace *ch, const char *name, int timeout_ms,
	       uint32_t *id);
/* Name of the mproc in `slot` (for listing): 0, or -ENOENT if unused. */
int ace_slot_name(struct ace *ch, uint32_t slot, char name[48], uint32_t *id);

/* Name of a live mproc by id: 0, or -ENOENT if that mproc is gone. */
int ace_name_of(struct ace *ch, uint32_t id, char name[48]);

/* Allocate a block with room for len payload bytes; b->len = len. */
int ace_mp_alloc(struct ace_mp *mp, size_t len, struct ace_buf *b);
/* Send b (b->len bytes, b->type, b->tag) to mproc dst.  The block now
 * belongs to the receiver; on failure the caller still holds it. */
int ace_mp_send(struct ace_mp *mp, uint32_t dst, struct ace_buf *b);
/* Receive one message, waiting up to timeout_ns (ACE_NOWAIT, ACE_FOREVER)
 * in the mproc's delivery mode.  1 with *b filled, 0 on timeout. */
int ace_mp_recv(struct ace_mp *mp, struct ace_buf *b, int64_t timeout_ns);
/* Receive up to n messages; waits like ace_mp_recv for the first only. */
int ace_mp_recv_batch(struct ace_mp *mp, struct ace_buf *b, int n,
		   int64_t timeout_ns);
/* Give a block back (a received message, or one never sent). */
int ace_mp_free(struct ace_mp *mp, struct ace_buf *b);

/*
 * Request and reply: send req to dst with a tag the library picks (set in
 * req->tag: non-zero, different for every call of this process, so
 * unique per mproc), then wait up to timeout_ns (ACE_FOREVER, ACE_NOWAIT)
 * for the message with that tag, as ace_mp_recv waits.  The service
 * answers with the tag it received (ace-echo answers in the same block,
 * tag and all).  Returns 1 with *reply filled (yours to free or send on),
 * 0 on timeout, -errno.  A failed send returns its error before anything
 * is waited for, and the caller still holds req.
 *
 * Messages with other tags that arrive meanwhile are not lost: they are
 * kept, in order, and the next ace_mp_recv (or call) returns them first.
 * A reply that comes after the timeout is an ordinary message then: a
 * later ace_mp_recv returns it (its tag tells it from others), a later
 * call keeps it for the receive after.  One call at a time per mproc, as
 * for every receive.
 *
 * ACE_PERSIST: when the guest goes away during a call, the call ends with
 * -ENOTCONN (as every call then); wait for ACE_SVC_REATTACHED.  When
 * another thread's ace_service() has already created the mproc again in
 * the guest's next arena, the call ends with -ENOTCONN as well, saying
 * so: the request and the messages kept went with the arena before (a
 * message of the new arena stays for the next receive), and dst was an
 * id there: look the service up again and call again.
 */
int ace_mp_call(struct ace_mp *mp, uint32_t dst, struct ace_buf *req,
		struct ace_buf *reply, int64_t timeout_ns);

/*
 * ACE sections.  While the mproc is inside one, deliveries to it are
 * deferred: no interrupt, no wake-up.  ace_mp_section_end() returns 1 when
 * messages arrived meanwhile (receive them now: nothing else will
 * announce them), 0 if none.  Sections nest.
 */
int ace_mp_section_begin(struct ace_mp *mp);
int ace_mp_section_end(struct ace_mp *mp);

/*
 * Event-loop use: a file descriptor that becomes readable when the mproc
 * is notified.  Arm before waiting on it (1 = mail is already there: do
 * not wait), disarm after.  ace_mp_fd_ack() consumes the readiness.
 */
int ace_mp_fd(struct ace_mp *mp);
int ace_mp_arm(struct ace_mp *mp);
int ace_mp_disarm(struct ace_mp *mp);
void ace_mp_fd_ack(struct ace_mp *mp);

/*
 * Event loops over whole channels (a host process serving many mprocs,
 * such as ace-bridge).  ace_fd() is readable when the channel needs
 * attention: a doorbell for one of this process's mprocs, or a message
 * from the device.  ace_service() handles it without blocking (a
 * message begun but not finished is waited for at most 1 s): the fds of
 * the notified mprocs become readable, and the device's messages are
 * applied.  It returns:
 *   0                 nothing changed: go on.
 *   ACE_SVC_ATTACHED  the guest attached a new arena since the last call.
 *                     Every mproc and buffer made before is stale
 *                     (-ESTALE): close them, create the mprocs again.
 *   ACE_SVC_DETACHED  the guest took its arena away (it may come back).
 *                     Every mproc is stale and channel calls give
 *                     -ESTALE: close the mprocs, wait for ACE_SVC_ATTACHED.
 *   ACE_SVC_REATTACHED  (ACE_PERSIST) the guest attached a new arena and
 *                     the library created the channel's mprocs again in
 *                     it (same names, new ids; buffers of the old arena
 *                     are dead).  An mproc it could not create (its name
 *                     taken meanwhile, no free slot) keeps giving
 *                     -ENOTCONN, and ace_error() says why; later calls
 *                     try again, at most every 100 ms (a guest that kicks
 *                     all the time costs no more), and ACE_SVC_REATTACHED
 *                     comes again when one is made.  When none could be
 *                     made (or the arena went again at once) the answer
 *                     is 0 with ace_error() saying why, not
 *                     ACE_SVC_REATTACHED; a channel with no mprocs gets
 *                     ACE_SVC_ATTACHED.
 *   ACE_SVC_DETACHED  also with ACE_PERSIST: the mprocs give -ENOTCONN
 *                     until ACE_SVC_REATTACHED.
 *   -EPIPE            the connection is gone (QEMU exited, or the device
 *                     broke the protocol or stalled): ace_close() the
 *                     channel; ace_open() again to wait for it.
 *   other -errno      the guest's new arena was refused (ace_error() says
 *                     why: -EIO a bad header, -EPROTO a bad region fd or
 *                     message).  The old arena is gone all the same: as
 *                     ACE_SVC_DETACHED; the channel stays and a later
 *                     arena gives ACE_SVC_ATTACHED.
 * In a guest, ace_fd() is the device's fd and ace_service() returns 0.
 */
#define ACE_SVC_ATTACHED	1
#define ACE_SVC_DETACHED	2
#define ACE_SVC_REATTACHED	3
int ace_fd(struct ace *ch);
int ace_service(struct ace *ch);

/*
 * ace_service(), after waiting up to timeout_ms (negative: for ever) for
 * the channel to need attention: what a receive loop calls when its
 * mproc says -ENOTCONN, until ACE_SVC_REATTACHED (or -EPIPE).  Returns
 * as ace_service(); 0 when nothing happened in time.  In a guest there is
 * nothing to wait for: it sleeps a positive timeout_ms and returns 0, and
 * returns 0 at once for a negative one (rather than sleeping for ever).
 */
int ace_service_wait(struct ace *ch, int timeout_ms);

/* Counters of any mproc slot (own or not). */
int ace_stats(struct ace *ch, uint32_t id, struct ace_stats *st);

/* The whole arena's blocks right now: free, in flight (queued), held. */
struct ace_census {
	uint32_t total, free, queued, held;
};
int ace_census(struct ace *ch, struct ace_census *c);

#ifdef __cplusplus
}
#endif

#endif /* ACE_H */
