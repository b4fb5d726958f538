/* SPDX-License-Identifier: MIT */
/*
 * Open Binder files and the threads that use them.
 *
 * A bfile is what one open() of the device is in the kernel: the struct file
 * and its binder_proc. It lives while a program descriptor, its mapping or an
 * operation in progress refers to it (refs); the last reference closes the
 * session, which ends the Binder process in the daemon.
 *
 * Each program thread that uses a bfile gets its own connection (struct
 * pthr), kept in the thread's slots and closed when the thread exits (the
 * pthread key destructor): that is BINDER_THREAD_EXIT, as a thread's exit is
 * for the kernel driver. Only the owner thread opens, reuses and frees its
 * records; another thread only closes a record's connection when the bfile
 * goes away (under g_lock), after which the owner sees bfile_id == 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bfile.h"
#include "fault.h"
#include "fdtable.h"
#include "real.h"

atomic_uint g_nregions;
atomic_bool g_outbox_mapped;
struct bfile *g_bfiles;

static _Atomic uint64_t next_id = 1;
static const struct bfile_hooks *hooks; /* bfile_init's */

#define INLINE_SLOTS 8

/* A thread's connections, one slot per Binder file it has used. */
struct tls {
	struct pthr **slots;
	size_t nslots;
	struct pthr *inline_slots[INLINE_SLOTS];
	bool registered; /* the exit key is set */
};

static __thread struct tls tls __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;

struct bfile *bfile_new(const struct ubt_session *s, int accmode, enum foreign foreign)
{
	struct bfile *b;

	/* Its ioctls copy the program's memory as the kernel does. */
	fault_init();
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = atomic_fetch_add(&next_id, 1);
	atomic_init(&b->refs, 1);
	b->accmode = accmode;
	b->foreign = foreign;
	b->s = *s;
	pthread_mutex_lock(&g_lock);
	b->next = g_bfiles;
	g_bfiles = b;
	pthread_mutex_unlock(&g_lock);
	return b;
}

struct bfile *bfile_get(int fd)
{
	uintptr_t e = fdt_load(fd);
	struct bfile *b = NULL;

	if (!e || (e & FDT_HIDDEN))
		return NULL;
	pthread_mutex_lock(&g_lock);
	e = fdt_load(fd);
	if (e && !(e & FDT_HIDDEN)) {
		b = fdt_bfile(e);
		atomic_fetch_add(&b->refs, 1);
	}
	pthread_mutex_unlock(&g_lock);
	return b;
}

void bfile_ref(struct bfile *b)
{
	atomic_fetch_add(&b->refs, 1);
}

/* Closes a record's connection: its Binder thread exits. Under g_lock. */
static void thread_close(struct pthr *p)
{
	int sock = p->t.sock, bell = p->t.ring_bell;

	if (sock >= 0 && fdt_load(sock) == FDT_HIDDEN)
		fdt_store(sock, 0);
	if (bell >= 0 && fdt_load(bell) == FDT_HIDDEN)
		fdt_store(bell, 0);
	ubt_thread_close(&p->t);
}

/* Takes the first connection off b's list and closes it. Under g_lock. */
static struct pthr *pop_thread(struct bfile *b)
{
	struct pthr *p = b->threads;

	if (!p)
		return NULL;
	b->threads = p->next;
	atomic_store(&p->bfile_id, 0);
	p->bfile = NULL;
	p->next = NULL;
	thread_close(p);
	return p;
}

static void bfile_destroy(struct bfile *b)
{
	struct bfile **pp;

	pthread_mutex_lock(&g_lock);
	for (pp = &g_bfiles; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	/* The session first: the daemon flushes and releases the process, as
	 * binder_release does, then its threads' connections go. */
	if (b->s.sock >= 0 && fdt_load(b->s.sock) == FDT_HIDDEN)
		fdt_store(b->s.sock, 0);
	ubt_session_close(&b->s);
	while (pop_thread(b)) {
		/* The record stays its owner's, free for reuse. */
	}
	pthread_mutex_unlock(&g_lock);
	free(b);
}

void bfile_put(struct bfile *b)
{
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		bfile_destroy(b);
}

/* The session socket survives exec exactly while a program descriptor
 * without FD_CLOEXEC does. Under g_lock. */
static void inherit_update(struct bfile *b)
{
	bool want = b->ninherit > 0;

	if (want == b->sock_inherit || b->s.sock < 0)
		return;
	if (real.fcntl(b->s.sock, F_SETFD, want ? 0 : FD_CLOEXEC) == 0)
		b->sock_inherit = want;
}

void bfile_add_fd(struct bfile *b, int fd, bool cloexec)
{
	fdt_store(fd, (uintptr_t)b | (cloexec ? FDT_CLOEXEC : 0));
	if (b->nfds++ == 0)
		atomic_fetch_add(&b->refs, 1);
	if (!cloexec) {
		b->ninherit++;
		inherit_update(b);
		hooks->inherit_changed();
	}
}

/*
 * Every close() of a descriptor of the device flushes the Binder process
 * (binder_flush): its threads waiting in a read return at once, and the
 * next read of the others does not wait. The daemon does it; the session
 * connection is shared by all threads and the message has no reply.
 */
static void flush(struct bfile *b)
{
	(void)ubt_flush(&b->s);
}

struct bfile *bfile_remove_fd(int fd)
{
	uintptr_t e = fdt_load(fd);
	struct bfile *b;

	if (!e || (e & FDT_HIDDEN))
		return NULL;
	b = fdt_bfile(e);
	fdt_store(fd, 0);
	/* The caller's reference: the descriptors' one if this was the last. */
	if (--b->nfds)
		atomic_fetch_add(&b->refs, 1);
	if (!(e & FDT_CLOEXEC)) {
		b->ninherit--;
		inherit_update(b);
		hooks->inherit_changed();
	}
	return b;
}

void bfile_closed(struct bfile *b)
{
	/* After the close, as the kernel's flush runs deferred: the closing
	 * thread returns before the woken readers do. */
	flush(b);
	bfile_put(b);
}

void bfile_exit_flush(void)
{
	/* Without waiting for the lock: a thread that holds it while we exit
	 * (or a signal handler that interrupted its holder) must not hang the
	 * exit. Unlocked, the list is only walked, and nothing is freed. */
	bool locked = pthread_mutex_trylock(&g_lock) == 0;

	for (struct bfile *b = g_bfiles; b; b = b->next) {
		if (b->nfds)
			flush(b);
	}
	if (locked)
		pthread_mutex_unlock(&g_lock);
}

void bfile_set_cloexec(int fd, bool cloexec)
{
	uintptr_t e = fdt_load(fd);
	struct bfile *b;

	if (!e || (e & FDT_HIDDEN) || !!(e & FDT_CLOEXEC) == cloexec)
		return;
	b = fdt_bfile(e);
	fdt_store(fd, (uintptr_t)b | (cloexec ? FDT_CLOEXEC : 0));
	if (cloexec)
		b->ninherit--;
	else
		b->ninherit++;
	inherit_update(b);
	hooks->inherit_changed();
}

/* A slot for a new connection: a free record, or room for one. */
static struct pthr **free_slot(struct tls *me)
{
	struct pthr **grown;

	if (!me->slots) {
		me->slots = me->inline_slots;
		me->nslots = INLINE_SLOTS;
	}
	for (size_t i = 0; i < me->nslots; i++) {
		if (!me->slots[i] || atomic_load(&me->slots[i]->bfile_id) == 0)
			return &me->slots[i];
	}
	grown = calloc(me->nslots * 2, sizeof(*grown));
	if (!grown)
		return NULL;
	memcpy(grown, me->slots, me->nslots * sizeof(*grown));
	if (me->slots != me->inline_slots)
		free(me->slots);
	me->slots = grown;
	me->nslots *= 2;
	return &me->slots[me->nslots / 2];
}

int bfile_thread(struct bfile *b, struct pthr **out)
{
	struct tls *me = &tls;
	struct pthr **slot, *p;
	int err;

	for (size_t i = 0; i < me->nslots; i++) {
		p = me->slots[i];
		if (p && atomic_load_explicit(&p->bfile_id, memory_order_acquire) == b->id) {
			*out = p;
			return 0;
		}
	}
	slot = free_slot(me);
	if (!slot)
		return -ENOMEM;
	p = *slot;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->owner = me;
		p->t.sock = -1;
		*slot = p;
	}
	if (!me->registered) {
		/* Any non-NULL value: the destructor then runs at thread exit. */
		pthread_setspecific(exit_key, me);
		me->registered = true;
	}
	err = ubt_thread_open(&p->t, &b->s);
	if (err) {
		plog("thread %d: the daemon refused a connection to %s: %s", (int)gettid(),
		     b->s.path, strerror(-err));
		/* A daemon that went away: the device is gone for this descriptor. */
		return err == -ENOENT || err == -ECONNREFUSED ? -EBADF : err;
	}
	p->t.sock = fdt_hide(p->t.sock, false);
	if (p->t.ring_bell >= 0)
		p->t.ring_bell = fdt_hide(p->t.ring_bell, false);
	pthread_mutex_lock(&g_lock);
	p->bfile = b;
	p->next = b->threads;
	b->threads = p;
	atomic_store_explicit(&p->bfile_id, b->id, memory_order_release);
	pthread_mutex_unlock(&g_lock);
	*out = p;
	return 0;
}

/* Unlinks a live record from its bfile. Under g_lock. */
static void unlink_thread(struct pthr *p)
{
	struct pthr **pp;

	for (pp = &p->bfile->threads; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->bfile = NULL;
	p->next = NULL;
	atomic_store(&p->bfile_id, 0);
}

/*
 * Before a thread's connections close: the outbox pages of a staged reply
 * it completed locally go back once the daemon has copied it (the wait is
 * bounded, and outside g_lock, which every ioctl takes). The reference
 * keeps the bfile, its session and this thread's connection open.
 */
static void give_back_held(struct tls *me)
{
	for (size_t i = 0; i < me->nslots; i++) {
		struct pthr *p = me->slots[i];
		struct bfile *b = NULL;

		if (!p)
			continue;
		pthread_mutex_lock(&g_lock);
		if (atomic_load(&p->bfile_id) != 0 && p->t.held.size) {
			b = p->bfile;
			bfile_ref(b);
		}
		pthread_mutex_unlock(&g_lock);
		if (b) {
			ubt_thread_exiting(&p->t);
			bfile_put(b);
		}
	}
}

/* Thread exit: each of its Binder threads exits (the connections close). */
static void thread_exit(void *arg)
{
	struct tls *me = arg;

	give_back_held(me);
	pthread_mutex_lock(&g_lock);
	for (size_t i = 0; i < me->nslots; i++) {
		struct pthr *p = me->slots[i];

		if (!p)
			continue;
		if (atomic_load(&p->bfile_id) != 0) {
			unlink_thread(p);
			thread_close(p);
		}
		free(p);
		me->slots[i] = NULL;
	}
	pthread_mutex_unlock(&g_lock);
	if (me->slots != me->inline_slots)
		free(me->slots);
	me->slots = NULL;
	me->nslots = 0;
	me->registered = false;
}

void bfile_region_gone(struct bfile *b, uint64_t addr)
{
	struct pthr *p;

	if (bfile_thread(b, &p) == 0)
		(void)ubt_region_gone(&p->t, (void *)(uintptr_t)addr);
}

/* --- fork ------------------------------------------------------------------ */

static void fork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
}

/*
 * The child holds the parent's Binder files: the kernel lets it use them as
 * another thread of the parent's process, never map them, and it has none
 * of the parent's region (VM_DONTCOPY), nor its outbox. The connections of
 * the parent's threads are not the child's: close the child's copies of them.
 */
static void fork_child(void)
{
	struct bfile *b, *dead[64];
	size_t ndead = 0;

	for (b = g_bfiles; b; b = b->next) {
		struct pthr *p;

		b->foreign = FOREIGN_FORK;
		/* The parent's outbox is not mapped here (MADV_DONTFORK), nor ours. */
		ubt_session_forget_outbox(&b->s);
		while ((p = pop_thread(b)) != NULL) {
			if (p->owner != &tls)
				free(p); /* its thread does not exist here */
		}
		if (b->map_addr) {
			b->map_addr = b->map_len = 0;
			atomic_fetch_sub(&g_nregions, 1);
		}
		/* Only the descriptors are the child's references now. */
		atomic_store(&b->refs, b->nfds ? 1 : 0);
		if (!b->nfds && ndead < sizeof(dead) / sizeof(dead[0]))
			dead[ndead++] = b;
	}
	hooks->fork_child();
	pthread_mutex_unlock(&g_lock);
	for (size_t i = 0; i < ndead; i++)
		bfile_destroy(dead[i]);
}

void bfile_init(const struct bfile_hooks *h)
{
	hooks = h;
	real_init();
	pthread_key_create(&exit_key, thread_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
