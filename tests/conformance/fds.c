/* SPDX-License-Identifier: MIT */
/*
 * File descriptors: BINDER_TYPE_FD to a node with and without
 * FLAT_BINDER_FLAG_ACCEPTS_FDS, in replies with and without TF_ACCEPT_FDS,
 * bad fds, oneway; BINDER_TYPE_FDA inside a scatter-gather parent, and which
 * descriptors BC_FREE_BUFFER closes.
 * S (context manager, set with ACCEPTS_FDS) serves C.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct chan ch;
static struct bdev s;

enum {
	REPLY_PLAIN = 1,
	REPLY_FD = 2,
	KEEP = 3,
	STOP = 99,
	LOWFD = 4,
	REPLY_NODE = 5
};

static const char *fd_state(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 ? "closed" : (fl & FD_CLOEXEC) ? "open, cloexec" : "open";
}

static void read_fd(const char *what, int fd)
{
	char buf[16] = "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	say("%s: fd %s, reads \"%s\"", what, fd_state(fd), n > 0 ? buf : errname(errno));
}

/* S: code REPLY_FD replies with an FD object (a pipe with "from S");
 * KEEP keeps the buffer until the next call; LOWFD lowers RLIMIT_NOFILE. */
static void server(void *arg)
{
	(void)arg;
	bd_open(&s, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr_ext(&s, 0x100, 0x101, FLAT_BINDER_FLAG_ACCEPTS_FDS);
	enter_looper(&s);
	put(&ch, 1, 1);
	uint64_t kept = 0;
	int kept_fds[4] = { -1, -1, -1, -1 };
	for (;;) {
		struct rw r;
		const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
		struct binder_transaction_data t = it->tr;
		if (t.code == STOP)
			break;
		/* inspect the fds received */
		for (size_t i = 0; txn_obj(&t, i); i++) {
			const struct binder_fd_object *f = (const void *)txn_obj(&t, i);
			if (f->hdr.type == BINDER_TYPE_FD)
				read_fd("  received FD", (int)f->fd);
			if (f->hdr.type == BINDER_TYPE_PTR) {
				const struct binder_buffer_object *bo = (const void *)f;
				const int32_t *fds = (const int32_t *)(uintptr_t)bo->buffer;
				for (size_t k = 0; k < bo->length / 4 && k < 4; k++) {
					kept_fds[k] = fds[k];
					read_fd("  FDA entry", fds[k]);
				}
			}
		}
		if (kept) {
			free_buffer(&s, kept);
			for (int k = 0; k < 4; k++)
				if (kept_fds[k] >= 0)
					say("  after BC_FREE_BUFFER of the kept buffer, FDA entry "
					    "%d: %s",
					    k, fd_state(kept_fds[k]));
			memset(kept_fds, 0xff, sizeof(kept_fds));
			kept = 0;
		}
		if (t.code == KEEP)
			kept = t.data.ptr.buffer;
		else
			free_buffer(&s, t.data.ptr.buffer);
		if (t.code == LOWFD) {
			struct rlimit rl = { 0, 0 };
			getrlimit(RLIMIT_NOFILE, &rl);
			int top = dup(0);
			rl.rlim_cur = (rlim_t)top;
			close(top);
			setrlimit(RLIMIT_NOFILE, &rl);
			say("  RLIMIT_NOFILE lowered: no free descriptor left");
		}
		if (t.flags & TF_ONE_WAY) {
			put(&ch, 1, 1);
			continue;
		}
		struct wbuf w;
		struct rw rr;
		w_reset(&w);
		if (t.code == REPLY_FD) {
			int p[2];
			if (pipe(p) < 0)
				fail("pipe");
			if (write(p[1], "from S", 6) != 6)
				fail("write");
			struct binder_fd_object fo;
			memset(&fo, 0, sizeof(fo));
			fo.hdr.type = BINDER_TYPE_FD;
			fo.fd = (uint32_t)p[0];
			fo.cookie = 0x5;
			struct objs o;
			objs_reset(&o);
			objs_add(&o, &fo, sizeof(fo));
			w_txn_objs(&w, BC_REPLY, 0, 0, 0, &o);
			bwr(&s, &w, 256, &rr);
			close(p[0]);
			close(p[1]);
		} else if (t.code == REPLY_NODE) {
			struct objs o;
			objs_reset(&o);
			objs_binder(&o, BINDER_TYPE_BINDER, 0x900, 0x901, 0);
			w_txn_objs(&w, BC_REPLY, 0, 0, 0, &o);
			bwr(&s, &w, 256, &rr);
		} else {
			w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
			bwr(&s, &w, 256, &rr);
		}
		get(&ch, 1);
		show_brief(&s, "reply", &rr);
		put(&ch, 1, 1);
	}
	put(&ch, 1, 1);
}

static struct bdev c;

static int pipe_with(const char *text)
{
	int p[2];
	if (pipe(p) < 0)
		fail("pipe");
	if (write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		fail("write");
	close(p[1]);
	return p[0];
}

/* replied: S gets the call and replies (and prints its reply's result). */
static void send(const char *what, uint32_t handle, uint32_t code, uint32_t flags,
		 const struct objs *o, bool sg, uint64_t extra, bool replied)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	if (sg)
		w_txn_sg(&w, BC_TRANSACTION_SG, handle, code, flags, o->data, o->len, o->offs,
			 o->n * 8, extra);
	else
		w_txn_objs(&w, BC_TRANSACTION, handle, code, flags, o);
	bwr(&c, &w, 1024, &r);
	if ((flags & TF_ONE_WAY) && find(&r, BR_TRANSACTION_COMPLETE))
		get(&ch, 0); /* S printed */
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		for (size_t i = 0; txn_obj(t, i); i++) {
			const struct binder_fd_object *f = (const void *)txn_obj(t, i);
			if (f->hdr.type == BINDER_TYPE_FD)
				read_fd("  received FD", (int)f->fd);
			if (f->hdr.type == BINDER_TYPE_HANDLE) {
				struct wbuf w2;
				struct rw r2;
				w_reset(&w2);
				w_ref(&w2, BC_ACQUIRE,
				      ((const struct flat_binder_object *)f)->handle);
				bwr(&c, &w2, 0, &r2);
			}
		}
		free_buffer(&c, t->data.ptr.buffer);
	}
	if (!find(&r, BR_REPLY) && !(flags & TF_ONE_WAY))
		show_ee(&c, what);
	if (replied) {
		put(&ch, 0, 1); /* S may print its reply's result */
		get(&ch, 0);
	}
}

static struct binder_fd_object fd_obj(int fd, uint32_t pad_flags, uint64_t cookie)
{
	struct binder_fd_object fo;
	memset(&fo, 0, sizeof(fo));
	fo.hdr.type = BINDER_TYPE_FD;
	fo.pad_flags = pad_flags;
	fo.fd = (uint32_t)fd;
	fo.cookie = cookie;
	return fo;
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t sp = spawn("S", server, NULL);
	get(&ch, 0);
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct objs o;
	struct binder_fd_object fo;

	say("-- FD to a node with ACCEPTS_FDS");
	int fd = pipe_with("hello");
	fo = fd_obj(fd, 0x7f, 0xc0c0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("call with [FD pipe]", 0, REPLY_PLAIN, 0, &o, false, 0, true);
	say("the sender's fd after the call: %s", fd_state(fd));
	close(fd);
	fd = pipe_with("one way");
	fo = fd_obj(fd, 0, 0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("oneway with [FD pipe]", 0, REPLY_PLAIN, TF_ONE_WAY, &o, false, 0, false);
	close(fd);
	fo = fd_obj(-1, 0, 0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("call with [FD -1]", 0, REPLY_PLAIN, 0, &o, false, 0, false);
	fo = fd_obj(999, 0, 0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("call with [FD 999] (not open)", 0, REPLY_PLAIN, 0, &o, false, 0, false);

	say("-- FD to a node without ACCEPTS_FDS");
	objs_reset(&o);
	send("call (S replies with its node 0x900, flags 0)", 0, REPLY_NODE, 0, &o, false, 0, true);
	fd = pipe_with("nope");
	fo = fd_obj(fd, 0, 0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("call handle 1 with [FD pipe]", 1, REPLY_PLAIN, 0, &o, false, 0, false);
	send("call handle 1 with [FD pipe] and TF_ACCEPT_FDS", 1, REPLY_PLAIN, TF_ACCEPT_FDS, &o,
	     false, 0, false);
	close(fd);

	say("-- FD in a reply");
	objs_reset(&o);
	send("call with TF_ACCEPT_FDS, S replies [FD]", 0, REPLY_FD, TF_ACCEPT_FDS, &o, false, 0,
	     true);
	send("call without TF_ACCEPT_FDS, S replies [FD]", 0, REPLY_FD, 0, &o, false, 0, true);

	say("-- FDA in a scatter-gather parent");
	int fa = pipe_with("fda0"), fb = pipe_with("fda1");
	int32_t arr[2] = { fa, fb };
	struct binder_buffer_object bo;
	memset(&bo, 0, sizeof(bo));
	bo.hdr.type = BINDER_TYPE_PTR;
	bo.buffer = (uintptr_t)arr;
	bo.length = sizeof(arr);
	struct binder_fd_array_object fda;
	memset(&fda, 0, sizeof(fda));
	fda.hdr.type = BINDER_TYPE_FDA;
	fda.num_fds = 2;
	fda.parent = 0;
	fda.parent_offset = 0;
	objs_reset(&o);
	objs_add(&o, &bo, sizeof(bo));
	objs_add(&o, &fda, sizeof(fda));
	send("call [PTR {fd, fd} at 0, FDA parent 0 offset 0 num 2]", 0, KEEP, 0, &o, true, 8,
	     false);
	/* The same with 8 bytes before the PTR: a parent at data offset 0
	 * cannot take fixups. */
	uint64_t pad = 0;
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	objs_add(&o, &bo, sizeof(bo));
	fda.parent = 0;
	objs_add(&o, &fda, sizeof(fda));
	send("call [8 bytes, PTR {fd, fd} at 8, FDA parent 0 offset 0 num 2] (S keeps the buffer)",
	     0, KEEP, 0, &o, true, 8, true);
	objs_reset(&o);
	send("next call (S frees the kept buffer first)", 0, REPLY_PLAIN, 0, &o, false, 0, true);
	say("the sender's array still holds its own fds: %s",
	    arr[0] == fa && arr[1] == fb ? "yes" : "no");
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	objs_add(&o, &bo, sizeof(bo));
	fda.num_fds = 3;
	objs_add(&o, &fda, sizeof(fda));
	send("FDA num 3 in a parent of 8 bytes", 0, REPLY_PLAIN, 0, &o, true, 8, false);
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	objs_add(&o, &bo, sizeof(bo));
	fda.num_fds = 1;
	fda.parent_offset = 2;
	objs_add(&o, &fda, sizeof(fda));
	send("FDA parent_offset 2 (misaligned)", 0, REPLY_PLAIN, 0, &o, true, 8, false);
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	fo = fd_obj(fa, 0, 0);
	objs_add(&o, &fo, sizeof(fo));
	fda.parent = 0;
	fda.parent_offset = 0;
	objs_add(&o, &fda, sizeof(fda));
	send("FDA whose parent is an FD object", 0, REPLY_PLAIN, 0, &o, true, 0, false);
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	objs_add(&o, &bo, sizeof(bo));
	fda.parent = 1;
	objs_add(&o, &fda, sizeof(fda));
	send("FDA whose parent index is itself", 0, REPLY_PLAIN, 0, &o, true, 8, false);
	close(fa);
	close(fb);

	say("-- the receiver has no free descriptor");
	objs_reset(&o);
	send("call (S lowers its RLIMIT_NOFILE)", 0, LOWFD, 0, &o, false, 0, true);
	fd = pipe_with("nofile");
	fo = fd_obj(fd, 0, 0);
	objs_reset(&o);
	objs_add(&o, &fo, sizeof(fo));
	send("call with [FD pipe] (S's read cannot install it)", 0, REPLY_PLAIN, 0, &o, false, 0,
	     false);
	close(fd);

	send_empty_oneway(&c, 0, STOP);
	get(&ch, 0);
	reap(sp);
	say("done");
	return 0;
}
