/* SPDX-License-Identifier: MIT */
/*
 * Async (oneway) space: half the region, charged per buffer, refunded on
 * free; exhaustion; BINDER_ENABLE_ONEWAY_SPAM_DETECTION and the exact
 * trigger of BR_ONEWAY_SPAM_SUSPECT (first detection only, re-armed).
 * The target P maps 64 KiB: 32768 bytes of async space, 10% = 6553 bytes,
 * a quarter of the region = 16384 bytes.
 */
#include "conf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGION (64 * 1024)

static struct chan chc, chd;
static struct bdev m;

enum {
	CMD_END,
	CMD_SEND,
	CMD_SPAM_ON,
	CMD_CALL
};

/* A sender: CMD_SEND size count -> sends up to count oneways of size bytes,
 * stopping after the first failure, and prints the results run-length
 * encoded; CMD_SPAM_ON enables spam detection; CMD_CALL makes a sync call. */
static void sender(void *arg)
{
	struct chan *ch = arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	static uint8_t data[REGION];
	for (;;) {
		uint64_t cmd = get(ch, 1);
		if (cmd == CMD_END)
			break;
		if (cmd == CMD_SPAM_ON) {
			uint32_t on = 1;
			say("BINDER_ENABLE_ONEWAY_SPAM_DETECTION(1) -> %s",
			    res(xioctl(c.fd, BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &on)));
		} else if (cmd == CMD_CALL) {
			struct wbuf w;
			struct rw r;
			w_reset(&w);
			w_txn(&w, BC_TRANSACTION, 0, 2, 0, data, 1000, NULL, 0);
			bwr(&c, &w, 256, &r);
			show_brief(&c, "sync call of 1000 bytes", &r);
			const struct binder_transaction_data *t = find_txn(&r);
			if (t)
				free_buffer(&c, t->data.ptr.buffer);
		} else {
			size_t size = (size_t)get(ch, 1);
			unsigned count = (unsigned)get(ch, 1);
			char line[512];
			int n = snprintf(line, sizeof(line), "%zu-byte oneways:", size);
			uint32_t prev = 0;
			unsigned start = 1;
			for (unsigned i = 1; i <= count + 1; i++) {
				uint32_t got = 0;
				int param = 0;
				if (i <= count) {
					struct wbuf w;
					struct rw r;
					w_reset(&w);
					w_txn(&w, BC_TRANSACTION, 0, 1, TF_ONE_WAY, data, size,
					      NULL, 0);
					bwr(&c, &w, 256, &r);
					got = r.n > 1 ? r.v[1].cmd : 0;
					if (got == BR_FAILED_REPLY)
						param = get_ee(&c).param;
				}
				if (i > 1 && (got != prev || i > count)) {
					n += snprintf(line + n, sizeof(line) - (size_t)n, " %u",
						      start);
					if (i - 1 > start)
						n += snprintf(line + n, sizeof(line) - (size_t)n,
							      "-%u", i - 1);
					n += snprintf(line + n, sizeof(line) - (size_t)n, " %s;",
						      brname(prev));
					start = i;
				}
				if (got == BR_FAILED_REPLY) {
					n += snprintf(line + n, sizeof(line) - (size_t)n,
						      " %u BR_FAILED_REPLY (ee %s), stop", i,
						      errname(-param));
					break;
				}
				prev = got;
			}
			say("%s", line);
		}
		put(ch, 1, 1);
	}
}

static void cmd(struct chan *ch, uint64_t c)
{
	put(ch, 0, c);
	if (c != CMD_END)
		get(ch, 0);
}

static void send(struct chan *ch, size_t size, unsigned count)
{
	put(ch, 0, CMD_SEND);
	put(ch, 0, size);
	put(ch, 0, count);
	get(ch, 0);
}

/* Delivers and frees n held oneways (all if n == 0); prints the count. */
static void drain(unsigned n, const char *what)
{
	unsigned k = 0;
	for (;;) {
		struct rw r;
		if (bwr_nb(&m, NULL, 256, &r) < 0)
			break;
		const struct binder_transaction_data *t = find_txn(&r);
		if (!t)
			continue;
		free_buffer(&m, t->data.ptr.buffer);
		k++;
		if (n && k == n)
			break;
	}
	say("%s: %u oneways read and freed", what, k);
}

int main(void)
{
	conf_start("P", 60);
	bd_open(&m, CONF_DEV, REGION);
	become_ctxmgr(&m);
	enter_looper(&m);
	uint32_t on = 1;
	say("target: BINDER_ENABLE_ONEWAY_SPAM_DETECTION(1) -> %s",
	    res(xioctl(m.fd, BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &on)));
	chan_init(&chc);
	chan_init(&chd);
	pid_t c = spawn("C", sender, &chc);
	pid_t d = spawn("D", sender, &chd);

	say("-- exhaustion, detection off in the sender (on in the target)");
	send(&chc, 1000, 100);
	send(&chc, 768, 1);
	send(&chc, 8, 1);
	send(&chc, 0, 1);
	put(&chc, 0, CMD_CALL);
	struct rw r;
	bwr_nb(&m, NULL, 256, &r);
	show_brief(&m, "read", &r);
	uint64_t first = find_txn(&r)->data.ptr.buffer;
	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	free_buffer(&m, it->tr.data.ptr.buffer);
	reply_bytes(&m, NULL, 0, NULL);
	get(&chc, 0);
	free_buffer(&m, first);
	say("freed the first oneway (1000 bytes refunded)");
	send(&chc, 1000, 2);
	drain(0, "drain");

	say("-- detection on: one sender over a quarter of the region");
	cmd(&chc, CMD_SPAM_ON);
	send(&chc, 8000, 10);
	drain(2, "drain 2");
	send(&chc, 8000, 10);
	drain(0, "drain");
	send(&chc, 0, 6000);
	drain(0, "drain");

	say("-- detection on: more than 50 buffers, under a quarter");
	send(&chd, 8000, 3);
	send(&chc, 8, 1000);
	drain(0, "drain");

	cmd(&chc, CMD_END);
	cmd(&chd, CMD_END);
	reap(c);
	reap(d);
	say("done");
	return 0;
}
