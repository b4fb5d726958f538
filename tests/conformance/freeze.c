/* SPDX-License-Identifier: MIT */
/*
 * BINDER_FREEZE / BINDER_GET_FROZEN_INFO: sync calls to a frozen process get
 * BR_FROZEN_REPLY, oneways are queued; freezing fails while the target has
 * transactions in flight; TF_UPDATE_TXN replaces a queued oneway.
 * F (this process) freezes S (the context manager) by pid; C calls S. S only
 * reads when F tells it to, so that what happens while frozen is visible.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan chs, chc;

enum {
	S_READ = 1,
	S_READ_KEEP,
	S_REPLY_KEPT,
	S_END
};

static void server(void *arg)
{
	(void)arg;
	struct bdev s;
	open_ctxmgr(&s);
	put(&chs, 1, 1);
	for (;;) {
		uint64_t cmd = get(&chs, 1);
		if (cmd == S_END)
			break;
		if (cmd == S_REPLY_KEPT) {
			reply_bytes(&s, "ok", 2, NULL);
			put(&chs, 1, 1);
			continue;
		}
		struct rw r;
		if (cmd == S_READ_KEEP)
			bwr(&s, NULL, 1024, &r); /* blocking: the call may still be on its way */
		else
			bwr_nb(&s, NULL, 1024, &r);
		show_brief(&s, "read", &r);
		const struct binder_transaction_data *t = find_txn(&r);
		if (t) {
			bool sync = !(t->flags & TF_ONE_WAY);
			free_buffer(&s, t->data.ptr.buffer);
			if (sync && cmd == S_READ)
				reply_bytes(&s, "ok", 2, NULL);
		}
		put(&chs, 1, 1);
	}
}

enum {
	C_CALL = 1,
	C_ONEWAY,
	C_ONEWAY_UPDATE,
	C_END
};

static void client(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint64_t cmd = get(&chc, 1);
		if (cmd == C_END)
			break;
		uint32_t code = (uint32_t)get(&chc, 1);
		char data[8];
		snprintf(data, sizeof(data), "v%u", code);
		uint32_t flags = cmd == C_CALL ? 0 : TF_ONE_WAY;
		if (cmd == C_ONEWAY_UPDATE)
			flags |= TF_UPDATE_TXN;
		struct wbuf w;
		struct rw r;
		w_reset(&w);
		w_txn(&w, BC_TRANSACTION, 0, cmd == C_CALL ? 1 : 5, flags, data, strlen(data), NULL,
		      0);
		bwr(&c, &w, 256, &r);
		char what[64];
		snprintf(what, sizeof(what), "%s \"%s\"",
			 cmd == C_CALL	   ? "call"
			 : cmd == C_ONEWAY ? "oneway"
					   : "oneway TF_UPDATE_TXN",
			 data);
		show_brief(&c, what, &r);
		const struct binder_transaction_data *t = find_txn(&r);
		if (t)
			free_buffer(&c, t->data.ptr.buffer);
		if (cmd == C_CALL && !t)
			show_ee(&c, what);
		put(&chc, 1, 1);
	}
}

static struct bdev f;
static pid_t sp;

static void freeze(const char *what, pid_t pid, uint32_t enable, uint32_t timeout)
{
	struct binder_freeze_info fi = { .pid = (uint32_t)pid,
					 .enable = enable,
					 .timeout_ms = timeout };
	say("%s -> %s", what, res(xioctl(f.fd, BINDER_FREEZE, &fi)));
}

static void info(const char *who, pid_t pid)
{
	struct binder_frozen_status_info fi;
	memset(&fi, 0, sizeof(fi));
	fi.pid = (uint32_t)pid;
	int r = xioctl(f.fd, BINDER_GET_FROZEN_INFO, &fi);
	say("GET_FROZEN_INFO(%s) -> %s sync_recv=%u async_recv=%u", who, res(r), fi.sync_recv,
	    fi.async_recv);
}

static void s_do(uint64_t cmd)
{
	put(&chs, 0, cmd);
	get(&chs, 0);
}

static void c_do(uint64_t cmd, uint32_t code, bool wait)
{
	put(&chc, 0, cmd);
	put(&chc, 0, code);
	if (wait)
		get(&chc, 0);
}

int main(void)
{
	conf_start("F", 30);
	bd_open(&f, CONF_DEV, 0);
	chan_init(&chs);
	chan_init(&chc);
	sp = spawn("S", server, NULL);
	get(&chs, 0);
	pid_t cp = spawn("C", client, NULL);

	say("-- frozen target");
	freeze("BINDER_FREEZE(S, on, timeout 0)", sp, 1, 0);
	info("S", sp);
	c_do(C_CALL, 1, true);
	info("S", sp);
	c_do(C_ONEWAY, 2, true);
	info("S", sp);
	freeze("BINDER_FREEZE(S, on) again", sp, 1, 0);
	info("S (frozen again)", sp);
	freeze("BINDER_FREEZE(S, off)", sp, 0, 0);
	info("S", sp);
	s_do(S_READ);
	s_do(S_READ);

	say("-- freezing a process with a transaction in flight");
	c_do(C_CALL, 3, false);
	s_do(S_READ_KEEP);
	freeze("BINDER_FREEZE(S, on, timeout 0) while S handles a call", sp, 1, 0);
	info("S", sp);
	freeze("BINDER_FREEZE(S, on, timeout 100 ms) while S handles a call", sp, 1, 100);
	freeze("BINDER_FREEZE(C, on, timeout 0) while C waits for a reply", cp, 1, 0);
	info("C", cp);
	s_do(S_REPLY_KEPT);
	get(&chc, 0);
	c_do(C_ONEWAY, 4, true);
	freeze("BINDER_FREEZE(S, on, timeout 0) with a oneway queued, unread", sp, 1, 0);
	s_do(S_READ_KEEP);
	freeze("BINDER_FREEZE(S, on, timeout 0) once S has read it", sp, 1, 0);
	freeze("BINDER_FREEZE(S, off)", sp, 0, 0);

	say("-- TF_UPDATE_TXN while frozen");
	freeze("BINDER_FREEZE(S, on, timeout 0)", sp, 1, 0);
	c_do(C_ONEWAY, 5, true);
	c_do(C_ONEWAY_UPDATE, 6, true);
	c_do(C_ONEWAY_UPDATE, 7, true);
	c_do(C_ONEWAY_UPDATE, 8, true);
	freeze("BINDER_FREEZE(S, off)", sp, 0, 0);
	for (int i = 0; i < 4; i++)
		s_do(S_READ);

	c_do(C_END, 0, false);
	s_do(S_READ); /* nothing left */
	put(&chs, 0, S_END);
	reap(cp);
	reap(sp);
	say("done");
	return 0;
}
