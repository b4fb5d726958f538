/* SPDX-License-Identifier: MIT */
/*
 * Open Binder files (what the kernel's struct file and binder_proc are),
 * each thread's connection to each (its Binder thread), flush at close, and
 * what a fork leaves of them.
 *
 * g_lock guards the fd table's writers, every bfile's thread list, nfds
 * and region fields, and the handoff state; it is never held across a round
 * trip to the daemon. A bfile is pinned by its reference count while an
 * operation uses it.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "transport/transport.h"

/* A thread's connection to one open Binder file: its Binder thread. */
struct pthr {
	_Atomic uint64_t bfile_id; /* 0: free for reuse by its owner */
	struct bfile *bfile;	   /* under g_lock */
	struct pthr *next;	   /* in bfile->threads, under g_lock */
	void *owner;		   /* the owning thread's struct tls */
	struct ubt_thread t;
};

/* Why a Binder file cannot be mapped here (mmap -> EINVAL), as the kernel's
 * opener-task and mm checks refuse it. */
enum foreign {
	FOREIGN_NONE = 0,
	FOREIGN_FORK = 1, /* inherited by fork: another task than the opener */
	FOREIGN_EXEC = 2, /* carried over exec: another mm than the opener's */
};

/* An open Binder file: what the kernel's struct file + binder_proc are. */
struct bfile {
	uint64_t id;	   /* never reused */
	atomic_uint refs;  /* program fds (one for all), the mapping, operations in progress */
	unsigned nfds;	   /* program descriptors for it; under g_lock */
	unsigned ninherit; /* of which without FD_CLOEXEC */
	bool sock_inherit; /* the session socket is kept across exec */
	int accmode;	   /* O_RDONLY, O_WRONLY or O_RDWR of the open() */
	enum foreign foreign;
	struct ubt_session s; /* s.sock is hidden; s.poll_fd is -1 (in the epoll) */
	uint64_t map_addr;    /* the region as the program mapped it; 0 if none */
	uint64_t map_len;
	/* Whether the outbox its large transactions are staged in (the
	 * transport's ubt_session_stage()) was asked for: once per file. */
	atomic_bool stage_asked;
	struct pthr *threads; /* connections of live threads; under g_lock */
	struct bfile *next;   /* all bfiles; under g_lock */
};

extern atomic_uint g_nregions; /* bfiles with a region mapped: munmap's fast path */
/* Some bfile mapped an outbox (emulate.c): munmap's and MAP_FIXED's fast path. */
extern atomic_bool g_outbox_mapped;

/* A new bfile around an opened session (takes it over), one reference. */
struct bfile *bfile_new(const struct ubt_session *s, int accmode, enum foreign foreign);
/* The bfile behind a program descriptor, with a reference; NULL if not one. */
struct bfile *bfile_get(int fd);
void bfile_ref(struct bfile *b);
/* Drops a reference; the last one closes the session (the Binder process). */
void bfile_put(struct bfile *b);
/* Registers @fd as a program descriptor of @b (adds an fd reference when it
 * is b's first). Under g_lock. */
void bfile_add_fd(struct bfile *b, int fd, bool cloexec);
/* Forgets program descriptor @fd, under g_lock. Returns its bfile (or NULL),
 * which the caller passes to bfile_closed() once the descriptor is closed
 * and g_lock released. */
struct bfile *bfile_remove_fd(int fd);
/* What every close() of the device does after the fact: flushes the Binder
 * process, and releases it if that was the last descriptor (and no mapping
 * holds it). Drops the reference bfile_remove_fd() returned. */
void bfile_closed(struct bfile *b);
/* The implicit close of every descriptor at process exit: flushes each
 * Binder file the process holds (another process may hold it too). */
void bfile_exit_flush(void);
/* Updates the FD_CLOEXEC bookkeeping of program descriptor @fd. Under g_lock. */
void bfile_set_cloexec(int fd, bool cloexec);
/* The calling thread's connection to @b, opened on first use. -errno if
 * the daemon refuses it. */
int bfile_thread(struct bfile *b, struct pthr **out);
/* Every bfile; under g_lock. */
extern struct bfile *g_bfiles;

/* Tells the daemon that b's region at @addr is gone, as the kernel's vma
 * close does (the region's bookkeeping in @b is the caller's); or, @addr
 * the outbox's, that the outbox is (an exec'd image). */
void bfile_region_gone(struct bfile *b, uint64_t addr);

/*
 * What a Binder file tells the layer above it that carries files across
 * exec (handoff.c), so that bfile.c calls nothing above itself. Both run
 * under g_lock.
 */
struct bfile_hooks {
	/* The set of program descriptors without FD_CLOEXEC changed. */
	void (*inherit_changed)(void);
	/* In a forked child, after the Binder files were made the child's. */
	void (*fork_child)(void);
};

/* At load, before any Binder file exists: the thread-exit key, the fork
 * handlers, and @hooks (kept). */
void bfile_init(const struct bfile_hooks *hooks);
