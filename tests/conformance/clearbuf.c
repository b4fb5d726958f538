/* SPDX-License-Identifier: MIT */
/*
 * TF_CLEAR_BUF: the receiver's buffer is zeroed when it is freed (calls,
 * oneways, replies); without the flag the bytes stay in the region.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch;

/* Prints 48 bytes at buf (data, then the offsets area). */
static void dump_after_free(struct bdev *b, uint64_t buf, const char *what)
{
	free_buffer(b, buf);
	char line[256];
	size_t n = 0;
	const uint8_t *p = (const uint8_t *)(uintptr_t)buf;
	for (size_t i = 0; i < 40; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", p[i]);
	say("%s: after BC_FREE_BUFFER the buffer holds %s", what, line);
}

static void server(void *arg)
{
	(void)arg;
	struct bdev s;
	open_ctxmgr(&s);
	put(&ch, 1, 1);
	for (;;) {
		struct rw r;
		const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
		struct binder_transaction_data t = it->tr;
		dump_after_free(&s, t.data.ptr.buffer, "S's buffer");
		if (t.code == 99)
			break;
		if (t.flags & TF_ONE_WAY) {
			put(&ch, 1, 1);
			continue;
		}
		struct wbuf w;
		struct rw rr;
		w_reset(&w);
		w_txn(&w, BC_REPLY, 0, 0, t.code == 3 ? TF_CLEAR_BUF : 0, "reply-cb", 8, NULL, 0);
		bwr(&s, &w, 256, &rr);
	}
	put(&ch, 1, 1);
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t sp = spawn("S", server, NULL);
	get(&ch, 0);
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct objs o;
	struct wbuf w;
	struct rw r;
	static const struct {
		const char *what;
		uint32_t code, flags;
	} cases[] = {
		{ "call with TF_CLEAR_BUF, data + one object", 1, TF_CLEAR_BUF },
		{ "call without TF_CLEAR_BUF", 2, 0 },
		{ "oneway with TF_CLEAR_BUF", 4, TF_ONE_WAY | TF_CLEAR_BUF },
		{ "call; S replies with TF_CLEAR_BUF", 3, 0 },
		{ "call; S replies without", 2, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		say("-- %s", cases[i].what);
		objs_reset(&o);
		objs_bytes(&o, "secret!!", 8);
		objs_binder(&o, BINDER_TYPE_BINDER, 0x40, 0x41, 0);
		w_reset(&w);
		w_txn_objs(&w, BC_TRANSACTION, 0, cases[i].code, cases[i].flags, &o);
		bwr(&c, &w, 1024, &r);
		if (cases[i].flags & TF_ONE_WAY) {
			get(&ch, 0);
			continue;
		}
		const struct binder_transaction_data *t = find_txn(&r);
		if (!t)
			fail("no reply");
		dump_after_free(&c, t->data.ptr.buffer, "reply buffer");
		ack_node_refs(&c, &r);
	}
	send_empty_oneway(&c, 0, 99);
	get(&ch, 0);
	reap(sp);
	say("done");
	return 0;
}
