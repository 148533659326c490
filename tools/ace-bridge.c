// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-bridge - join several VMs' ACE arenas.  A host peer of each VM's
 * device; every named mproc of one VM appears in the others under a
 * qualified name ("vm2/echo"), as a proxy mproc the bridge owns.  A
 * message sent to a proxy is copied once into the far arena and sent on
 * from the proxy that stands for its sender there, so replies find their
 * way back the same way.
 *
 *   ace-bridge vm1=/run/ace/vm1.sock vm2=/run/ace/vm2.sock
 *
 * Validation: the core's receive checks every message (block offset,
 * length within the block, generation of the sender) before the bridge
 * sees it; the bridge reads the length once and copies exactly that many
 * bytes into a block of the far arena.  ACE semantics carry through: the
 * far send goes through the far arena's notify word, so sections and
 * armed/unarmed receivers there are honoured, and the proxies here are
 * notified or polled by their own mode.
 *
 * A VM that goes away, detaches its arena or breaks it (-EIO) is dropped
 * alone: its names are withdrawn from the others, messages to it are
 * freed and counted, and the bridge reconnects when its device is back.
 *
 * Isolation (docs/security.md, "Between VMs"): every guest is hostile.
 *  - A name is shown in another VM only where an export rule says so
 *    (--export FROM/PATTERN=TO,...; none by default).
 *  - Each VM may cause at most --quota proxies in any one other VM (the
 *    names it exports there and the reply paths of its senders), and the
 *    bridge never takes the last --reserve free slots of a VM.
 *  - A reply path is made only for a real sender: a live mproc of the
 *    VM the message came from, not one of the bridge's own proxies.
 *  - Each round serves every VM in turn, at most BUDGET messages of one
 *    VM, so one VM's flood leaves the others their share.
 *  - Whatever a guest wrote (names) is printed escaped, and what a guest
 *    can make the bridge say is rate-limited per VM; refusals are
 *    counted and told once per mproc.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "tool_util.h"

#define MAX_VMS		16
#define MAX_RULES	64
#define MAX_SLOTS	1024u		/* the largest mproc table */
#define BATCH		32
#define BUDGET		64		/* messages of one VM per round */
#define DEF_QUOTA	16		/* proxies one VM may cause in another */
#define SCAN_NS		100000000ull	/* look for new or gone names */
#define RETRY_NS	1000000000ull	/* reconnect a VM that is down */
#define OPEN_MS		20		/* ... waiting this long in a try */
#define LOG_BURST	10		/* lines about one VM ... */
#define LOG_PERIOD_NS	10000000000ull	/* ... per 10 s */

struct link;

struct vm {
	char name[16];
	const char *path;
	struct ace *ch;		/* NULL while the device is unreachable */
	int attached;		/* its arena is there: links may exist */
	uint64_t next_try;
	uint64_t in, out, dropped;	/* messages from it, into it, lost */
	uint64_t refused;	/* its names not exported (per mproc) */
	uint64_t over_quota;	/* its names and senders past its quota */
	uint64_t forged;	/* messages from senders that are not real */
	unsigned quota;		/* proxies it may cause in any one other VM */
	unsigned reserve;	/* its slots the bridge leaves free */
	int reserve_set;	/* reserve given by the operator */
	unsigned free_slots;	/* free slots at the last scan, less ours since */
	uint32_t *told;		/* per slot: the mproc id already logged */
	uint32_t nr_told;
	struct link *links;	/* the proxies living in its arena */
	struct link *cursor;	/* round robin: where its next turn starts */
	unsigned caused[MAX_VMS];	/* proxies it causes in VM i */
	uint64_t log_from;	/* rate limit of lines about it */
	unsigned log_n;
	uint64_t log_lost;
	char why[200];		/* the last reason it went down */
	/* an open under way in a thread of its own (see vm_try_open) */
	pthread_t opener;
	int opening;		/* the thread runs, or is not joined yet */
	int open_done;		/* atomic: it is over; its result: */
	struct ace *opened;	/* the channel, or NULL ... */
	char open_why[200];	/* ... and why */
};

/* A proxy: mproc `mp` in VM `home` stands for mproc `far_id` of VM `far`. */
struct link {
	struct link *next;	/* in home->links */
	struct vm *home, *far;
	struct ace_mp *mp;
	uint32_t far_id;
	char far_name[48];
	int named;		/* mirrors an exported name (else a reply path) */
	int seen;		/* found by the current scan */
};

/* An export rule: names of VM `from` ("*": any) matching `pat` are shown
 * in the VMs of mask `to`. */
struct rule {
	char from[16];
	char pat[48];
	uint32_t to;
};

static struct vm vms[MAX_VMS];
static int nr_vms;
static struct rule rules[MAX_RULES];
static int nr_rules;
static const char *rule_text[MAX_RULES];
static unsigned mode = ACE_MODE_ADAPTIVE;
static unsigned spin_us = 50;
static unsigned def_quota = DEF_QUOTA;
static int verbose;
static volatile sig_atomic_t stop, want_stats;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
}

static void vsay(const char *fmt, va_list ap)
{
	printf("ace-bridge: ");
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

/* A line about the bridge itself. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/*
 * A line a guest's doing can cause (its names, its senders, its arena
 * coming and going): at most LOG_BURST per LOG_PERIOD_NS per VM, then
 * one line saying how many were not shown.  Guest-written text in the
 * arguments must already be escaped (tool_esc()).
 */
static void say_vm(struct vm *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say_vm(struct vm *v, const char *fmt, ...)
{
	uint64_t now = tool_now_ns();
	va_list ap;

	if (now - v->log_from >= LOG_PERIOD_NS) {
		if (v->log_lost)
			say("%s: %llu more line(s) about it not shown (rate limit; "
			    "-s prints its counters)", v->name,
			    (unsigned long long)v->log_lost);
		v->log_from = now;
		v->log_n = 0;
		v->log_lost = 0;
	}
	if (v->log_n >= LOG_BURST) {
		v->log_lost++;
		return;
	}
	v->log_n++;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* ace_error() escaped: it may quote a name a guest wrote. */
static const char *err_of(struct ace *ch, char *buf, size_t size)
{
	return tool_esc(ace_error(ch), buf, size);
}

/* A name the bridge may show under VM/: printable ASCII, no space, no
 * '/' (a '/' marks a proxy: two bridges never loop). */
static int name_showable(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '/')
			return 0;
	return 1;
}

static int vm_index(const struct vm *v)
{
	return (int)(v - vms);
}

/* ---- export rules ---- */

static struct vm *vm_by_name(const char *name, size_t len)
{
	int i;

	for (i = 0; i < nr_vms; i++)
		if (strlen(vms[i].name) == len && !memcmp(vms[i].name, name, len))
			return &vms[i];
	return NULL;
}

/* FROM/PATTERN=TO[,TO...]; FROM and TO may be "*". */
static int parse_rule(const char *spec, struct rule *r)
{
	const char *slash = strchr(spec, '/'), *eq = strchr(spec, '='), *t;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (!slash || !eq || eq < slash)
		return -1;
	n = (size_t)(slash - spec);
	if (!n || n >= sizeof(r->from))
		return -1;
	memcpy(r->from, spec, n);
	if (strcmp(r->from, "*") && !vm_by_name(spec, n))
		return -1;
	n = (size_t)(eq - slash - 1);
	if (!n || n >= sizeof(r->pat) || memchr(slash + 1, '/', n))
		return -1;
	memcpy(r->pat, slash + 1, n);
	for (t = eq + 1; *t;) {
		struct vm *v;

		n = strcspn(t, ",");
		if (n == 1 && *t == '*') {
			r->to = ~0u;
		} else {
			v = vm_by_name(t, n);
			if (!v)
				return -1;
			r->to |= 1u << vm_index(v);
		}
		t += n + (t[n] == ',');
	}
	return r->to ? 0 : -1;
}

static int exported(const struct vm *from, const char *name, const struct vm *to)
{
	int i;

	for (i = 0; i < nr_rules; i++) {
		const struct rule *r = &rules[i];

		if (!(r->to & (1u << vm_index(to))))
			continue;
		if (strcmp(r->from, "*") && strcmp(r->from, from->name))
			continue;
		if (!fnmatch(r->pat, name, 0))
			return 1;
	}
	return 0;
}

/* ---- links ---- */

static void unlink_one(struct link *l)
{
	struct vm *h = l->home;
	struct link **pp;

	for (pp = &h->links; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	if (h->cursor == l)
		h->cursor = l->next;
	h->free_slots++;
	l->far->caused[vm_index(h)]--;
	/* Closing frees whatever still waits in its inbox: those messages
	 * were for a VM that is gone. */
	if (h->ch)
		ace_mp_close(l->mp);
	free(l);
}

/* Withdraw every link of VM v (both the proxies that stand for its
 * mprocs elsewhere and the ones living in its arena). */
static int withdraw(struct vm *v)
{
	struct link *l, *next;
	int i, n = 0;

	for (i = 0; i < nr_vms; i++) {
		for (l = vms[i].links; l; l = next) {
			next = l->next;
			if (l->far == v || l->home == v) {
				n += l->far == v && l->named;
				unlink_one(l);
			}
		}
	}
	return n;
}

static void vm_down(struct vm *v, int close_channel, const char *what)
{
	char esc[512];
	int n;

	if (!v->attached && !v->ch)
		return;
	snprintf(v->why, sizeof(v->why), "%s", what);
	n = withdraw(v);
	say_vm(v, "%s: down: %s; %d name(s) withdrawn from the other VMs", v->name,
	       tool_esc(what, esc, sizeof(esc)), n);
	v->attached = 0;
	if (close_channel && v->ch) {
		ace_close(v->ch);
		v->ch = NULL;
		v->next_try = tool_now_ns() + RETRY_NS;
	}
}

/* An error `r` on VM v's channel while `doing`: -ENOTCONN (the guest
 * went away, and may come back: ace_service() says when) takes its links
 * down and keeps the channel; -EPIPE (the device gone) and -EIO (a broken
 * arena) end this connection. */
static void vm_error(struct vm *v, const char *doing, int r)
{
	char what[256];

	snprintf(what, sizeof(what), "%s: %s", doing, ace_error(v->ch));
	vm_down(v, r != -ENOTCONN, what);
}

/* A (new) arena: size what is kept per slot. */
static int vm_arena(struct vm *v)
{
	uint32_t n = ace_max_mprocs(v->ch);
	uint32_t *t = calloc(n ? n : 1, sizeof(*t));

	if (!t)
		return -1;
	free(v->told);
	v->told = t;
	v->nr_told = n;
	v->free_slots = 0;	/* counted now, then at every scan */
	while (n--) {
		char name[48];
		uint32_t id;

		v->free_slots += ace_slot_name(v->ch, n, name, &id) == -ENOENT;
	}
	if (!v->reserve_set)
		v->reserve = v->nr_told / 8 > 4 ? v->nr_told / 8 : 4;
	return 0;
}

/*
 * Connecting to a VM waits: for its socket, its HELLO and its arena (up
 * to OPEN_MS each time, which a VM not running or without an arena takes
 * in full, every RETRY_NS).  The bridge serves the others meanwhile: the
 * open runs in a thread of its own, and a later call takes its result.
 */
static void *vm_opener(void *arg)
{
	struct vm *v = arg;
	struct ace *ch;
	int r;

	/* ACE_PERSIST: a guest that goes away is -ENOTCONN, not a reopen */
	r = ace_open_flags(&ch, v->path, OPEN_MS, ACE_PERSIST);
	if (!r) {
		struct ace_census c;

		/* a broken arena stays broken until the guest attaches a new
		 * one: the device says so right after the arena */
		r = ace_service(ch);
		if (r >= 0)
			r = ace_census(ch, &c);
		if (r >= 0 && ace_fd(ch) < 0)
			r = -1;
	}
	if (r < 0) {
		snprintf(v->open_why, sizeof(v->open_why), "%s", ace_error(ch));
		ace_close(ch);
		ch = NULL;
	}
	v->opened = ch;
	__atomic_store_n(&v->open_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Start an open of VM v, or take the one under way if it is over. */
static void vm_try_open(struct vm *v)
{
	char esc[512];
	struct ace *ch;

	if (!v->opening) {
		v->next_try = tool_now_ns() + RETRY_NS;
		v->open_done = 0;
		v->opened = NULL;
		if (!pthread_create(&v->opener, NULL, vm_opener, v))
			v->opening = 1;
		return;
	}
	if (!__atomic_load_n(&v->open_done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(v->opener, NULL);
	v->opening = 0;
	ch = v->opened;
	if (!ch) {
		if (strcmp(v->why, v->open_why)) {
			snprintf(v->why, sizeof(v->why), "%s", v->open_why);
			if (verbose)
				say_vm(v, "%s: not up yet: %s", v->name,
				       tool_esc(v->why, esc, sizeof(esc)));
		}
		return;
	}
	v->ch = ch;
	if (vm_arena(v)) {
		say("%s: out of memory", v->name);
		ace_close(ch);
		v->ch = NULL;
		return;
	}
	v->attached = 1;
	v->why[0] = 0;
	say_vm(v, "%s: up (%s, arena %u KiB, %u mproc slots)", v->name, v->path,
	       ace_arena_size(ch) / 1024, ace_max_mprocs(ch));
}

/* The link in `home` standing for mproc `id` of `far`, or (name) for the
 * mproc of that name. */
static struct link *find_link(struct vm *home, struct vm *far, uint32_t id,
			      const char *name)
{
	struct link *l;

	for (l = home->links; l; l = l->next) {
		if (l->far != far)
			continue;
		if (name ? !strcmp(l->far_name, name) : l->far_id == id)
			return l;
	}
	return NULL;
}

/* 1 if `id` is one of the bridge's own proxies in VM v. */
static int ours(struct vm *v, uint32_t id)
{
	struct link *l;

	for (l = v->links; l; l = l->next)
		if (ace_mp_id(l->mp) == id)
			return 1;
	return 0;
}

/* Tell once per mproc (its slot and generation) why it is not shown. */
static void refuse(struct vm *v, uint32_t id, const char *name, uint64_t *ctr,
		   const char *why)
{
	uint32_t slot = id & 0xfff;
	char esc[TOOL_ESC_MAX];

	if (slot < v->nr_told && v->told[slot] == id)
		return;
	if (slot < v->nr_told)
		v->told[slot] = id;
	(*ctr)++;
	say_vm(v, "%s: %s (mproc 0x%x) %s", v->name,
	       tool_esc(name, esc, sizeof(esc)), id, why);
}

/* Make a proxy in `home` for mproc (id, name) of `far`, within far's
 * quota in home and home's reserve of free slots.  NULL if not made
 * (*why says why when it is a limit, else NULL). */
static struct link *make_link(struct vm *home, struct vm *far, uint32_t id,
			      const char *name, int named, const char **why)
{
	char q[48], esc[512];
	struct link *l;
	int r;

	*why = NULL;
	if (far->caused[vm_index(home)] >= far->quota) {
		*why = "is past its VM's quota";
		return NULL;
	}
	if (home->free_slots <= home->reserve) {
		*why = "finds too few free slots there";
		return NULL;
	}
	if (name[0])
		r = snprintf(q, sizeof(q), "%s/%s", far->name, name);
	else
		r = snprintf(q, sizeof(q), "%s/#%x", far->name, id);
	if (r < 0 || r >= (int)sizeof(q))
		return NULL;	/* the qualified name does not fit: skip it */
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	r = ace_mp_create(home->ch, q, mode, &l->mp);
	if (r) {
		if (r != -EEXIST)
			say_vm(far, "%s: cannot show %s there: %s", home->name,
			       tool_esc(q, esc, sizeof(esc)),
			       err_of(home->ch, esc + 256, 256));
		free(l);
		if (r == -EIO || r == -EPIPE || r == -ESTALE || r == -ENOTCONN)
			vm_error(home, "create", r);
		return NULL;
	}
	if (mode == ACE_MODE_ADAPTIVE)
		ace_mp_set_mode(l->mp, mode, spin_us);
	l->home = home;
	l->far = far;
	l->far_id = id;
	l->named = named;
	snprintf(l->far_name, sizeof(l->far_name), "%s", name);
	l->next = home->links;
	home->links = l;
	home->free_slots--;
	far->caused[vm_index(home)]++;
	if (verbose || named)
		say_vm(far, "%s: + %s", home->name, tool_esc(q, esc, sizeof(esc)));
	return l;
}

/* Show the exported names of VM v in the VMs they are exported to. */
static void scan_vm(struct vm *v)
{
	uint32_t slots = ace_max_mprocs(v->ch), s, id;
	unsigned free_slots = 0;
	struct link *l, *next;
	char name[48], esc[TOOL_ESC_MAX];
	int i, r;

	for (i = 0; i < nr_vms; i++)
		for (l = vms[i].links; l; l = l->next)
			if (l->far == v)
				l->seen = 0;
	for (s = 0; s < slots; s++) {
		const char *why, *limit = NULL;
		int shown = 0;

		r = ace_slot_name(v->ch, s, name, &id);
		if (r == -EIO || r == -ENOTCONN) {
			vm_error(v, "scan", r);
			return;
		}
		if (r) {
			free_slots++;
			continue;
		}
		if (strchr(name, '/'))
			continue;	/* a proxy itself: never shown again */
		for (i = 0; i < nr_vms; i++) {
			struct vm *h = &vms[i];

			if (h == v || !h->attached || !exported(v, name, h))
				continue;
			if (!name_showable(name)) {
				refuse(v, id, name, &v->refused,
				       "has a name no proxy can carry: not shown");
				break;
			}
			l = find_link(h, v, 0, name);
			if (l) {
				l->named = 1;	/* a reply path may become the name */
			} else {
				l = make_link(h, v, id, name, 1, &why);
				if (!l) {
					if (why)
						limit = why;
					if (!v->attached)
						return;	/* it broke meanwhile */
					continue;
				}
			}
			l->far_id = id;	/* the name may have a new owner */
			l->seen = 1;
			shown = 1;
		}
		if (limit)
			refuse(v, id, name, &v->over_quota, limit);
		else if (!shown && !nr_rules && verbose)
			say_vm(v, "%s: %s not exported (no --export rule)", v->name,
			       tool_esc(name, esc, sizeof(esc)));
	}
	v->free_slots = free_slots;
	for (i = 0; i < nr_vms; i++) {
		for (l = vms[i].links; l; l = next) {
			next = l->next;
			if (l->far != v || l->seen)
				continue;
			if (!l->named) {
				/* a reply path: keep it while its mproc lives */
				if (!ace_name_of(v->ch, l->far_id, name))
					continue;
			} else {
				char q[80];

				snprintf(q, sizeof(q), "%s/%s", v->name, l->far_name);
				say_vm(v, "%s: - %s", l->home->name,
				       tool_esc(q, esc, sizeof(esc)));
			}
			unlink_one(l);
		}
	}
}

/*
 * The proxy in b that stands for the sender of a message VM a sent: the
 * one that exists, or a new reply path, if the sender is real (a live
 * mproc of a, not one of the bridge's proxies there) and a's quota in b
 * allows.  NULL: drop the message (counted).
 */
static struct link *reply_path(struct vm *a, struct vm *b, uint32_t src)
{
	char name[48];
	const char *why;
	struct link *back = find_link(b, a, src, NULL);

	if (back)
		return back;
	if (ace_name_of(a->ch, src, name) || ours(a, src)) {
		a->forged++;
		if (a->forged == 1 || verbose)
			say_vm(a, "%s: a message from 0x%x, which is not a live mproc "
			       "there: dropped (counted as forged)", a->name, src);
		return NULL;
	}
	/* the sender's name when it can carry one, else its id */
	if (!name_showable(name) || find_link(b, a, 0, name))
		name[0] = 0;
	back = make_link(b, a, src, name, 0, &why);
	if (!back && why)
		refuse(a, src, name[0] ? name : "(sender)", &a->over_quota, why);
	return back;
}

/*
 * Forward one message received on link l; it is freed in every case.
 * Returns 1 when a VM went down meanwhile: the link lists changed (and l
 * itself may be gone, its held messages freed with it).
 */
static int forward(struct link *l, struct ace_buf *m)
{
	struct vm *a = l->home, *b = l->far;
	struct link *back;
	struct ace_buf nb;
	int r;

	a->in++;
	back = reply_path(a, b, m->src);
	if (!b->attached || !a->attached)
		return 1;	/* a VM broke: l went with it */
	if (!back)
		goto drop;
	r = ace_mp_alloc(back->mp, m->len, &nb);
	if (r == -EIO || r == -EPIPE || r == -ESTALE || r == -ENOTCONN) {
		vm_error(b, "alloc", r);
		return 1;
	}
	if (r)
		goto drop;	/* -ENOBUFS: the far pools are empty */
	memcpy(nb.data, m->data, m->len);	/* the one copy */
	nb.type = m->type;
	nb.tag = m->tag;
	r = ace_mp_send(back->mp, l->far_id, &nb);
	if (r == -EIO || r == -EPIPE || r == -ESTALE || r == -ENOTCONN) {
		vm_error(b, "send", r);
		return 1;
	}
	if (r) {
		ace_mp_free(back->mp, &nb);	/* -ENOENT: the receiver closed */
		goto drop;
	}
	b->out++;
	goto done;
drop:
	a->dropped++;
done:
	r = ace_mp_free(l->mp, m);
	if (r) {
		vm_error(a, "free", r);
		return 1;
	}
	return 0;
}

/*
 * VM v's turn: receive and forward what waits on its proxies, at most
 * `budget` messages, going round its proxies from where its last turn
 * stopped.  Returns the messages handled, or -1 when a VM went down
 * meanwhile (the link lists changed under us).
 */
static int pump_vm(struct vm *v, int budget)
{
	struct ace_buf m[BATCH];
	struct link *l, *first;
	int n = 0, got, i, want;

	first = v->cursor ? v->cursor : v->links;
	l = first;
	while (l && n < budget) {
		want = budget - n < BATCH ? budget - n : BATCH;
		got = ace_mp_recv_batch(l->mp, m, want, ACE_NOWAIT);
		if (got < 0) {
			vm_error(v, "receive", got);
			return -1;
		}
		for (i = 0; i < got; i++) {
			if (forward(l, &m[i]))
				return -1;	/* the rest went with a VM */
		}
		n += got;
		l = l->next ? l->next : v->links;
		if (l == first)
			break;		/* every proxy had its go */
	}
	v->cursor = l;
	return n;
}

/* One round: every VM in turn, starting one further each round. */
static int pump(void)
{
	static int start;
	int k, n = 0, got;

	for (k = 0; k < nr_vms; k++) {
		struct vm *v = &vms[(start + k) % nr_vms];

		if (!v->attached)
			continue;
		got = pump_vm(v, BUDGET);
		if (got < 0)
			return n + 1;
		n += got;
	}
	start = (start + 1) % nr_vms;
	return n;
}

/* Device messages and doorbells of every VM. */
static void service_all(void)
{
	int i, r;

	for (i = 0; i < nr_vms; i++) {
		struct vm *v = &vms[i];

		if (!v->ch)
			continue;
		r = ace_service(v->ch);
		if (r < 0) {
			vm_down(v, 1, ace_error(v->ch));
		} else if (r == ACE_SVC_DETACHED) {
			vm_down(v, 0, "the guest detached its arena");
		} else if (r == ACE_SVC_ATTACHED || r == ACE_SVC_REATTACHED) {
			/* its links were withdrawn when it went: none to
			 * create again; the next scan shows the names anew */
			if (vm_arena(v)) {
				vm_down(v, 1, "out of memory");
				continue;
			}
			v->attached = 1;
			say_vm(v, "%s: up again (a new arena)", v->name);
		}
	}
}

/* Sleep until a proxy is notified, a device speaks, or `ns` pass. */
static void sleep_all(uint64_t ns)
{
	static struct pollfd *p;
	static struct link **armed;
	static size_t room;
	size_t want = MAX_VMS;
	int np = 0, na = 0, i, r, mail = 0;
	struct link *l;

	for (i = 0; i < nr_vms; i++)
		for (l = vms[i].links; l; l = l->next)
			want++;
	if (want > room) {
		struct pollfd *np_ = realloc(p, want * sizeof(*p));
		struct link **na_ = np_ ? realloc(armed, want * sizeof(*armed)) : NULL;

		if (np_)
			p = np_;
		if (na_)
			armed = na_;
		if (!np_ || !na_) {
			/* no memory for the arrays: poll a while instead */
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			return;
		}
		room = want;
	}
	for (i = 0; i < nr_vms && !mail; i++) {
		for (l = vms[i].links; l; l = l->next) {
			r = ace_mp_arm(l->mp);
			armed[na++] = l;
			if (r) {
				mail = 1;	/* mail already (or an error: see pump) */
				break;
			}
			p[np].fd = ace_mp_fd(l->mp);
			p[np++].events = POLLIN;
		}
	}
	for (i = 0; i < nr_vms; i++) {
		if (!vms[i].ch)
			continue;
		p[np].fd = ace_fd(vms[i].ch);
		p[np++].events = POLLIN;
	}
	/* a timeout in every case: a guest can swallow a wake-up */
	if (!mail)
		poll(p, (nfds_t)np, (int)(ns / 1000000) + 1);
	for (i = 0; i < na; i++) {
		ace_mp_disarm(armed[i]->mp);
		ace_mp_fd_ack(armed[i]->mp);
	}
}

static void print_stats(void)
{
	int i, j;

	for (i = 0; i < nr_vms; i++) {
		struct vm *v = &vms[i];
		unsigned caused = 0, most = 0;
		struct link *l;
		int names = 0, here = 0;

		for (j = 0; j < nr_vms; j++) {
			caused += v->caused[j];
			if (v->caused[j] > most)
				most = v->caused[j];
			for (l = vms[j].links; l; l = l->next)
				names += l->far == v && l->named;
		}
		for (l = v->links; l; l = l->next)
			here++;
		say("%s: %s, %d name(s) shown elsewhere, %u proxies caused elsewhere "
		    "(at most %u of quota %u in one VM), %d proxies here, "
		    "%llu refused, %llu over quota, %llu forged, "
		    "%llu in, %llu out, %llu dropped",
		    v->name, v->attached ? "up" : "down", names, caused, most,
		    v->quota, here, (unsigned long long)v->refused,
		    (unsigned long long)v->over_quota, (unsigned long long)v->forged,
		    (unsigned long long)v->in, (unsigned long long)v->out,
		    (unsigned long long)v->dropped);
	}
}

static void usage(int status)
{
	printf("usage: ace-bridge [options] NAME=SOCKET NAME=SOCKET...\n"
	       "  Joins the arenas of several VMs: a VM's named mprocs appear in the\n"
	       "  VMs they are exported to as NAME/mproc (NAME: the VM's name here,\n"
	       "  SOCKET: its virtio-ace device's socket=PATH or chardev socket path).\n"
	       "  Nothing is exported unless a rule says so.\n"
	       "  -e, --export FROM/PATTERN=TO[,TO...]\n"
	       "                     show the mprocs of VM FROM whose names match the\n"
	       "                     glob PATTERN in the VMs TO; FROM and TO may be *\n"
	       "                     (any VM); repeat for more rules.  --export '*/*=*'\n"
	       "                     (or --export-all) shows every name everywhere\n"
	       "      --export-all   the same as --export '*/*=*'\n"
	       "  -q, --quota [VM=]N proxies a VM (every VM, or VM) may cause in any one\n"
	       "                     other VM: its exported names there and the reply\n"
	       "                     paths of its senders (default %d)\n"
	       "      --reserve [VM=]N  free mproc slots the bridge never takes in a VM\n"
	       "                     (default an eighth of its table, at least 4)\n"
	       "  -c, --config FILE  read options from FILE, one a line, without the\n"
	       "                     dashes (\"export vm2/echo=vm1\", \"quota 8\"); # comments\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default adaptive): how\n"
	       "                     the bridge waits for messages to its proxies\n"
	       "      --spin US      adaptive spin before sleeping (default 50)\n"
	       "  -t, --time SECS    exit after SECS seconds\n"
	       "  -s, --stats SECS   print counters every SECS seconds (also on SIGUSR1)\n"
	       "  -v, --verbose      report reply paths, forged senders and VMs not up yet\n"
	       "  -h, --help\n", DEF_QUOTA);
	exit(status);
}

/* --quota / --reserve: "N" (every VM) or "VM=N"; applied after the VMs
 * are known.  Returns -1 on a bad value. */
struct limit_opt {
	const char *spec;
	int reserve;
};
static struct limit_opt limits[2 * MAX_VMS + 2];
static int nr_limits;

static int apply_limit(const struct limit_opt *o)
{
	const char *eq = strchr(o->spec, '='), *num = eq ? eq + 1 : o->spec;
	uint64_t n;
	int i;

	/* decimal digits only: no sign, space, 0x or octal */
	if (tool_parse_u64(num, 0, MAX_SLOTS, &n))
		return -1;
	for (i = 0; i < nr_vms; i++) {
		struct vm *v = &vms[i];

		if (eq && (strlen(v->name) != (size_t)(eq - o->spec) ||
			   memcmp(v->name, o->spec, (size_t)(eq - o->spec))))
			continue;
		if (o->reserve) {
			v->reserve = (unsigned)n;
			v->reserve_set = 1;
		} else {
			v->quota = (unsigned)n;
		}
		if (eq)
			return 0;
	}
	return eq ? -1 : 0;
}

static const struct option opts[] = {
	{ "mode", 1, 0, 'm' }, { "spin", 1, 0, 'S' }, { "time", 1, 0, 't' },
	{ "stats", 1, 0, 's' }, { "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' },
	{ "export", 1, 0, 'e' }, { "export-all", 0, 0, 'A' },
	{ "quota", 1, 0, 'q' }, { "reserve", 1, 0, 'R' }, { "config", 1, 0, 'c' },
	{ 0 },
};

static uint64_t end_ns, stats_ns;

static int add_rule_text(const char *spec)
{
	if (nr_rules >= MAX_RULES) {
		fprintf(stderr, "ace-bridge: more than %d export rules\n", MAX_RULES);
		return -1;
	}
	rule_text[nr_rules++] = spec;
	return 0;
}

static int add_limit(const char *spec, int reserve)
{
	if (nr_limits >= (int)(sizeof(limits) / sizeof(limits[0])))
		return -1;
	limits[nr_limits].spec = spec;
	limits[nr_limits++].reserve = reserve;
	return 0;
}

static int read_config(const char *path);

/* Strings from a config file: kept until exit (rules point into them). */
static char *kept[4 * MAX_RULES];
static int nr_kept;

static char *keep(const char *s)
{
	char *c;

	if (nr_kept >= (int)(sizeof(kept) / sizeof(kept[0])) || !(c = strdup(s)))
		return NULL;
	return kept[nr_kept++] = c;
}

/* One option (from the command line or a config file). */
static int take_option(int c, const char *arg)
{
	uint64_t v;
	double secs;

	switch (c) {
	case 'm':
		if (!tool_mode(arg, &mode))
			return 0;
		fprintf(stderr, "ace-bridge: --mode '%s': want poll, interrupt or adaptive\n",
			arg);
		return -1;
	case 'S':
		if (!tool_parse_u64(arg, 0, 1000000, &v)) {
			spin_us = (unsigned)v;
			return 0;
		}
		fprintf(stderr, "ace-bridge: --spin '%s': want microseconds from 0 to 1000000\n",
			arg);
		return -1;
	case 't':
		if (!tool_parse_secs(arg, 0.001, TOOL_MAX_SECS, &secs)) {
			end_ns = tool_now_ns() + (uint64_t)(secs * 1e9);
			return 0;
		}
		fprintf(stderr, "ace-bridge: --time '%s': want seconds from 0.001 to %.10g\n",
			arg, TOOL_MAX_SECS);
		return -1;
	case 's':
		if (!tool_parse_secs(arg, 0.01, TOOL_MAX_SECS, &secs)) {
			stats_ns = (uint64_t)(secs * 1e9);
			return 0;
		}
		fprintf(stderr, "ace-bridge: --stats '%s': want seconds from 0.01 to %.10g\n",
			arg, TOOL_MAX_SECS);
		return -1;
	case 'v': verbose = 1; return 0;
	case 'e': return add_rule_text(arg);
	case 'A': return add_rule_text("*/*=*");
	case 'q': return add_limit(arg, 0);
	case 'R': return add_limit(arg, 1);
	case 'c': return read_config(arg);
	default: return -1;
	}
}

static int read_config(const char *path)
{
	static int depth;
	char line[512];
	FILE *f;
	int ln = 0, bad = 0;

	if (depth > 4 || !(f = fopen(path, "r"))) {
		fprintf(stderr, "ace-bridge: cannot read %s\n", path);
		return -1;
	}
	depth++;
	while (!bad && fgets(line, sizeof(line), f)) {
		char *p = line, *key, *arg = NULL, *e;
		const struct option *o;

		ln++;
		e = strchr(p, '#');
		if (e)
			*e = 0;
		p += strspn(p, " \t\r\n");
		e = p + strlen(p);
		while (e > p && strchr(" \t\r\n", e[-1]))
			*--e = 0;
		if (!*p)
			continue;
		key = p;
		p += strcspn(p, " \t");
		if (*p) {
			*p++ = 0;
			arg = p + strspn(p, " \t");
		}
		for (o = opts; o->name; o++)
			if (!strcmp(o->name, key))
				break;
		bad = !o->name || !!o->has_arg != (arg && *arg) || o->val == 'h' ||
		      (arg && !(arg = keep(arg))) || take_option(o->val, arg);
		if (bad)
			fprintf(stderr, "ace-bridge: %s:%d: not an option: %s%s%s\n",
				path, ln, key, arg ? " " : "", arg ? arg : "");
	}
	fclose(f);
	depth--;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t next_stats = 0, next_scan = 0;
	uint64_t idle_since, now;
	int c, i, j;

	while ((c = getopt_long(argc, argv, "m:t:s:vhe:q:c:", opts, NULL)) != -1) {
		if (c == 'h')
			usage(0);
		if (take_option(c, optarg))
			usage(2);
	}
	if (argc - optind < 2 || argc - optind > MAX_VMS) {
		fprintf(stderr, "ace-bridge: give 2 to %d VMs as NAME=SOCKET\n", MAX_VMS);
		usage(2);
	}
	for (i = optind; i < argc; i++) {
		struct vm *v = &vms[nr_vms];
		char *eq = strchr(argv[i], '=');
		size_t len = eq ? (size_t)(eq - argv[i]) : 0;

		if (!eq || !len || len >= sizeof(v->name) || !eq[1] ||
		    memchr(argv[i], '/', len) || memchr(argv[i], '*', len) ||
		    memchr(argv[i], ',', len)) {
			fprintf(stderr, "ace-bridge: '%s' is not NAME=SOCKET (NAME: 1-15 "
				"characters, no '/', '*' or ',')\n", argv[i]);
			return 2;
		}
		memcpy(v->name, argv[i], len);
		v->path = eq + 1;
		v->quota = def_quota;
		for (j = 0; j < nr_vms; j++) {
			if (!strcmp(vms[j].name, v->name)) {
				fprintf(stderr, "ace-bridge: VM name %s given twice\n", v->name);
				return 2;
			}
		}
		nr_vms++;
	}
	for (i = 0; i < nr_rules; i++) {
		if (parse_rule(rule_text[i], &rules[i])) {
			fprintf(stderr, "ace-bridge: '%s' is not FROM/PATTERN=TO[,TO...] "
				"(FROM and each TO: a VM given, or *)\n", rule_text[i]);
			return 2;
		}
	}
	for (i = 0; i < nr_limits; i++) {
		if (apply_limit(&limits[i])) {
			fprintf(stderr, "ace-bridge: '%s' is not N or VM=N (N <= %u)\n",
				limits[i].spec, MAX_SLOTS);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGPIPE, SIG_IGN);
	say("joining %d VMs, %s mode, %d export rule(s)%s", nr_vms,
	    tool_mode_name(mode), nr_rules, nr_rules ? "" : ": nothing is shown");
	idle_since = tool_now_ns();
	while (!stop) {
		now = tool_now_ns();
		if (end_ns && now >= end_ns)
			break;
		if (now >= next_scan) {
			for (i = 0; i < nr_vms; i++)
				if (!vms[i].ch && (vms[i].opening ||
						   now >= vms[i].next_try))
					vm_try_open(&vms[i]);
			service_all();
			for (i = 0; i < nr_vms; i++)
				if (vms[i].attached)
					scan_vm(&vms[i]);
			next_scan = now + SCAN_NS;
		}
		if (want_stats || (stats_ns && now >= next_stats)) {
			want_stats = 0;
			next_stats = now + stats_ns;
			print_stats();
		}
		if (pump()) {
			idle_since = now;
			continue;
		}
		if (mode == ACE_MODE_POLL ||
		    (mode == ACE_MODE_ADAPTIVE && now - idle_since < spin_us * 1000ull)) {
			tool_relax();
			continue;
		}
		sleep_all(next_scan > now ? next_scan - now : 0);
		service_all();
		idle_since = tool_now_ns();
	}
	print_stats();
	for (i = 0; i < nr_vms; i++)
		while (vms[i].links)
			unlink_one(vms[i].links);
	for (i = 0; i < nr_vms; i++) {
		if (vms[i].opening) {
			pthread_join(vms[i].opener, NULL);
			if (vms[i].opened)
				ace_close(vms[i].opened);
		}
		if (vms[i].ch)
			ace_close(vms[i].ch);
		free(vms[i].told);
	}
	while (nr_kept)
		free(kept[--nr_kept]);
	return 0;
}
