/* SPDX-License-Identifier: MIT */
/*
 * Large payloads: calls and replies of 16 KiB - 1, 16 KiB, 64 KiB and 1 MiB
 * arrive intact (the emulation stages those of 16 KiB and more in its
 * outbox, docs/emulation.md), a scatter-gather buffer of 256 KiB too, and a
 * bad data or offsets pointer in a large call or reply fails as the kernel
 * fails it, as does an fd array in a misaligned large buffer. C calls S
 * (the context manager), which prints what it received as a size and a
 * checksum, and answers with the same bytes (nothing to a call with
 * objects, whose bytes name addresses).
 */
#include "conf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAP	   (4u << 20)
#define STOP	   99
#define REPLY_BAD  2 /* S replies from a bad pointer */
#define SG_BUFFER  (256u * 1024)
#define BAD_LENGTH (64u * 1024)

static struct chan ch;
static struct bdev s, c;
static uint8_t *bad; /* BAD_LENGTH bytes whose last page is PROT_NONE */

static uint32_t checksum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		fail("malloc");
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 12));
	return p;
}

/* What a transaction carried: its data, or the buffer of its one PTR object. */
static void say_received(const char *who, const struct binder_transaction_data *t)
{
	const uint8_t *p = (const void *)(uintptr_t)t->data.ptr.buffer;
	size_t n = t->data_size;

	if (t->offsets_size) {
		const struct binder_buffer_object *bo = (const void *)txn_obj(t, 0);

		say("%s: object %s, its buffer:", who, typename_(bo->hdr.type));
		p = (const void *)(uintptr_t)bo->buffer;
		n = bo->length;
	}
	say("%s: %zu bytes, checksum %08x", who, n, checksum(p, n));
}

static void server(void *arg)
{
	(void)arg;
	bd_open(&s, CONF_DEV, MAP);
	become_ctxmgr(&s);
	enter_looper(&s);
	put(&ch, 1, 1);
	for (;;) {
		struct rw r, rr;
		struct wbuf w;
		const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
		struct binder_transaction_data t = it->tr;
		uint8_t *copy = malloc(t.data_size ? t.data_size : 1);

		say_received("S got", &t);
		memcpy(copy, (const void *)(uintptr_t)t.data.ptr.buffer, t.data_size);
		free_buffer(&s, t.data.ptr.buffer);
		if (t.code == STOP) {
			free(copy);
			break;
		}
		w_reset(&w);
		if (t.code == REPLY_BAD)
			w_txn(&w, BC_REPLY, 0, 0, 0, bad + BAD_LENGTH / 2, BAD_LENGTH, NULL, 0);
		else if (t.offsets_size) /* its objects hold our addresses: not echoed */
			w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
		else
			w_txn(&w, BC_REPLY, 0, 0, 0, copy, t.data_size, NULL, 0);
		bwr(&s, &w, 256, &rr);
		free(copy);
		get(&ch, 1);
		show_brief(&s, "reply", &rr);
		if (t.code == REPLY_BAD)
			show_ee(&s, "reply");
		put(&ch, 1, 1);
	}
	put(&ch, 1, 1);
}

/* One call of data [p, p + n) with offsets [offs, offs + offs_size). */
static void call(const char *what, uint32_t code, const void *p, size_t n, const void *offs,
		 size_t offs_size, uint64_t sg)
{
	struct wbuf w;
	struct rw r;
	const struct binder_transaction_data *t;

	say("-- %s", what);
	w_reset(&w);
	if (sg)
		w_txn_sg(&w, BC_TRANSACTION_SG, 0, code, 0, p, n, offs, offs_size, sg);
	else
		w_txn(&w, BC_TRANSACTION, 0, code, 0, p, n, offs, offs_size);
	bwr(&c, &w, 1024, &r);
	while (!find_txn(&r) && !find(&r, BR_FAILED_REPLY) && !find(&r, BR_DEAD_REPLY) &&
	       r.ret == 0)
		bwr(&c, NULL, 1024, &r);
	show_brief(&c, what, &r);
	t = find_txn(&r);
	if (t) {
		say_received("C got", t);
		free_buffer(&c, t->data.ptr.buffer);
	} else {
		show_ee(&c, what);
	}
	if (t || code == REPLY_BAD) { /* S answered: let it print its side */
		put(&ch, 0, 1);
		get(&ch, 0);
	}
}

int main(void)
{
	static const size_t sizes[] = { 16383, 16384, 16384, 65536, 1048576 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char what[64];

	conf_start("C", 60);
	chan_init(&ch);
	bad = mmap(NULL, BAD_LENGTH + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (bad == MAP_FAILED || mprotect(bad + BAD_LENGTH - page, 2 * page, PROT_NONE) < 0)
		fail("mmap");
	memset(bad, 0x5a, BAD_LENGTH - page);
	pid_t sp = spawn("S", server, NULL);
	get(&ch, 0);
	bd_open(&c, CONF_DEV, MAP);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = pattern(sizes[i], (unsigned)i);

		snprintf(what, sizeof(what), "call of %zu bytes", sizes[i]);
		say("C sends %zu bytes, checksum %08x", sizes[i], checksum(data, sizes[i]));
		call(what, 1, data, sizes[i], NULL, 0, 0);
		free(data);
	}

	/* A bad data pointer: its first half readable, then a PROT_NONE page. */
	call("call of 64 KiB from a bad pointer", 1, bad + BAD_LENGTH / 2, BAD_LENGTH, NULL, 0, 0);
	call("call of 4 KiB from a bad pointer", 1, bad + BAD_LENGTH - page - page / 2, page, NULL,
	     0, 0);
	{
		uint8_t *data = pattern(65536, 7);

		call("call of 64 KiB with a bad offsets pointer", 1, data, 65536,
		     bad + BAD_LENGTH - page, 8, 0);
		free(data);
	}
	call("call; S replies 64 KiB from a bad pointer", REPLY_BAD, "x", 1, NULL, 0, 0);

	/* A scatter-gather buffer of 256 KiB. */
	{
		uint8_t *buffer = pattern(SG_BUFFER, 9);
		struct binder_buffer_object bo;
		struct objs o;

		memset(&bo, 0, sizeof(bo));
		bo.hdr.type = BINDER_TYPE_PTR;
		bo.buffer = (uintptr_t)buffer;
		bo.length = SG_BUFFER;
		objs_reset(&o);
		objs_add(&o, &bo, sizeof(bo));
		say("C sends a buffer of %u bytes, checksum %08x", SG_BUFFER,
		    checksum(buffer, SG_BUFFER));
		call("call with a 256 KiB scatter-gather buffer", 1, o.data, o.len, o.offs, o.n * 8,
		     SG_BUFFER);
		say("C's object still names its own buffer: %s",
		    ((struct binder_buffer_object *)o.data)->buffer == (uintptr_t)buffer ? "yes"
											 : "no");
		free(buffer);
	}

	/*
	 * An fd array in a large scatter-gather buffer at an address that is
	 * not 4-aligned: the kernel checks the alignment of the sender's own
	 * address of the array (EINVAL), whatever the staged copy's would be.
	 */
	{
		uint8_t *buffer = pattern(SG_BUFFER / 16 + 8, 11);
		struct binder_buffer_object bo = { .hdr.type = BINDER_TYPE_PTR,
						   .buffer = (uintptr_t)(buffer + 1),
						   .length = SG_BUFFER / 16 };
		/* One descriptor (0) at the start of its parent, object 0. */
		struct binder_fd_array_object fda = { .hdr.type = BINDER_TYPE_FDA, .num_fds = 1 };
		int32_t fd = 0;
		struct objs o;

		memcpy(buffer + 1, &fd, sizeof(fd));
		objs_reset(&o);
		objs_bytes(&o, "pad", 4); /* a parent at offset 0 is no parent, to the kernel */
		objs_add(&o, &bo, sizeof(bo));
		objs_add(&o, &fda, sizeof(fda));
		call("call with an fd array in a misaligned 16 KiB scatter-gather buffer", 1,
		     o.data, o.len, o.offs, o.n * 8, SG_BUFFER / 16);
		free(buffer);
	}

	send_empty_oneway(&c, 0, STOP);
	get(&ch, 0);
	return reap(sp);
}
