/* SPDX-License-Identifier: MIT */
/*
 * Staging an untrusted caller's large transactions in the outbox.
 *
 * The emulated program passes pointers into its own memory, which the
 * daemon can only reach by inline segments (copied into the request, out of
 * it again, then into the receiver's region) or process_vm_readv (a copy
 * worker's hop): for 64 KiB calls both cost about 3x AF_UNIX
 * (bench/results/bigcalls-notes.md). Copied once into the outbox, the bytes
 * reach the receiver with one memcpy by the daemon, as libubinder's parcels
 * built there do.
 *
 * Invariants: the program's memory is only read, once per staged range;
 * only the copy of the write buffer the daemon receives names the outbox;
 * a staged range stays USED until the daemon consumed or refused the
 * write: until its BINDER_WRITE_READ returns, or, for a reply answered
 * locally (a completion ticket), until the ticket leaves TAKEN. The daemon
 * trusts nothing in the outbox: it copies the bytes once into the
 * receiver's buffer and validates that copy, so a program scribbling on
 * its outbox changes only its own transaction.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/outbox_space.h"
#include "transport/channel.h"
#include "transport/stage.h"
#include "wire/wire.h"

int ubt_session_stage(struct ubt_session *s, struct ubt_thread *t, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct outbox_space *sp;
	void *base;
	int err;

	if (s->trusted || atomic_load(&s->stage))
		return -EBUSY;
	err = ubt_outbox(t, size, UBT_OUTBOX_PAGE_STATES, &base);
	if (err)
		return err;
	sp = outbox_space_new(base, size, page);
	if (!sp) {
		s->sys->munmap(base, size);
		return -ENOMEM;
	}
	/* The range first: a transaction staged there is never pushed inline. */
	ubt_session_outbox(s, base, size);
	atomic_store_explicit(&s->stage, sp, memory_order_release);
	return 0;
}

void ubt_session_forget_outbox(struct ubt_session *s)
{
	/* Not deleted: in a forked child its lock may be held by a thread that
	 * does not exist here, and an exec'd image's pointer is the old one's. */
	atomic_store(&s->stage, NULL);
	ubt_session_outbox(s, NULL, 0);
	/* Those counted were threads of the parent, or of the old image. */
	atomic_store(&s->stagers, 0);
}

bool ubt_session_outbox_unmapping(struct ubt_session *s)
{
	struct outbox_space *sp = atomic_exchange(&s->stage, NULL);

	if (!sp)
		return false;
	ubt_session_outbox(s, NULL, 0);
	/* Not deleted: pages of writes in progress are given back to it. */
	outbox_space_retire(sp);
	/* A stager counts itself before it loads stage: one that missed the
	 * exchange is counted here, and has taken its pages or now takes none. */
	while (atomic_load(&s->stagers))
		sched_yield();
	return true;
}

void stage_close(struct ubt_session *s)
{
	struct outbox_space *sp = atomic_exchange(&s->stage, NULL);

	if (!sp)
		return;
	ubt_session_outbox(s, NULL, 0);
	s->sys->munmap(outbox_space_base(sp), outbox_space_size(sp));
	outbox_space_delete(sp);
}

/*
 * Stages the scatter-gather buffers the staged transaction's objects name
 * (BINDER_TYPE_PTR, read from our copy of its data and offsets at @p) into
 * @sg, @sg_size bytes, rewriting their pointers in that copy. A buffer that
 * does not fit, or that the program's memory does not yield, keeps its
 * pointer: the daemon reads it, or fails it, as without an outbox. Best
 * effort over hostile bytes: the daemon validates the objects on its copy.
 *
 * A staged buffer keeps its address's offset within 8 bytes: the kernel
 * checks the alignment of an fd array by the sender's address of its parent
 * buffer (EINVAL when it is not 4-aligned), and the daemon checks the
 * address it is sent, which must fail or pass alike.
 */
static void stage_buffers(const struct ubt_session *s, uint8_t *p,
			  const struct binder_transaction_data *tr, uint8_t *sg, uint64_t sg_size,
			  stage_read_fn *read)
{
	const uint8_t *offsets = p + UBW_ALIGN_UP(tr->data_size);
	uint64_t used = 0;

	for (uint64_t i = 0; i < tr->offsets_size / sizeof(binder_size_t); i++) {
		struct binder_buffer_object bbo;
		binder_size_t off;
		uint64_t skew, room;

		memcpy(&off, offsets + i * sizeof(off), sizeof(off));
		if (off > tr->data_size || tr->data_size - off < sizeof(bbo))
			continue;
		memcpy(&bbo, p + off, sizeof(bbo));
		if (bbo.hdr.type != BINDER_TYPE_PTR || bbo.length == 0 ||
		    bbo.length > sg_size - used)
			continue;
		skew = bbo.buffer & 7; /* sg + used is 8-aligned */
		room = UBW_ALIGN_UP(skew + bbo.length);
		if (room > sg_size - used || read(s, sg + used + skew, bbo.buffer, bbo.length))
			continue;
		bbo.buffer = (uintptr_t)(sg + used + skew);
		memcpy(p + off, &bbo, sizeof(bbo));
		used += room;
	}
}

/* Stages @tr in @sp (stage_transaction() says how), counted in stagers. */
static bool stage_in(struct ubt_thread *t, const struct ubt_session *s, struct outbox_space *sp,
		     struct binder_transaction_data *tr, uint64_t sg_size, stage_read_fn *read)
{
	uint64_t data_room, offsets_room;
	size_t got;
	uint8_t *p;

	data_room = UBW_ALIGN_UP(tr->data_size);
	offsets_room = UBW_ALIGN_UP(tr->offsets_size);
	p = outbox_space_take(sp, data_room + offsets_room + sg_size, &got);
	if (!p)
		return false; /* no room: from the program's memory, as without an outbox */
	if (read(s, p, tr->data.ptr.buffer, tr->data_size) ||
	    read(s, p + data_room, tr->data.ptr.offsets, tr->offsets_size)) {
		/* The daemon meets the program's pointer and fails it as the kernel does. */
		outbox_space_give(sp, p, got);
		return false;
	}
	if (sg_size)
		stage_buffers(s, p, tr, p + data_room + offsets_room, sg_size, read);
	t->staged[t->nstaged++] = (struct ubt_staged){ sp, p, got };
	tr->data.ptr.buffer = (uintptr_t)p;
	tr->data.ptr.offsets = (uintptr_t)(p + data_room);
	return true;
}

bool stage_transaction(struct ubt_thread *t, const struct ubt_session *s,
		       struct binder_transaction_data *tr, uint64_t sg_size, stage_read_fn *read)
{
	_Atomic unsigned *stagers = (_Atomic unsigned *)&s->stagers;
	struct outbox_space *sp;
	bool staged = false;

	if (s->trusted || tr->data_size > UBT_STAGE_SIZE || tr->offsets_size > UBT_STAGE_SIZE ||
	    sg_size > UBT_STAGE_SIZE || tr->data_size + tr->offsets_size + sg_size < UBT_OUTBOX_MIN)
		return false;
	if (t->nstaged == sizeof(t->staged) / sizeof(t->staged[0]))
		return false;
	atomic_fetch_add(stagers, 1);
	sp = atomic_load((struct outbox_space * _Atomic *)&s->stage);
	if (sp)
		staged = stage_in(t, s, sp, tr, sg_size, read);
	atomic_fetch_sub(stagers, 1);
	if (!sp)
		t->stage_wanted = true; /* the caller may map one */
	return staged;
}

void stage_release(struct ubt_thread *t)
{
	for (unsigned i = 0; i < t->nstaged; i++)
		outbox_space_give(t->staged[i].space, t->staged[i].p, t->staged[i].size);
	t->nstaged = 0;
}

void stage_hold(struct ubt_thread *t, uint32_t gen)
{
	t->held = t->staged[0];
	t->held_gen = gen;
	t->nstaged = 0;
}

/* How long a thread that exits waits for the daemon to run its held write
 * (yielding: the daemon may be waiting for this CPU). */
#define HELD_WAIT_NS 10000000L

static long elapsed_ns(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

void stage_release_held(struct ubt_thread *t, bool wait)
{
	struct timespec start;

	if (!t->held.size)
		return;
	if (!ubt_ring_usable(t)) {
		t->held.size = 0;
		return;
	}
	if (wait)
		clock_gettime(CLOCK_MONOTONIC, &start);
	while (ubt_ring_ticket_pending(t, t->held_gen)) {
		if (!wait)
			return;
		if (elapsed_ns(&start) >= HELD_WAIT_NS) {
			t->held.size = 0; /* never given back: the daemon may still read them */
			return;
		}
		sched_yield();
	}
	outbox_space_give(t->held.space, t->held.p, t->held.size);
	t->held.size = 0;
}
