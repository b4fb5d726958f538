/* SPDX-License-Identifier: MIT */
/*
 * ubinder wire protocol: the framing between a Binder client (libubinder or
 * the /dev/binder emulation) and ubinderd. This is the only header the client
 * side shares with the daemon. docs/protocol.md is its prose specification.
 *
 * Transport: one AF_UNIX SOCK_SEQPACKET socket per Binder context. Each
 * message is one packet. A connection plays exactly one role, chosen by its
 * first message:
 *   UBW_HELLO   the session ("the open file"): opens a Binder process and
 *               stays open as long as the client holds the device open;
 *   UBW_ATTACH  a Binder thread of that process (one per client thread);
 *   UBW_ADMIN   introspection and administration (ubinderctl);
 *   UBW_SECCOMP a seccomp listener: the daemon serves the Binder system calls
 *               of the processes under it (ubinder-run --seccomp).
 *
 * Every request is answered by exactly one reply of the same type with
 * UBW_REPLY set, except UBW_INTERRUPT (it completes the pending
 * UBW_WRITE_READ instead) and UBW_WRITE_READ_MORE (continuation). A thread
 * connection has at most one request outstanding, like an ioctl.
 *
 * All integers are native-endian (client and daemon share the machine).
 * Binder payloads are the structures of <linux/android/binder.h>, which are
 * 64-bit wide. Sections inside a message are padded to 8 bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define UBW_MAGIC	     0x55424e44u /* "UBND" */
#define UBW_PROTOCOL_VERSION 1u

/* Sections of a message start on this boundary. */
#define UBW_ALIGN	8u
#define UBW_ALIGN_UP(x) (((x) + (UBW_ALIGN - 1)) & ~(uint64_t)(UBW_ALIGN - 1))

/* Largest packet either side sends or accepts; larger inline memory is chunked. */
#define UBW_MAX_MESSAGE (128u * 1024u)

/* Largest read buffer the daemon fills in one UBW_WRITE_READ. */
#define UBW_MAX_READ_SIZE (64u * 1024u)

/* Most descriptors one message carries with SCM_RIGHTS. */
#define UBW_MAX_FDS 253u

#define UBW_REPLY 0x80000000u

enum ubw_type {
	UBW_HELLO = 1,
	UBW_ATTACH = 2,
	UBW_ADMIN = 3,
	UBW_WRITE_READ = 4,
	UBW_WRITE_READ_MORE = 5,
	UBW_INTERRUPT = 6,
	UBW_IOCTL = 7,
	UBW_MMAP = 8,
	UBW_MMAP_DONE = 9,
	UBW_MUNMAP = 10,
	UBW_FD_FIXUP = 11,
	UBW_ADMIN_REQUEST = 12,
	UBW_FLUSH = 13,
	UBW_OUTBOX = 14,
	UBW_SECCOMP = 15,
	UBW_RING = 16,
	/* Daemon -> client on the socket, no request: look at the ring (ring.h). */
	UBW_RING_KICK = 17,
};

/* Every message starts with this. */
struct ubw_header {
	uint32_t type; /* enum ubw_type, | UBW_REPLY in replies */
	int32_t error; /* replies: 0 or a negative errno; requests: 0 */
};

/* --- session ------------------------------------------------------------- */

/* How the daemon obtains the bytes a transaction references in the sender. */
enum ubw_copy_mode {
	/* The daemon reads sender memory with process_vm_readv; the client may
	 * still push small payloads inline. */
	UBW_COPY_READV = 1,
	/* The daemon cannot read this process (not dumpable, other uid without
	 * CAP_SYS_PTRACE, seccomp): the client pushes every byte inline. */
	UBW_COPY_PUSH = 2,
};

#define UBW_HELLO_WANT_POLL_FD 0x1u /* reply carries the poll eventfd */

/* Client -> daemon, first message of a session connection. */
struct ubw_hello {
	struct ubw_header hdr;
	uint32_t magic;
	uint32_t version;
	uint32_t flags; /* UBW_HELLO_* */
	uint32_t tid;	/* opener's thread id, for diagnostics only */
	/* A readable 8-byte word in the client holding probe_value. Read by
	 * older daemons to choose the copy mode; ignored now (reading client
	 * memory there could block the HELLO). */
	uint64_t probe_addr;
	uint64_t probe_value;
};

#define UBW_TOKEN_SIZE 16u

/*
 * Daemon -> client. With UBW_HELLO_WANT_POLL_FD, carries one descriptor
 * (SCM_RIGHTS): the poll descriptor, which the daemon makes readable while
 * the process has work, and which the client polls as it would poll
 * /dev/binder. It is a socket; the client must not read or write it (doing so
 * only confuses the client's own readiness).
 */
struct ubw_hello_reply {
	struct ubw_header hdr;
	uint32_t version;
	uint32_t copy_mode; /* enum ubw_copy_mode */
	uint8_t token[UBW_TOKEN_SIZE];
	uint32_t max_inline; /* push payloads up to this many bytes inline */
	uint32_t features;   /* UBW_FEATURE_*; 0 from daemons before them */
	uint64_t max_body;   /* largest UBW_WRITE_READ body the daemon accepts */
};

/* Thread connections may ask for a ring (UBW_RING; ubinderd --rings on). */
#define UBW_FEATURE_RING 0x1u

/*
 * Client -> daemon on the session connection, no reply: one descriptor of
 * the device was closed (not the last one). As the kernel's flush, every
 * thread of the process waiting in a read returns.
 */
struct ubw_flush {
	struct ubw_header hdr;
};

/*
 * Client -> daemon, first message of a thread connection. It must come from
 * the session's process, or from a child it forked that inherited the open
 * device (as with the kernel, such a child acts as another thread of the
 * parent's Binder process).
 */
struct ubw_attach {
	struct ubw_header hdr;
	uint32_t magic;
	uint32_t version;
	uint8_t token[UBW_TOKEN_SIZE];
	uint32_t tid;
	uint32_t reserved;
};

/* Daemon -> client: hdr.error is 0, or -EPERM for a bad token or a peer
 * outside the session's thread group. */
struct ubw_attach_reply {
	struct ubw_header hdr;
};

/* --- BINDER_WRITE_READ --------------------------------------------------- */

#define UBW_WR_NONBLOCK	     0x1u /* the descriptor is O_NONBLOCK */
/*
 * ubinder extension, for native loopers (never set by the /dev/binder
 * emulation): a read that would return nothing but BR_TRANSACTION_COMPLETE
 * keeps waiting for other work, and the completion comes first in that later
 * read. A replier's [BC_REPLY] + read then takes one round trip instead of
 * two; no information is lost, only the moment it arrives changes.
 */
#define UBW_WR_HOLD_COMPLETE 0x2u
/*
 * ubinder extension, ring only (docs/protocol.md, "The local completion"):
 * UBW_WR_OFFER: if this read delivers a transaction the thread must answer,
 * offer a completion ticket in the ring. UBW_WR_TICKET: this write is a
 * plain reply (ubw_ticket_write) that takes the ticket of generation
 * ticket_gen; the daemon answers it only if it closed that ticket itself.
 */
#define UBW_WR_OFFER	     0x4u
#define UBW_WR_TICKET	     0x8u

/* Bytes of client memory past the write buffer a request may carry. */
#define UBW_MAX_OVERRUN 72u

/*
 * Client -> daemon. The header is followed by a body of body_size bytes,
 * which may continue in UBW_WRITE_READ_MORE packets when it does not fit one
 * packet. Body layout, each section padded to 8 bytes:
 *   write_len bytes: the write buffer from write_consumed on (BC_* commands);
 *   write_overrun bytes: the client memory just past the write buffer, as
 *     far as it is readable (the kernel reads a truncated command's
 *     arguments from there, so the daemon does too);
 *   nfds int32_t: the sender's own numbers of the descriptors attached with
 *     SCM_RIGHTS to the first packet, in the same order, so the daemon can
 *     resolve the numbers BINDER_TYPE_FD/FDA objects name;
 *   nsegments inline memory segments, each a struct ubw_segment followed by
 *     its bytes: a copy of sender memory [addr, addr + length) that the
 *     daemon uses instead of reading that memory itself.
 * write_size, write_consumed, read_size and read_consumed are the
 * binder_write_read fields on entry.
 */
struct ubw_write_read {
	struct ubw_header hdr;
	uint64_t write_size;
	uint64_t write_consumed;
	uint64_t read_size;
	uint64_t read_consumed;
	uint64_t body_size;
	uint32_t write_len;
	uint32_t write_overrun;
	uint32_t nfds;
	uint32_t nsegments;
	uint32_t flags;	     /* UBW_WR_* */
	uint32_t ticket_gen; /* with UBW_WR_TICKET; else 0 */
};

struct ubw_segment {
	uint64_t addr;
	uint64_t length;
};

/* Client -> daemon: the next part of the body of the UBW_WRITE_READ in progress. */
struct ubw_write_read_more {
	struct ubw_header hdr;
};

#define UBW_WRR_FDS		  0x1u /* descriptors attached: answer with UBW_FD_FIXUP */
#define UBW_WRR_SPAWN_LOOPER_AT_0 0x2u /* write BR_SPAWN_LOOPER at offset 0 of the read buffer */

/*
 * Daemon -> client: the outcome of the ioctl. hdr.error is its return value
 * (0, -EINTR, -EAGAIN, -EFAULT, -EINVAL, ...); the consumed counts are the
 * binder_write_read fields to copy back in every case. Followed by the bytes
 * the read produced (read_consumed minus the read_consumed of the request),
 * padded to 8, then nclose int32_t: descriptors the client must close before
 * it returns (fd arrays of buffers it freed, as the kernel closes them).
 * With UBW_WRR_FDS, nfds descriptors come with SCM_RIGHTS: the client must
 * answer UBW_FD_FIXUP with the numbers it received them as, before it lets
 * the caller look at the read buffer.
 */
struct ubw_write_read_reply {
	struct ubw_header hdr;
	uint64_t write_consumed;
	uint64_t read_consumed;
	uint32_t flags; /* UBW_WRR_* */
	uint32_t nfds;
	uint32_t nclose;
	uint32_t reserved;
};

/* Client -> daemon: the numbers the received descriptors got, in order
 * (-1 where one could not be received). Followed by nfds int32_t. */
struct ubw_fd_fixup {
	struct ubw_header hdr;
	uint32_t nfds;
	uint32_t reserved;
};

/*
 * Daemon -> client. hdr.error 0: the buffer holds the numbers, the read is
 * complete. -EBADF: a descriptor could not be received (number -1), so, as
 * the kernel does when it cannot install one, the transaction is not
 * delivered: the client closes the descriptors it did receive and removes the
 * last item of the read (the BR_TRANSACTION/BR_REPLY) or, when @replacement
 * is non-zero, puts that return code (BR_FAILED_REPLY) in its place. If
 * nothing but BR_NOOP is left, the read goes on as the kernel's would: the
 * client sends the read again, continuing at the consumed count.
 */
struct ubw_fd_fixup_reply {
	struct ubw_header hdr;
	uint32_t replacement;
	uint32_t reserved;
};

/* --- other ioctls -------------------------------------------------------- */

/*
 * Client -> daemon: any other Binder ioctl. cmd is the real ioctl number
 * from <linux/android/binder.h>; size is _IOC_SIZE(cmd) and the argument
 * bytes follow. The reply carries the argument as the ioctl leaves it, and
 * hdr.error is the ioctl's return value.
 */
struct ubw_ioctl {
	struct ubw_header hdr;
	uint32_t cmd;
	uint32_t size;
};

/* --- the region ---------------------------------------------------------- */

/*
 * Client -> daemon: the client wants to map @size bytes. It has reserved
 * @addr (PROT_NONE) for the mapping. The reply carries the region's
 * O_RDONLY descriptor (SCM_RIGHTS) and the size to map; the client maps it
 * MAP_FIXED at addr and confirms with UBW_MMAP_DONE, after which
 * transactions reach it. Errors are those of mmap on /dev/binder.
 */
struct ubw_mmap {
	struct ubw_header hdr;
	uint64_t addr;
	uint64_t size;
};

struct ubw_mmap_reply {
	struct ubw_header hdr;
	uint64_t size;
};

/* Client -> daemon (also UBW_MUNMAP, with the same body). */
struct ubw_mmap_done {
	struct ubw_header hdr;
	uint64_t addr;
};

/*
 * Client -> daemon (ubinder extension for native clients): a shared "outbox"
 * of @size bytes at @addr (reserved PROT_NONE by the client). The reply
 * carries a read-write memfd descriptor (SCM_RIGHTS) that the client maps
 * MAP_SHARED|MAP_FIXED at addr. Transaction bytes the client builds there are
 * copied by the daemon with a plain memcpy from its own mapping of the outbox,
 * instead of process_vm_readv: one copy at memcpy speed. One outbox per
 * process; a second -> -EBUSY. The reply is a struct ubw_mmap_reply.
 *
 * With UBW_OUTBOX_PAGE_STATES in @flags (a request without the field, of
 * the older size, has none), the outbox's first pages hold one state byte
 * per page of the outbox, which the client and the daemon change only with
 * atomic compare-and-swap, so that the daemon can give back pages the
 * client no longer uses without asking it (under memory pressure, after
 * the idle decay time, on `shrink`): it moves FREE to RECLAIMING, punches
 * the page out, then stores HOLE. The client takes a page from HOLE or
 * FREE to USED, and leaves a RECLAIMING one alone; it frees one by storing
 * FREE. The state pages are ceil(pages / page size) pages, USED. A client
 * that lies about its states loses only its own outbox's bytes.
 */
struct ubw_outbox {
	struct ubw_header hdr;
	uint64_t addr;
	uint64_t size;
	uint64_t flags; /* UBW_OUTBOX_* */
};

/* The first pages hold the page states (common/outbox_pages.h). */
#define UBW_OUTBOX_PAGE_STATES 1u

/* A request of the size before the flags: no page states. */
#define UBW_OUTBOX_V1_SIZE offsetof(struct ubw_outbox, flags)

/* Largest outbox the daemon creates. */
#define UBW_MAX_OUTBOX (64u << 20)

/*
 * Client -> daemon on a thread connection (when the HELLO reply has
 * UBW_FEATURE_RING): carry this thread's packets through a shared-memory
 * ring of @cap bytes per direction (src/wire/ring.h: a power of two, 4 KiB
 * to 256 KiB). The reply (struct ubw_ring_reply) carries two descriptors:
 * the ring's memfd (sealed against shrinking and growing: map it
 * read-write, shared, ubw_ring_map_size(cap) bytes, then close it) and the
 * doorbell eventfd (write it to wake the daemon when the ring's req_bell
 * asks for it). Errors: -EINVAL for a bad capacity, -EBUSY for a second
 * ring, -EOPNOTSUPP when rings are off; the connection then goes on over the
 * socket. After the reply, every packet of the thread goes through the ring,
 * or over the socket announced by a marker entry (docs/protocol.md).
 */
struct ubw_ring_request {
	struct ubw_header hdr;
	uint32_t cap;
	uint32_t flags; /* 0 */
};

struct ubw_ring_reply {
	struct ubw_header hdr;
	uint32_t cap;
	uint32_t reserved;
};

/* --- administration ------------------------------------------------------ */

/* Client -> daemon, first message of an admin connection. The reply is a
 * bare struct ubw_header: -EACCES unless the peer is root or the daemon's uid. */
struct ubw_admin_hello {
	struct ubw_header hdr;
	uint32_t magic;
	uint32_t version;
};

/* Client -> daemon on an admin connection. Followed by arg_size bytes. */
struct ubw_admin_request {
	struct ubw_header hdr;
	uint32_t op; /* enum ubw_admin_op */
	uint32_t arg_size;
	int64_t arg;
};

enum ubw_admin_op {
	UBW_ADMIN_STATE = 1,	    /* text: every process, thread, node, ref, buffer */
	UBW_ADMIN_STATS = 2,	    /* text: counters, as key value lines */
	UBW_ADMIN_PROC = 3,	    /* text: state of the processes with pid arg */
	UBW_ADMIN_TRANSACTIONS = 4, /* text: transactions in flight */
	UBW_ADMIN_SHRINK = 5,	    /* release arg lru pages (-1: all); text: count */
	UBW_ADMIN_FAULT = 6,	    /* fault injection; text argument "install N PAGES ERRNO" */
};

/* Daemon -> client: hdr.error, then text (not NUL-terminated). Long texts
 * come in several packets; the last has UBW_ADMIN_LAST set in flags. */
struct ubw_admin_reply {
	struct ubw_header hdr;
	uint32_t flags;
	uint32_t text_size;
};
#define UBW_ADMIN_LAST 0x1u

/* --- seccomp supervision --------------------------------------------------- */

/*
 * Launcher -> daemon, first and only message of a supervision connection,
 * with one descriptor (SCM_RIGHTS): the listener of a seccomp filter
 * (SECCOMP_FILTER_FLAG_NEW_LISTENER) whose processes trap their opens of
 * Binder devices, their Binder ioctls and their file-backed mmaps. The daemon
 * serves those system calls itself, from the processes' memory. The reply is
 * a header (error 0, or -EINVAL for a descriptor that is no listener); the
 * daemon then keeps the connection open while it serves the listener, and
 * closes it when the last process under the filter is gone: a launcher that
 * sees it close first knows the daemon died.
 */
struct ubw_seccomp {
	struct ubw_header hdr;
	uint32_t magic;
	uint32_t version;
	uint32_t flags; /* 0 */
	uint32_t reserved;
};
