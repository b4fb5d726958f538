/* SPDX-License-Identifier: MIT */
/*
 * Scatter-gather: BINDER_TYPE_PTR with BC_TRANSACTION_SG / BC_REPLY_SG.
 * Where the extra buffers land, buffers_size accounting and alignment,
 * parent pointer fix-ups (including nested parents and their ordering
 * rules) and the malformed variants.
 * C sends to S (the context manager), which prints each PTR's contents with
 * every 8-byte word that points into the received buffer shown as <buf+N>.
 */
#include "conf.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static struct chan ch;
static struct bdev s;

#define STOP	 99
#define REPLY_SG 2

static void dump_ptr(const struct bdev *b, uint64_t base, size_t total,
		     const struct binder_buffer_object *bo)
{
	char line[512];
	size_t n = 0;
	const uint8_t *p = (const uint8_t *)(uintptr_t)bo->buffer;
	size_t len = bo->length < 64 ? bo->length : 64;
	(void)b;
	for (size_t i = 0; i < len;) {
		uint64_t word = 0;
		if (len - i >= 8) {
			memcpy(&word, p + i, 8);
			if (word >= base && word < base + total) {
				n += (size_t)snprintf(line + n, sizeof(line) - n, "<buf+%llu>",
						      (unsigned long long)(word - base));
				i += 8;
				continue;
			}
		}
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", p[i]);
		i++;
	}
	say("    contents: %s", len ? line : "-");
}

static void print_ptrs(const struct bdev *b, const struct binder_transaction_data *t)
{
	for (size_t i = 0; txn_obj(t, i); i++) {
		const struct binder_buffer_object *bo = (const void *)txn_obj(t, i);
		if (bo->hdr.type == BINDER_TYPE_PTR)
			dump_ptr(b, t->data.ptr.buffer, b->size, bo);
	}
}

static void server(void *arg)
{
	(void)arg;
	open_ctxmgr(&s);
	put(&ch, 1, 1);
	for (;;) {
		struct rw r;
		const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
		struct binder_transaction_data t = it->tr;
		print_ptrs(&s, &t);
		free_buffer(&s, t.data.ptr.buffer);
		if (t.code == STOP)
			break;
		if (t.flags & TF_ONE_WAY) {
			put(&ch, 1, 1);
			continue;
		}
		struct wbuf w;
		struct rw rr;
		struct objs o;
		w_reset(&w);
		if (t.code == REPLY_SG) {
			static char text[] = "reply-sg";
			uint64_t pad = 0;
			struct binder_buffer_object bo;
			memset(&bo, 0, sizeof(bo));
			bo.hdr.type = BINDER_TYPE_PTR;
			bo.buffer = (uintptr_t)text;
			bo.length = 8;
			objs_reset(&o);
			objs_bytes(&o, &pad, 8);
			objs_add(&o, &bo, sizeof(bo));
			w_txn_sg(&w, BC_REPLY_SG, 0, 0, 0, o.data, o.len, o.offs, o.n * 8, 8);
		} else {
			w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
		}
		bwr(&s, &w, 256, &rr);
		get(&ch, 1);
		show_brief(&s, "reply", &rr);
		put(&ch, 1, 1);
	}
	put(&ch, 1, 1);
}

static struct bdev c;

static void send(const char *what, uint32_t code, uint32_t flags, const struct objs *o,
		 uint64_t extra)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn_sg(&w, BC_TRANSACTION_SG, 0, code, flags, o->data, o->len, o->offs, o->n * 8, extra);
	bwr(&c, &w, 1024, &r);
	if ((flags & TF_ONE_WAY) && find(&r, BR_TRANSACTION_COMPLETE))
		get(&ch, 0);
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		print_ptrs(&c, t);
		free_buffer(&c, t->data.ptr.buffer);
	}
	if (!find(&r, BR_REPLY) && !(flags & TF_ONE_WAY))
		show_ee(&c, what);
	if (find(&r, BR_REPLY)) { /* S replied: let it print its side */
		put(&ch, 0, 1);
		get(&ch, 0);
	}
}

static struct binder_buffer_object ptr(const void *p, uint64_t len, bool has_parent,
				       uint64_t parent, uint64_t parent_offset)
{
	struct binder_buffer_object bo;
	memset(&bo, 0, sizeof(bo));
	bo.hdr.type = BINDER_TYPE_PTR;
	bo.flags = has_parent ? BINDER_BUFFER_FLAG_HAS_PARENT : 0;
	bo.buffer = (uintptr_t)p;
	bo.length = len;
	bo.parent = parent;
	bo.parent_offset = parent_offset;
	return bo;
}

/* Data that precedes the objects, so that the first is not at offset 0. */
static const uint64_t pad = 0x1111111111111111ull;

/* Resets o to the pad word followed by the PTR objects of the NULL-terminated
 * list. */
__attribute__((sentinel)) static void pad_then_ptrs(struct objs *o, ...)
{
	objs_reset(o);
	objs_bytes(o, &pad, 8);
	va_list ap;
	va_start(ap, o);
	for (const struct binder_buffer_object *bo;
	     (bo = va_arg(ap, const struct binder_buffer_object *));)
		objs_add(o, bo, sizeof(*bo));
	va_end(ap);
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t sp = spawn("S", server, NULL);
	get(&ch, 0);
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct objs o;
	struct binder_buffer_object a, b2, b3, b4;
	static const char hello[] = "hello, world!";
	/* a parent with two pointer slots (at 8 and 16) */
	uint64_t parent[3] = { 0x4141414141414141ull, 0xdeadbeefull, 0xdeadbeefull };
	static const char kid1[] = "kid1", kid2[] = "kid2", grand[] = "grand";

	say("-- one extra buffer");
	a = ptr(hello, 13, false, 0, 0);
	pad_then_ptrs(&o, &a, NULL);
	send("[PTR 13 bytes] buffers_size 16", 1, 0, &o, 16);
	send("[PTR 13 bytes] buffers_size 8", 1, 0, &o, 8);
	send("[PTR 13 bytes] buffers_size 32", 1, 0, &o, 32);
	b2 = ptr(hello, 5, false, 0, 0);
	objs_add(&o, &b2, sizeof(b2));
	send("[PTR 13 bytes, PTR 5 bytes] buffers_size 24", 1, 0, &o, 24);
	send("[PTR 13 bytes, PTR 5 bytes] buffers_size 16", 1, 0, &o, 16);
	a = ptr((const void *)0x10, 8, false, 0, 0);
	pad_then_ptrs(&o, &a, NULL);
	send("[PTR 8 bytes at address 0x10]", 1, 0, &o, 8);

	say("-- parents");
	a = ptr(parent, 24, false, 0, 0);
	b2 = ptr(kid1, 5, true, 0, 8);
	pad_then_ptrs(&o, &a, &b2, NULL);
	send("[PTR parent 24, PTR kid1 parent 0 @8]", 1, 0, &o, 32);
	objs_reset(&o);
	objs_add(&o, &a, sizeof(a));
	objs_add(&o, &b2, sizeof(b2));
	send("the same with the parent at data offset 0", 1, 0, &o, 32);
	b3 = ptr(kid2, 5, true, 0, 16);
	pad_then_ptrs(&o, &a, &b2, &b3, NULL);
	send("[parent, kid1 @8, kid2 @16]", 1, 0, &o, 40);
	b2.parent_offset = 16;
	b3.parent_offset = 8;
	pad_then_ptrs(&o, &a, &b2, &b3, NULL);
	send("[parent, kid1 @16, kid2 @8] (fix-ups out of order)", 1, 0, &o, 40);
	b2.parent_offset = 8;
	b3.parent_offset = 8;
	pad_then_ptrs(&o, &a, &b2, &b3, NULL);
	send("[parent, kid1 @8, kid2 @8] (same slot twice)", 1, 0, &o, 40);
	/* grandchild: kid1 is a parent too (its first 8 bytes get a pointer) */
	uint64_t kidslot[2] = { 0, 0x4242424242424242ull };
	b2 = ptr(kidslot, 16, true, 0, 8);
	b3 = ptr(grand, 6, true, 1, 0);
	b4 = ptr(kid2, 5, true, 0, 16);
	pad_then_ptrs(&o, &a, &b2, &b3, &b4, NULL);
	send("[parent, kid1 {slot} @8, grand parent 1 @0, kid2 parent 0 @16] (depth first)", 1, 0,
	     &o, 64);
	b4.parent_offset = 0;
	pad_then_ptrs(&o, &a, &b2, &b3, &b4, NULL);
	send("the same, kid2 @0 (before kid1's slot)", 1, 0, &o, 64);

	say("-- bad parents");
	static const struct {
		const char *what;
		uint64_t parent, offset;
	} bad[] = {
		{ "kid parent_offset 20 of 24 (no room for a pointer)", 0, 20 },
		{ "kid parent_offset 16 of 24 (exactly room)", 0, 16 },
		{ "kid parent_offset 12 (not 8-aligned)", 0, 12 },
		{ "kid parent 1 (itself)", 1, 8 },
		{ "kid parent 7 (no such object)", 7, 8 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b2 = ptr(kid1, 5, true, bad[i].parent, bad[i].offset);
		pad_then_ptrs(&o, &a, &b2, NULL);
		send(bad[i].what, 1, 0, &o, 32);
	}
	struct flat_binder_object fb = fbo_binder(0x70, 0x71, 0);
	b2 = ptr(kid1, 5, true, 0, 8);
	objs_reset(&o);
	objs_bytes(&o, &pad, 8);
	objs_add(&o, &fb, sizeof(fb));
	objs_add(&o, &b2, sizeof(b2));
	send("kid whose parent is a BINDER object", 1, 0, &o, 8);

	say("-- oneway and reply");
	a = ptr(hello, 13, false, 0, 0);
	pad_then_ptrs(&o, &a, NULL);
	send("oneway [PTR 13 bytes] buffers_size 16", 1, TF_ONE_WAY, &o, 16);
	objs_reset(&o);
	send("call; S answers with BC_REPLY_SG [PTR 8 bytes]", REPLY_SG, 0, &o, 0);

	send_empty_oneway(&c, 0, STOP);
	get(&ch, 0);
	reap(sp);
	say("done");
	return 0;
}
