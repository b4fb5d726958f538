/* SPDX-License-Identifier: MIT */
/*
 * Death notifications: request, delivery (one per read), BC_DEAD_BINDER_DONE,
 * clear before death, clear after delivery and before the done, clear while
 * the notification is still queued, request on a dead node, duplicates,
 * wrong cookies, weak refs, a ref released before the death.
 * S is the context manager and holds refs to nodes of A1 and A2.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan cha; /* S (end 0) <-> A (end 1) */
static struct bdev s;

/* A: sends nodes 0x10.. (n of them, the last one weak if asked) to S, acks
 * its refs, then waits to be killed. */
static void owner(void *arg)
{
	int n = (int)(intptr_t)arg & 0xff;
	bool last_weak = ((intptr_t)arg >> 8) & 1;
	struct bdev a;
	bd_open(&a, CONF_DEV, CONF_MAP_SIZE);
	struct objs o;
	objs_reset(&o);
	for (int i = 0; i < n; i++)
		objs_binder(&o,
			    (last_weak && i == n - 1) ? BINDER_TYPE_WEAK_BINDER
						      : BINDER_TYPE_BINDER,
			    0x10 + (uint64_t)i * 0x10, 0x11 + (uint64_t)i * 0x10, 0);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn_objs(&w, BC_TRANSACTION, 0, 1, 0, &o);
	bwr(&a, &w, 1024, &r);
	ack_node_refs(&a, &r);
	put(&cha, 1, 1);
	get(&cha, 1); /* never answered: killed */
}

/* S receives A's nodes, takes a strong ref (weak for WEAK_HANDLE) on each;
 * prints and returns the handles. */
static uint32_t handles[8];
static void take_refs(void)
{
	struct rw r;
	const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
	struct binder_transaction_data t = it->tr;
	struct wbuf w;
	w_reset(&w);
	char line[128] = "handles:";
	size_t n = strlen(line);
	for (size_t i = 0; txn_obj(&t, i); i++) {
		const struct flat_binder_object *f = txn_obj(&t, i);
		w_ref(&w, f->hdr.type == BINDER_TYPE_HANDLE ? BC_ACQUIRE : BC_INCREFS, f->handle);
		handles[i] = f->handle;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %u", f->handle);
	}
	say("%s", line);
	w_free(&w, t.data.ptr.buffer);
	w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
	struct rw rr;
	bwr(&s, &w, 256, &rr);
	get(&cha, 0);
}

static void death(const char *what, uint32_t bc, uint32_t h, uint64_t cookie)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_death(&w, bc, h, cookie);
	run_show(&s, what, &w, 0, &r);
}

static void done(const char *what, uint64_t cookie)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_u32(&w, BC_DEAD_BINDER_DONE);
	w_u64(&w, cookie);
	run_show(&s, what, &w, 0, &r);
}

static void nb(const char *what)
{
	struct rw r;
	bwr_nb(&s, NULL, 1024, &r);
	show_brief(&s, what, &r);
}

static void call(const char *what, uint32_t h)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, h, 1, 0, NULL, 0, NULL, 0);
	bwr(&s, &w, 256, &r);
	show_brief(&s, what, &r);
}

int main(void)
{
	conf_start("S", 30);
	open_ctxmgr(&s);
	chan_init(&cha);

	say("-- A1 owns 0x10..0x60 (0x60 weak); S holds handles 1..6");
	pid_t a1 = spawn("A1", owner, (void *)(intptr_t)(6 | 1 << 8));
	take_refs();
	death("request h1 cookie 0x51", BC_REQUEST_DEATH_NOTIFICATION, 1, 0x51);
	death("request h2 cookie 0x52", BC_REQUEST_DEATH_NOTIFICATION, 2, 0x52);
	death("clear h2 cookie 0x52 (before death)", BC_CLEAR_DEATH_NOTIFICATION, 2, 0x52);
	nb("read");
	death("request h3 cookie 0x53", BC_REQUEST_DEATH_NOTIFICATION, 3, 0x53);
	death("request h3 cookie 0x63 again (duplicate)", BC_REQUEST_DEATH_NOTIFICATION, 3, 0x63);
	death("request h4 cookie 0x54", BC_REQUEST_DEATH_NOTIFICATION, 4, 0x54);
	death("clear h4 with cookie 0x99 (wrong)", BC_CLEAR_DEATH_NOTIFICATION, 4, 0x99);
	death("clear h2 cookie 0x52 again (no notification any more)", BC_CLEAR_DEATH_NOTIFICATION,
	      2, 0x52);
	death("request h5 cookie 0x55", BC_REQUEST_DEATH_NOTIFICATION, 5, 0x55);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_ref(&w, BC_RELEASE, 5);
	run_show(&s, "[BC_RELEASE 5] (drops ref 5 with its notification)", &w, 0, &r);
	death("request h6 (weak ref) cookie 0x56", BC_REQUEST_DEATH_NOTIFICATION, 6, 0x56);
	death("request h9 (no such handle) cookie 0x59", BC_REQUEST_DEATH_NOTIFICATION, 9, 0x59);
	nb("read");
	say("-- A1 is killed");
	kill_reap(a1);
	wait_binder_gone(&s, a1);
	for (int i = 0; i < 6; i++)
		nb("read");
	done("BC_DEAD_BINDER_DONE 0x51", 0x51);
	done("BC_DEAD_BINDER_DONE 0x51 again", 0x51);
	done("BC_DEAD_BINDER_DONE 0x999 (unknown)", 0x999);
	done("BC_DEAD_BINDER_DONE 0x53", 0x53);
	done("BC_DEAD_BINDER_DONE 0x54", 0x54);
	done("BC_DEAD_BINDER_DONE 0x56", 0x56);
	nb("read");
	call("call h1 (dead node)", 1);
	death("request h1 cookie 0x71 (0x51 is still registered on h1)",
	      BC_REQUEST_DEATH_NOTIFICATION, 1, 0x71);
	nb("read");
	death("request h2 cookie 0x72 (dead node, none registered on h2)",
	      BC_REQUEST_DEATH_NOTIFICATION, 2, 0x72);
	nb("read");
	nb("read");
	done("BC_DEAD_BINDER_DONE 0x72", 0x72);
	death("clear h1 cookie 0x51 (delivered and done)", BC_CLEAR_DEATH_NOTIFICATION, 1, 0x51);
	nb("read");
	death("request h1 cookie 0x73", BC_REQUEST_DEATH_NOTIFICATION, 1, 0x73);
	nb("read");
	done("BC_DEAD_BINDER_DONE 0x73", 0x73);
	nb("read");

	say("-- A2 owns 0x10, 0x20: clear after delivery, clear while queued");
	nb("read");
	pid_t a2 = spawn("A2", owner, (void *)(intptr_t)2);
	take_refs();
	uint32_t h7 = handles[0], h8 = handles[1];
	death("request first cookie 0x81", BC_REQUEST_DEATH_NOTIFICATION, h7, 0x81);
	death("request second cookie 0x82", BC_REQUEST_DEATH_NOTIFICATION, h8, 0x82);
	say("-- A2 is killed");
	kill_reap(a2);
	wait_binder_gone(&s, a2);
	death("clear second cookie 0x82 (its BR_DEAD_BINDER is queued, unread)",
	      BC_CLEAR_DEATH_NOTIFICATION, h8, 0x82);
	nb("read");
	death("clear first cookie 0x81 (delivered, not done)", BC_CLEAR_DEATH_NOTIFICATION, h7,
	      0x81);
	nb("read");
	nb("read");
	done("BC_DEAD_BINDER_DONE 0x81", 0x81);
	nb("read");
	done("BC_DEAD_BINDER_DONE 0x82", 0x82);
	nb("read");
	nb("read");
	say("done");
	return 0;
}
