/* SPDX-License-Identifier: MIT */
/*
 * The transport: the client side of the ubinder wire protocol
 * (src/wire/wire.h), what an open /dev/binder and its ioctls become. Used by
 * libubinder and the /dev/binder emulation (preload/); not a public header.
 *
 * It owns the session and thread connections to ubinderd, the exchange of
 * wire packets on them, BINDER_WRITE_READ (collecting descriptors and inline
 * segments, retries), the other ioctls and the mappings of the region and
 * the outbox. It may call src/wire (the message formats, packet I/O, the
 * trusted connect) and the C library, the calls on descriptors and mappings
 * through the table its user passes (struct ubt_sys), the checks of the
 * socket's directory (src/wire/trust.c) included; it knows nothing of its
 * users nor of the daemon's internals.
 *
 * A session is the open device (one Binder process); each client thread
 * talks through its own struct ubt_thread. Functions return 0 or a negative
 * errno, which is what the corresponding ioctl or mmap would fail with.
 *
 * Untrusted mode (the emulation): every pointer the caller passes is read and
 * written so that a bad pointer gives -EFAULT as the kernel would, never a
 * crash: with the user's fault-catching copy (struct ubt_sys.user_copy), else
 * with process_vm_readv/writev on ourselves. Trusted mode (libubinder, whose
 * pointers are its own) reads them directly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/android/binder.h>

#include "wire/wire.h"

/*
 * The system calls the transport makes on descriptors and mappings. A user
 * that interposes these libc functions (the emulation) passes the functions
 * underneath, so that the transport's own descriptors and mappings never
 * reach its wrappers.
 */
struct ubt_sys {
	int (*open)(const char *path, int flags, ...);
	int (*close)(int fd);
	int (*fcntl)(int fd, int cmd, ...);
	void *(*mmap)(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
	int (*munmap)(void *addr, size_t length);
	int (*fstat)(int fd, struct stat *st); /* the socket directory's check (wire/trust.h) */
	/*
	 * Untrusted mode's copy between the caller's memory and ours, as the
	 * kernel's copy_from_user/copy_to_user: 0, or -EFAULT when a byte of
	 * either range cannot be accessed (the bytes before it may have been
	 * copied). No system call in the common case. NULL: process_vm_readv
	 * and process_vm_writev on ourselves, one system call per access.
	 */
	int (*user_copy)(void *dst, const void *src, size_t n);
};

/* The C library's. */
extern const struct ubt_sys ubt_libc;

struct outbox_space; /* common/outbox_space.h */

struct ubt_session {
	const struct ubt_sys *sys;
	int sock;    /* the session connection: closing it closes the device */
	int poll_fd; /* readable while the process has work, or -1 */
	uint8_t token[UBW_TOKEN_SIZE];
	uint32_t copy_mode; /* enum ubw_copy_mode */
	uint32_t max_inline;
	uint64_t max_body;
	uint32_t features; /* UBW_FEATURE_* of the daemon */
	char path[108];
	bool trusted;
	/* The process's outbox, [outbox_base, outbox_end), or 0: transaction
	 * bytes inside it are never pushed inline (ubt_session_outbox()). */
	_Atomic uint64_t outbox_base;
	_Atomic uint64_t outbox_end;
	/* Untrusted mode: the outbox's pages large transactions are staged in
	 * (ubt_session_stage()), or NULL. */
	struct outbox_space *_Atomic stage;
	/* Threads in stage.c between loading stage and the end of their copies
	 * into it: what ubt_session_outbox_unmapping() waits out. */
	_Atomic unsigned stagers;
};

struct ubt_body;
struct ubt_ring_chan;

struct ubt_thread {
	const struct ubt_sys *sys; /* the session's */
	int sock;
	/* The shared-memory ring the packets travel in (channel.h), or NULL:
	 * the socket only (a daemon without rings, UBINDER_TRANSPORT=socket). */
	struct ubt_ring_chan *ring;
	int ring_bell;	  /* the ring's doorbell eventfd, or -1 */
	bool ring_wanted; /* ask for the ring at the next BINDER_WRITE_READ */
	pid_t opener;	  /* the process that opened the connection (and may ask) */
	uint8_t *rx;	  /* reply buffer of RX_SIZE (transport.c) bytes */
	uint8_t *tx;	  /* request body buffer */
	size_t tx_size;
	struct ubt_body *body; /* scratch for building requests; grows, never shrinks */
	/* Outbox pages holding the transactions of the write in progress
	 * (stage.c), given back when its BINDER_WRITE_READ returns. */
	struct ubt_staged {
		struct outbox_space *space;
		void *p;
		size_t size;
	} staged[4], held;
	unsigned nstaged;
	/* held: the pages of a staged reply that won completion ticket
	 * held_gen (its ioctl returned before the daemon ran it), given back
	 * once the daemon has (stage.c); held.size 0: none. */
	uint32_t held_gen;
	/* A write had a transaction worth staging and the session had no
	 * outbox: the caller may map one (ubt_session_stage()). */
	bool stage_wanted;
};

/* The default socket of context @name: $XDG_RUNTIME_DIR/ubinder/NAME etc. */
void ubt_default_socket(const char *context, char *buf, size_t size);

/*
 * open(): connects to @path and opens a Binder process. With @want_poll_fd
 * the session gets an eventfd to poll. The session and its threads make
 * their system calls through @sys, which must outlive them. Errors:
 * -ENOENT/-ECONNREFUSED when no daemon serves @path, -EPROTO for a protocol
 * mismatch.
 */
int ubt_session_open(struct ubt_session *s, const char *path, bool want_poll_fd, bool trusted,
		     const struct ubt_sys *sys);
void ubt_session_close(struct ubt_session *s);

/* A connection for the calling thread. */
int ubt_thread_open(struct ubt_thread *t, const struct ubt_session *s);
/* Leaves @t closed (sock -1, nothing allocated): closing it again does nothing. */
void ubt_thread_close(struct ubt_thread *t);
/*
 * Before the connection of a thread that exits closes, its session still
 * open: gives back the outbox pages of a staged reply answered locally
 * whose write the daemon has not run yet, waiting for it a little (10 ms at
 * most; after that the pages stay used, never overwritten).
 */
void ubt_thread_exiting(struct ubt_thread *t);

/* BINDER_WRITE_READ. @bwr is updated as the ioctl updates it, also on error. */
int ubt_write_read(struct ubt_thread *t, const struct ubt_session *s, struct binder_write_read *bwr,
		   bool nonblock);

/* The same with flags: */
#define UBT_NONBLOCK	  0x1u /* the descriptor is O_NONBLOCK */
/* ubinder extension for native loopers, never for the emulation
 * (UBW_WR_HOLD_COMPLETE): a read that would return nothing but
 * BR_TRANSACTION_COMPLETE keeps waiting, the completion comes first later. */
#define UBT_HOLD_COMPLETE 0x2u
int ubt_write_read_flags(struct ubt_thread *t, const struct ubt_session *s,
			 struct binder_write_read *bwr, unsigned int flags);
/*
 * The ioctl of the emulation: the struct where its caller has it (@user_bwr,
 * in our memory), read and copied back as the kernel does, -EFAULT if it
 * cannot be; fewer system calls than copying it around the call in
 * untrusted mode. O_NONBLOCK is that of @nonblock_fd's open file, asked
 * (F_GETFL through the session's sys table) only when the request may
 * wait: never for a write alone or a completion answered locally.
 */
int ubt_write_read_user(struct ubt_thread *t, const struct ubt_session *s, uint64_t user_bwr,
			int nonblock_fd);

/*
 * The kernel's flush, which every close() of a descriptor of the device does:
 * each thread of the process waiting in a read returns, and the next read of
 * the others does not wait. For closes other than the last one (which is
 * ubt_session_close); any thread may call it.
 */
int ubt_flush(const struct ubt_session *s);

/* Any other Binder ioctl; @arg as the ioctl takes it. */
int ubt_ioctl(struct ubt_thread *t, const struct ubt_session *s, unsigned long cmd, void *arg);

/*
 * mmap() of the device: maps the region read-only, @length bytes of address
 * space (the region is at most the daemon's cap; the rest stays PROT_NONE).
 * @hint and @fixed as mmap's addr and MAP_FIXED. *addr receives the mapping.
 */
int ubt_mmap(struct ubt_thread *t, void *hint, size_t length, bool fixed, void **addr);
/* munmap() of the region. */
int ubt_munmap(struct ubt_thread *t, void *addr, size_t length);
/*
 * The process's outbox (ubinder extension for native clients, UBW_OUTBOX):
 * @size bytes (a page multiple, at most UBW_MAX_OUTBOX) mapped read-write,
 * shared with the daemon; transaction data built there is copied with a
 * memcpy. One per process (-EBUSY), not from a forked child (-EINVAL).
 * *addr receives the mapping (MADV_DONTFORK; munmap it to drop it locally).
 * @flags: UBT_OUTBOX_PAGE_STATES, to share page states with the daemon (its
 * first pages: common/outbox_pages.h, wire.h), or 0.
 */
int ubt_outbox(struct ubt_thread *t, size_t size, uint64_t flags, void **addr);
#define UBT_OUTBOX_PAGE_STATES UBW_OUTBOX_PAGE_STATES
/*
 * Records that @size bytes at @base are the session's outbox (size 0: it has
 * none any more, say so before unmapping it): transaction bytes that lie in
 * it then reach the daemon as addresses, which it copies with one memcpy,
 * instead of inline in the request. Safe against concurrent requests.
 */
void ubt_session_outbox(struct ubt_session *s, const void *base, size_t size);
/*
 * Payloads of at least this many bytes are worth building in the outbox:
 * below it, pushing them inline (through the ring) is as fast or faster
 * (bench/results/bigcalls-notes.md). libubinder's parcels and bench-ipc's
 * native mode both follow this one rule.
 */
#define UBT_OUTBOX_MIN (16u * 1024)
/*
 * Untrusted mode (the emulation, whose program never builds in the outbox):
 * maps an outbox of @size bytes with page states through @t and makes it the
 * session's; from then on each transaction of a write (up to four) whose
 * data, offsets and scatter-gather buffers reach UBT_OUTBOX_MIN is copied
 * there (the one copy out of the program's memory, a fault leaving the
 * program's pointers for the daemon to fail with EFAULT), the copy of the
 * write buffer sent names it instead of the program's memory (and the
 * staged data its staged buffers), and its pages are given back when the
 * BINDER_WRITE_READ returns: by then the daemon consumed or refused the
 * write (a staged reply completed locally: once the ticket says the daemon
 * ran it, docs/protocol.md). The program's memory, its write buffer included, is never written.
 * Once per session, by its opener (ubt_outbox()'s errors).
 */
int ubt_session_stage(struct ubt_session *s, struct ubt_thread *t, size_t size);
/* The outbox's address space for the emulation's staging: room for a few
 * calls of 1 MiB at once; pages are used as calls need them. */
#define UBT_STAGE_SIZE (8u << 20)
/*
 * Forgets the session's outbox without touching the address space, which
 * no longer holds it: in a forked child (the outbox is MADV_DONTFORK), and
 * in an exec'd image. Its transactions are sent from the program's memory.
 */
void ubt_session_forget_outbox(struct ubt_session *s);
/*
 * The program is about to unmap its outbox, or map over it: the session
 * stops staging, and returns when no thread writes into the outbox any more
 * (copies in progress are short: no system call but the program's memory
 * read); pages still held are given back without touching it. True when
 * the session had an outbox: the caller tells the daemon it is gone
 * (ubt_region_gone()).
 */
bool ubt_session_outbox_unmapping(struct ubt_session *s);
/* Tells the daemon that the region mapped at @addr is gone (unmapped by
 * other means, or lost with an exec) without touching the address space;
 * with the outbox's address, that the outbox is (lost with an exec). */
int ubt_region_gone(struct ubt_thread *t, void *addr);
