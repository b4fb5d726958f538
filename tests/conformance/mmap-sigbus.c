/* SPDX-License-Identifier: MIT */
/*
 * Reading pages of the region that no buffer uses. The kernel installs pages
 * only for live buffers (and keeps freed ones until reclaim): a read of a
 * never-used page raises SIGBUS. (ubinder documents a difference here: its
 * memfd-backed region reads zeros.)
 */
#include "conf.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Reads one byte; returns "ok", "SIGBUS" or "SIGSEGV". */
static const char *probe(const void *addr)
{
	int sig = read_fault(addr);
	return sig == 0 ? "ok" : sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
}

static void client(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, 0, "abcdefgh", 8, NULL, 0);
	bwr(&c, &w, 256, &r);
	show_brief(&c, "call", &r);
}

int main(void)
{
	conf_start("M", 20);
	struct bdev m;
	bd_open(&m, CONF_DEV, CONF_MAP_SIZE);
	long pg = sysconf(_SC_PAGESIZE);
	say("read of the first page before any transaction: %s", probe(m.map));
	become_ctxmgr(&m);
	enter_looper(&m);
	pid_t c = spawn("C", client, NULL);
	struct rw r;
	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	uint64_t buf = it->tr.data.ptr.buffer;
	say("buffer at the start of the region: %s", buf == (uintptr_t)m.map ? "yes" : "no");
	free_buffer(&m, buf);
	reply_bytes(&m, NULL, 0, NULL);
	reap(c);
	say("after the buffer was freed its page still reads: \"%.8s\"", (const char *)m.map);
	say("read of the second page (never used): %s", probe(m.map + pg));
	say("read of the last page (never used): %s", probe(m.map + CONF_MAP_SIZE - 1));
	say("done");
	return 0;
}
