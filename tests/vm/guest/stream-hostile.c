// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * stream-hostile - a hostile guest against a host ace-proxy: speaks
 * shared/ace_stream_proto.h wrongly in every way it can think of, and
 * checks the proxy's answer to each (a CLOSE with the right errno, or
 * silence), then that a well-formed stream from the same mproc still
 * works, then floods OPENs past the proxy's stream limit and exits with
 * its streams open (the proxy must notice and reset them).
 *
 *   stream-hostile SERVICE STREAM_LIMIT
 *
 * Prints "ACE-TEST ok: ..." / "ACE-TEST FAIL: ..." per check; exit 0 if
 * every check passed.
 */
#include <errno.h>
#include <unistd.h>
#include "../../../tools/tool_util.h"
#include "../../../shared/ace_stream_proto.h"

static struct ace *ch;
static struct ace_mp *mp;
static uint32_t svc;
static int fails;
static char last_data[64];	/* the first bytes of the last message */
static uint32_t last_len;

static void check(const char *what, int ok)
{
	printf("ACE-TEST %s: hostile: %s\n", ok ? "ok" : "FAIL", what);
	fflush(stdout);
	fails += !ok;
}

static void raw(uint32_t type, uint32_t tag, const void *p, uint32_t len)
{
	struct ace_buf b;

	TOOL_CHECK("stream-hostile", ch, ace_mp_alloc(mp, len ? len : 1, &b));
	if (len)
		memcpy(b.data, p, len);
	b.len = len;
	b.type = type;
	b.tag = tag;
	TOOL_CHECK("stream-hostile", ch, ace_mp_send(mp, svc, &b));
}

static void ctl(uint32_t type, uint32_t tag, uint32_t id, uint32_t window,
		uint32_t credit, uint32_t err)
{
	struct ace_stream_ctl c = { id, window, credit, err };

	raw(type, tag, &c, sizeof(c));
}

/* The next message within `ms`: 1 with its header and ctl, 0 if none. */
static int next(int ms, struct ace_buf *out, struct ace_stream_ctl *c)
{
	struct ace_buf b;
	int r = ace_mp_recv(mp, &b, (int64_t)ms * 1000000);

	TOOL_CHECK("stream-hostile", ch, r);
	if (!r)
		return 0;
	*out = b;
	last_len = b.len;
	memcpy(last_data, b.data, b.len < sizeof(last_data) ? b.len : sizeof(last_data));
	memset(c, 0, sizeof(*c));
	if (b.len == sizeof(*c))
		memcpy(c, b.data, sizeof(*c));
	ace_mp_free(mp, &b);
	return 1;
}

/* Expect one message of `type` for `tag`; its ctl in *c. */
static int expect(uint32_t type, uint32_t tag, struct ace_stream_ctl *c)
{
	struct ace_buf b;

	while (next(10000, &b, c)) {
		if (b.type == type && b.tag == tag)
			return 1;
		printf("  (skipped type %x tag %x)\n", b.type, b.tag);
	}
	return 0;
}

static int quiet(int ms)
{
	struct ace_stream_ctl c;
	struct ace_buf b;

	if (next(ms, &b, &c)) {
		printf("  (unexpected type %x tag %x err %u)\n", b.type, b.tag, c.err);
		return 0;
	}
	return 1;
}

/* A real stream: OPEN, ACCEPT; the service's id for it in *id, its
 * window in *window. */
static uint32_t window;

static int open_one(uint32_t tag, uint32_t *id)
{
	struct ace_stream_ctl c;

	ctl(ACE_STREAM_OPEN, tag, 0, 65536, 0, 0);
	if (!expect(ACE_STREAM_ACCEPT, tag, &c)) {
		check("a real OPEN is accepted", 0);
		return 0;
	}
	*id = c.id;
	window = c.window;
	return 1;
}

int main(int argc, char **argv)
{
	struct ace_stream_ctl c;
	uint32_t id, limit, i, accepted = 0, refused = 0;
	struct ace_buf b;
	char junk[64];

	if (argc != 3)
		return 2;
	limit = (uint32_t)atoi(argv[2]);
	ch = tool_open("stream-hostile", tool_default_dev(), -1);
	TOOL_CHECK("stream-hostile", ch, ace_mp_create(ch, "hostile", ACE_MODE_ADAPTIVE, &mp));
	TOOL_CHECK("stream-hostile", ch, ace_lookup(ch, argv[1], 10000, &svc));
	memset(junk, 0xa5, sizeof(junk));

	raw(0x1234, 1, junk, 5);
	raw(ACE_STREAM_OPEN, 2, junk, 0);
	raw(ACE_STREAM_OPEN, 3, junk, 17);
	raw(ACE_STREAM_SHUT, 4, junk, 64);
	check("foreign types and wrong lengths: no answer", quiet(2000));

	ctl(ACE_STREAM_OPEN, 10, 0, 0, 0, 0);
	check("OPEN with window 0: refused, EPROTO",
	      expect(ACE_STREAM_CLOSE, 10, &c) && c.err == EPROTO);
	ctl(ACE_STREAM_OPEN, 11, 0, 0xffffffffu, 0, 0);
	check("OPEN with a 4 GiB window: refused, EPROTO",
	      expect(ACE_STREAM_CLOSE, 11, &c) && c.err == EPROTO);

	raw(ACE_STREAM_DATA, 0, junk, 10);
	raw(ACE_STREAM_DATA, 0xffffffffu, junk, 10);
	ctl(ACE_STREAM_CREDIT, 0x12340005, 0, 0, 1000, 0);
	raw(ACE_STREAM_SHUT, 7, NULL, 0);
	ctl(ACE_STREAM_CLOSE, 0xfffe0001, 0, 0, 0, 5);
	check("messages for streams never given: no answer", quiet(2000));

	ctl(ACE_STREAM_ACCEPT, 0x00010002, 0x4242, 65536, 0, 0);
	check("ACCEPT for no OPEN of its: answered with CLOSE",
	      expect(ACE_STREAM_CLOSE, 0x4242, &c) && c.err == ECONNRESET);

	if (open_one(20, &id)) {
		/* one byte more than the window allows (its cost counted) */
		uint32_t len = window - ACE_STREAM_MSG_COST + 1;

		TOOL_CHECK("stream-hostile", ch, ace_mp_alloc(mp, len, &b));
		memset(b.data, 'x', len);
		b.len = len;
		b.type = ACE_STREAM_DATA;
		b.tag = id;
		TOOL_CHECK("stream-hostile", ch, ace_mp_send(mp, svc, &b));
		check("DATA one byte beyond the window: the stream closed, EPROTO",
		      expect(ACE_STREAM_CLOSE, 20, &c) && c.err == EPROTO);
	}
	if (open_one(21, &id)) {
		ctl(ACE_STREAM_CREDIT, id, 0, 0, 1, 0);
		check("CREDIT never earned: the stream closed, EPROTO",
		      expect(ACE_STREAM_CLOSE, 21, &c) && c.err == EPROTO);
	}
	if (open_one(22, &id)) {
		raw(ACE_STREAM_DATA, id, junk, 0);
		check("empty DATA: the stream closed, EPROTO",
		      expect(ACE_STREAM_CLOSE, 22, &c) && c.err == EPROTO);
	}
	if (open_one(23, &id)) {
		raw(ACE_STREAM_DATA, id ^ 0x10000, junk, 10);	/* a stale generation */
		raw(ACE_STREAM_DATA, id, "0123456789", 10);
		check("a good stream from the same mproc is echoed",
		      expect(ACE_STREAM_DATA, 23, &c) && last_len == 10 &&
		      !memcmp(last_data, "0123456789", 10));
		ctl(ACE_STREAM_CLOSE, id, 0, 0, 0, 0);
	}
	quiet(500);

	/* past the limit: the extra OPENs are refused with ENOSPC */
	for (i = 0; i < limit + 20; i++)
		ctl(ACE_STREAM_OPEN, 1000 + i, 0, 65536, 0, 0);
	while (next(10000, &b, &c) && accepted + refused < limit + 20) {
		if (b.type == ACE_STREAM_ACCEPT)
			accepted++;
		else if (b.type == ACE_STREAM_CLOSE && c.err == ENOSPC)
			refused++;
	}
	printf("ACE-TEST hostile flood: %u accepted, %u refused\n", accepted, refused);
	check("an OPEN flood: the limit accepted, the rest refused (ENOSPC)",
	      accepted <= limit && accepted + refused == limit + 20 && refused >= 20);
	/* exit with those streams open: the proxy must reset them */
	printf("ACE-TEST hostile done\n");
	return fails ? 1 : 0;
}
