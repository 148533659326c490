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
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include "tool_util.h"

#define MAX_VMS		16
#define BATCH		32
#define SCAN_NS		100000000ull	/* look for new or gone names */
#define RETRY_NS	1000000000ull	/* reconnect a VM that is down */

struct vm {
	char name[16];
	const char *path;
	struct ace *ch;		/* NULL while the device is unreachable */
	int attached;		/* its arena is there: links may exist */
	uint64_t next_try;
	uint64_t in, out, dropped;	/* messages from it, into it, lost */
	char why[200];		/* the last reason it went down */
};

/* A proxy: mproc `mp` in VM `home` stands for mproc `far_id` of VM `far`. */
struct link {
	struct link *next;
	struct vm *home, *far;
	struct ace_mp *mp;
	uint32_t far_id;
	char far_name[48];
	int named;		/* mirrors a name (else made for a reply path) */
	int seen;		/* found by the current scan */
};

static struct vm vms[MAX_VMS];
static int nr_vms;
static struct link *links;
static unsigned mode = ACE_MODE_ADAPTIVE;
static unsigned spin_us = 50;
static int verbose;
static volatile sig_atomic_t stop, want_stats;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("ace-bridge: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void unlink_one(struct link *l)
{
	struct link **pp;

	for (pp = &links; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	/* Closing frees whatever still waits in its inbox: those messages
	 * were for a VM that is gone. */
	if (l->home->ch)
		ace_mp_close(l->mp);
	free(l);
}

/* Withdraw every link of VM v (both the proxies that stand for its
 * mprocs elsewhere and the ones living in its arena). */
static int withdraw(struct vm *v)
{
	struct link *l, *next;
	int n = 0;

	for (l = links; l; l = next) {
		next = l->next;
		if (l->far == v || l->home == v) {
			n += l->far == v && l->named;
			unlink_one(l);
		}
	}
	return n;
}

static void vm_down(struct vm *v, int close_channel, const char *what)
{
	int n;

	if (!v->attached && !v->ch)
		return;
	snprintf(v->why, sizeof(v->why), "%s", what);
	n = withdraw(v);
	say("%s: down: %s; %d name(s) withdrawn from the other VMs", v->name,
	    what, n);
	v->attached = 0;
	if (close_channel && v->ch) {
		ace_close(v->ch);
		v->ch = NULL;
		v->next_try = tool_now_ns() + RETRY_NS;
	}
}

/* An error on VM v's channel while `doing`: -EPIPE (a detach, the device
 * gone) and -EIO (a broken arena) alike end this connection. */
static void vm_error(struct vm *v, const char *doing)
{
	char what[256];

	snprintf(what, sizeof(what), "%s: %s", doing, ace_error(v->ch));
	vm_down(v, 1, what);
}

static void vm_try_open(struct vm *v)
{
	struct ace *ch;
	int r;

	v->next_try = tool_now_ns() + RETRY_NS;
	r = ace_open(&ch, v->path, 20);
	if (!r) {
		struct ace_census c;

		/* a broken arena stays broken until the guest attaches a new
		 * one: the device says so right after the arena */
		r = ace_service(ch);
		if (r >= 0)
			r = ace_census(ch, &c);
	}
	if (r < 0) {
		if (strcmp(v->why, ace_error(ch))) {
			snprintf(v->why, sizeof(v->why), "%s", ace_error(ch));
			if (verbose)
				say("%s: not up yet: %s", v->name, v->why);
		}
		ace_close(ch);
		return;
	}
	if (ace_fd(ch) < 0) {
		say("%s: %s", v->name, ace_error(ch));
		ace_close(ch);
		return;
	}
	v->ch = ch;
	v->attached = 1;
	v->why[0] = 0;
	say("%s: up (%s, arena %u KiB, %u mproc slots)", v->name, v->path,
	    ace_arena_size(ch) / 1024, ace_max_mprocs(ch));
}

static struct link *find_link(struct vm *home, struct vm *far, uint32_t id,
			      const char *name)
{
	struct link *l;

	for (l = links; l; l = l->next) {
		if (l->home != home || l->far != far)
			continue;
		if (name ? (l->named && !strcmp(l->far_name, name)) : l->far_id == id)
			return l;
	}
	return NULL;
}

/* Make a proxy in `home` for mproc (id, name) of `far`. */
static struct link *make_link(struct vm *home, struct vm *far, uint32_t id,
			      const char *name, int named)
{
	char q[48];
	struct link *l;
	int r;

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
			say("%s: cannot show %s there: %s", home->name, q,
			    ace_error(home->ch));
		free(l);
		if (r == -EIO || r == -EPIPE)
			vm_error(home, "create");
		return NULL;
	}
	if (mode == ACE_MODE_ADAPTIVE)
		ace_mp_set_mode(l->mp, mode, spin_us);
	l->home = home;
	l->far = far;
	l->far_id = id;
	l->named = named;
	snprintf(l->far_name, sizeof(l->far_name), "%s", name);
	l->next = links;
	links = l;
	if (verbose || named)
		say("%s: + %s", home->name, q);
	return l;
}

/* Mirror the names of VM v into every other attached VM. */
static void scan_vm(struct vm *v)
{
	uint32_t slots = ace_max_mprocs(v->ch), s, id;
	struct link *l, *next;
	char name[48];
	int i, r;

	for (l = links; l; l = l->next)
		if (l->far == v)
			l->seen = 0;
	for (s = 0; s < slots; s++) {
		r = ace_slot_name(v->ch, s, name, &id);
		if (r == -EIO) {
			vm_error(v, "scan");
			return;
		}
		if (r || !name[0] || strchr(name, '/'))
			continue;	/* free, unnamed, or a proxy itself */
		for (i = 0; i < nr_vms; i++) {
			struct vm *h = &vms[i];

			if (h == v || !h->attached)
				continue;
			l = find_link(h, v, 0, name);
			if (!l)
				l = make_link(h, v, id, name, 1);
			if (!l)
				continue;
			l->far_id = id;	/* the name may have a new owner */
			l->seen = 1;
		}
	}
	for (l = links; l; l = next) {
		next = l->next;
		if (l->far != v || l->seen)
			continue;
		if (!l->named) {
			/* a reply path: keep it while its mproc lives */
			struct ace_stats st;

			if (!ace_stats(v->ch, l->far_id, &st))
				continue;
		} else {
			say("%s: - %s/%s", l->home->name, v->name, l->far_name);
		}
		unlink_one(l);
	}
}

/*
 * Forward one message received on link l; it is freed in every case.
 * Returns 1 when a VM went down meanwhile: the link list changed (and l
 * itself may be gone, its held messages freed with it).
 */
static int forward(struct link *l, struct ace_buf *m)
{
	struct vm *a = l->home, *b = l->far;
	struct link *back;
	struct ace_buf nb;
	char name[48] = "";
	int r;

	a->in++;
	back = find_link(b, a, m->src, NULL);
	if (!back) {
		/* the sender has no proxy over there yet: make one */
		if (!ace_name_of(a->ch, m->src, name) && !strchr(name, '/'))
			back = find_link(b, a, 0, name);
		else
			name[0] = 0;
		if (back)
			back->far_id = m->src;
		else
			back = make_link(b, a, m->src, name, 0);
		if (!b->attached)
			return 1;	/* b broke: l went with it */
	}
	if (!back)
		goto drop;
	r = ace_mp_alloc(back->mp, m->len, &nb);
	if (r == -EIO || r == -EPIPE) {
		vm_error(b, "alloc");
		return 1;
	}
	if (r)
		goto drop;	/* -ENOMEM: the far pools are empty */
	memcpy(nb.data, m->data, m->len);	/* the one copy */
	nb.type = m->type;
	nb.tag = m->tag;
	r = ace_mp_send(back->mp, l->far_id, &nb);
	if (r == -EIO || r == -EPIPE) {
		vm_error(b, "send");
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
		vm_error(a, "free");
		return 1;
	}
	return 0;
}

/* Receive and forward what waits on every link; how many messages. */
static int pump(void)
{
	struct ace_buf m[BATCH];
	struct link *l;
	int n = 0, got, i;

	for (l = links; l; l = l->next) {
		got = ace_mp_recv_batch(l->mp, m, BATCH, ACE_NOWAIT);
		if (got < 0) {
			vm_error(l->home, "receive");
			return n + 1;	/* the list changed under us */
		}
		for (i = 0; i < got; i++) {
			if (forward(l, &m[i]))
				return n + 1;	/* the rest went with a VM */
		}
		n += got;
	}
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
		} else if (r == ACE_SVC_ATTACHED) {
			v->attached = 1;
			say("%s: up again (a new arena)", v->name);
		}
	}
}

/* Sleep until a proxy is notified, a device speaks, or `ns` pass. */
static void sleep_all(uint64_t ns)
{
	struct pollfd p[MAX_VMS + 1024];
	struct link *armed[1024];
	int np = 0, na = 0, i, r, mail = 0;
	struct link *l;

	for (l = links; l && na < 1024; l = l->next) {
		r = ace_mp_arm(l->mp);
		armed[na++] = l;
		if (r) {
			mail = 1;	/* mail already (or an error: see pump) */
			break;
		}
		p[np].fd = ace_mp_fd(l->mp);
		p[np++].events = POLLIN;
	}
	for (i = 0; i < nr_vms; i++) {
		if (!vms[i].ch)
			continue;
		p[np].fd = ace_fd(vms[i].ch);
		p[np++].events = POLLIN;
	}
	if (!mail)
		poll(p, (nfds_t)np, (int)(ns / 1000000) + 1);
	for (i = 0; i < na; i++) {
		ace_mp_disarm(armed[i]->mp);
		ace_mp_fd_ack(armed[i]->mp);
	}
}

static void print_stats(void)
{
	int i;

	for (i = 0; i < nr_vms; i++) {
		struct vm *v = &vms[i];
		struct link *l;
		int names = 0;

		for (l = links; l; l = l->next)
			names += l->far == v && l->named;
		say("%s: %s, %d name(s) shown elsewhere, %llu in, %llu out, %llu dropped",
		    v->name, v->attached ? "up" : "down", names,
		    (unsigned long long)v->in, (unsigned long long)v->out,
		    (unsigned long long)v->dropped);
	}
}

static void usage(int status)
{
	printf("usage: ace-bridge [options] NAME=SOCKET NAME=SOCKET...\n"
	       "  Joins the arenas of several VMs: each VM's named mprocs appear in the\n"
	       "  others as NAME/mproc (NAME: the VM's name here, SOCKET: its virtio-ace\n"
	       "  device's socket=PATH or chardev socket path).\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default adaptive): how\n"
	       "                     the bridge waits for messages to its proxies\n"
	       "      --spin US      adaptive spin before sleeping (default 50)\n"
	       "  -t, --time SECS    exit after SECS seconds\n"
	       "  -s, --stats SECS   print counters every SECS seconds (also on SIGUSR1)\n"
	       "  -v, --verbose      report reply paths and VMs not up yet\n"
	       "  -h, --help\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", 1, 0, 'm' }, { "spin", 1, 0, 'S' }, { "time", 1, 0, 't' },
		{ "stats", 1, 0, 's' }, { "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' },
		{ 0 },
	};
	uint64_t end_ns = 0, stats_ns = 0, next_stats = 0, next_scan = 0;
	uint64_t idle_since, now;
	int c, i, j;

	while ((c = getopt_long(argc, argv, "m:t:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': if (tool_mode(optarg, &mode)) usage(2); break;
		case 'S': spin_us = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': end_ns = tool_now_ns() + (uint64_t)(atof(optarg) * 1e9); break;
		case 's': stats_ns = (uint64_t)(atof(optarg) * 1e9); break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
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
		    memchr(argv[i], '/', len)) {
			fprintf(stderr, "ace-bridge: '%s' is not NAME=SOCKET (NAME: 1-15 "
				"characters, no '/')\n", argv[i]);
			return 2;
		}
		memcpy(v->name, argv[i], len);
		v->path = eq + 1;
		for (j = 0; j < nr_vms; j++) {
			if (!strcmp(vms[j].name, v->name)) {
				fprintf(stderr, "ace-bridge: VM name %s given twice\n", v->name);
				return 2;
			}
		}
		nr_vms++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGPIPE, SIG_IGN);
	say("joining %d VMs, %s mode", nr_vms, tool_mode_name(mode));
	idle_since = tool_now_ns();
	while (!stop) {
		now = tool_now_ns();
		if (end_ns && now >= end_ns)
			break;
		if (now >= next_scan) {
			for (i = 0; i < nr_vms; i++)
				if (!vms[i].ch && now >= vms[i].next_try)
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
			relax();
			continue;
		}
		sleep_all(next_scan > now ? next_scan - now : 0);
		service_all();
		idle_since = tool_now_ns();
	}
	print_stats();
	while (links)
		unlink_one(links);
	for (i = 0; i < nr_vms; i++)
		if (vms[i].ch)
			ace_close(vms[i].ch);
	return 0;
}
