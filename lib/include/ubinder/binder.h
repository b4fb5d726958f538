/* SPDX-License-Identifier: MIT */
/*
 * Contexts, objects and threads.
 *
 * A context is one Binder process: the open device, in kernel terms. It is
 * connected to one ubinderd context socket, has its receive region mapped,
 * and gives each thread that uses it a connection of its own, created on
 * first use and closed when the thread exits.
 *
 * A ubinder_binder is a Binder object: either local (created here with a
 * transaction handler: a service, a callback) or remote (a proxy for an
 * object of another process, obtained from a parcel or the service
 * manager). Both are reference counted; the library keeps the driver's
 * strong and weak counts (BR_INCREFS/BR_ACQUIRE/BR_RELEASE/BR_DECREFS and
 * their acknowledgements) in step with them.
 *
 * Incoming transactions and death notifications are handled by whichever
 * thread reads them from the driver:
 *   - a thread pool: ubinder_context_start_thread_pool() starts one looper
 *     thread and the driver asks for more (BR_SPAWN_LOOPER) up to the
 *     limit set with ubinder_context_set_max_threads();
 *   - ubinder_context_join_thread_pool(): the calling thread serves;
 *   - an event loop: poll ubinder_context_get_fd() for POLLIN and call
 *     ubinder_context_process(), which does the pending work and returns.
 * A thread waiting in ubinder_binder_transact() also serves calls made back
 * to it (nested transactions), as Binder requires.
 *
 * A context belongs to the process that opened it: in a child made with
 * fork(), every call on an inherited context or its objects fails with
 * UBINDER_ERR_INVALID_OPERATION (the first prints one line to stderr) and
 * sends nothing; the child opens a context of its own instead. Dropping
 * inherited objects and parcels is allowed; closing an inherited context
 * only marks it closed.
 *
 * Functions are thread-safe unless stated. Callbacks (handlers, death
 * callbacks) run on the thread that received the work, with no library lock
 * held: they may call any function except ubinder_context_close().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubinder/parcel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ubinder_context ubinder_context;

/* Standard Binder transaction codes. */
#define UBINDER_PACK_CHARS(c1, c2, c3, c4)                                               \
	((((uint32_t)(c1)) << 24) | (((uint32_t)(c2)) << 16) | (((uint32_t)(c3)) << 8) | \
	 (uint32_t)(c4))
#define UBINDER_FIRST_CALL_TRANSACTION	  0x00000001u
#define UBINDER_LAST_CALL_TRANSACTION	  0x00ffffffu
/*
 * The codes Android's default binder (libbinder's BBinder) answers. Every
 * local object answers them as it does, without calling its handler:
 *   PING          an empty reply
 *   INTERFACE     the descriptor as a String16
 *   DUMP          (fd, int32 argc, String16 args...): the dump handler's
 *                 answer (ubinder_binder_set_dump_handler), else OK with
 *                 nothing written; the descriptor is closed afterwards
 *   SHELL_COMMAND (fd in, out, err, int32 argc, String16 args..., IBinder
 *                 shell callback, IBinder result receiver): OK, and the
 *                 receiver is sent INVALID_OPERATION (no shell commands)
 *   SYSPROPS      OK (there are no system properties to reload)
 *   EXTENSION     the extension object (ubinder_binder_set_extension) or null
 *   DEBUG_PID     the process's pid as an int32
 */
#define UBINDER_PING_TRANSACTION	  UBINDER_PACK_CHARS('_', 'P', 'N', 'G')
#define UBINDER_INTERFACE_TRANSACTION	  UBINDER_PACK_CHARS('_', 'N', 'T', 'F')
#define UBINDER_DUMP_TRANSACTION	  UBINDER_PACK_CHARS('_', 'D', 'M', 'P')
#define UBINDER_SHELL_COMMAND_TRANSACTION UBINDER_PACK_CHARS('_', 'C', 'M', 'D')
#define UBINDER_SYSPROPS_TRANSACTION	  UBINDER_PACK_CHARS('_', 'S', 'P', 'R')
#define UBINDER_EXTENSION_TRANSACTION	  UBINDER_PACK_CHARS('_', 'E', 'X', 'T')
#define UBINDER_DEBUG_PID_TRANSACTION	  UBINDER_PACK_CHARS('_', 'P', 'I', 'D')

/* Transaction flags. */
#define UBINDER_FLAG_ONEWAY    0x01u /* do not wait for (or send) a reply */
#define UBINDER_FLAG_CLEAR_BUF 0x20u /* the driver zeroes the buffer when it is freed */

/* --- contexts --------------------------------------------------------------- */

/*
 * Connects to ubinderd and opens a Binder process. @socket is the context's
 * socket path; NULL means $UBINDER_SOCKET if set, else the default socket of
 * the "binder" context (see ubinder_default_socket). Errors:
 * UBINDER_ERR_NO_DAEMON when nothing listens there, UBINDER_ERR_PROTOCOL for
 * a daemon of another protocol version, UBINDER_ERR_NO_MEMORY.
 */
int ubinder_context_open(const char *socket, ubinder_context **out);

/*
 * Closes the process: the driver releases everything it held (its services
 * die for their clients), the thread pool's threads are stopped and joined
 * (a handler still running on one is waited for), and every thread's
 * connection is closed. Objects and parcels the caller
 * still holds stay valid memory: calls on them return UBINDER_ERR_CLOSED;
 * unref/free them as usual. No other thread may be inside a call on this
 * context, and it must not be called from a handler or callback.
 */
void ubinder_context_close(ubinder_context *ctx);

/*
 * The default socket of context @name ("binder", "hwbinder", ...), as
 * ubinderd picks it: $XDG_RUNTIME_DIR/ubinder/NAME, /run/ubinder/NAME for
 * root, else /tmp/ubinder-UID/NAME. UBINDER_ERR_BAD_INDEX if @size is too small.
 */
int ubinder_default_socket(const char *name, char *buf, size_t size);

/* The size of the receive region (1 MiB unless the daemon caps it lower). */
size_t ubinder_context_get_region_size(const ubinder_context *ctx);

/* --- threads ------------------------------------------------------------------ */

/* The most extra threads the driver may ask the pool to start (default 15).
 * Takes effect at ubinder_context_start_thread_pool(). */
int ubinder_context_set_max_threads(ubinder_context *ctx, unsigned int max_threads);

/* Starts the pool's first looper thread (once; later calls do nothing). */
int ubinder_context_start_thread_pool(ubinder_context *ctx);

/*
 * The calling thread serves incoming work until the context is closed or
 * ubinder_context_stop() is called. Returns 0 then, or an error.
 */
int ubinder_context_join_thread_pool(ubinder_context *ctx);

/*
 * Makes ubinder_context_join_thread_pool() return. Async-signal-safe: a
 * signal handler may call it; a joined thread interrupted by that signal
 * returns at once, others when they next wake up.
 */
void ubinder_context_stop(ubinder_context *ctx);

/*
 * A descriptor that polls readable (POLLIN) while the process has work for
 * ubinder_context_process(). The context owns it; do not close it.
 */
int ubinder_context_get_fd(ubinder_context *ctx);

/*
 * Does the work pending for the process on the calling thread (incoming
 * calls, oneways, reference counts, death notifications) without blocking,
 * then returns 0. Call it when ubinder_context_get_fd() polls readable.
 */
int ubinder_context_process(ubinder_context *ctx);

/*
 * Sends the commands the calling thread has queued (buffer frees and
 * reference releases, which are otherwise sent with its next command).
 */
int ubinder_context_flush(ubinder_context *ctx);

/* --- local objects --------------------------------------------------------------- */

/* What a handler learns about an incoming call. */
struct ubinder_call {
	uint32_t code;	  /* the transaction code */
	uint32_t flags;	  /* UBINDER_FLAG_ONEWAY, ... as the sender set them */
	pid_t sender_pid; /* the caller's pid; 0 for oneway calls */
	uid_t sender_euid;
	/*
	 * The caller's security context, for an object that asked for it
	 * (ubinder_binder_set_requesting_sid): its SO_PEERSEC label as ubinderd
	 * saw it at open, or "ubinder:unlabeled" without a security module.
	 * NULL otherwise, and for calls within the process. Valid during the
	 * handler only.
	 */
	const char *sender_sid;
};

/*
 * A local object's transaction handler. @data is the request, positioned at
 * its start; it is freed after the handler returns (dup() descriptors to
 * keep them). @reply is NULL for oneway calls. Return 0 to send @reply, or
 * an error status (e.g. UBINDER_ERR_UNKNOWN_TRANSACTION, UBINDER_ERR_BAD_VALUE)
 * that the caller's ubinder_binder_transact() then returns instead.
 */
typedef int (*ubinder_handler_fn)(ubinder_binder *self, const struct ubinder_call *call,
				  ubinder_parcel *data, ubinder_parcel *reply, void *userdata);

/*
 * Creates a local object of @ctx. @descriptor (copied; may be NULL for "")
 * names its interface, for UBINDER_INTERFACE_TRANSACTION; the default
 * transactions (above) are answered without calling @handler. @destroy (may be NULL)
 * is called with @userdata once neither the caller nor any other process
 * holds the object any more. *out holds one reference.
 */
int ubinder_binder_new(ubinder_context *ctx, const char *descriptor, ubinder_handler_fn handler,
		       void *userdata, void (*destroy)(void *userdata), ubinder_binder **out);

/*
 * A local object's answer to UBINDER_DUMP_TRANSACTION: write the dump to @fd
 * (-1 if the caller sent none) and return 0 or an error status. @args are
 * the caller's arguments. Called with the object's userdata.
 */
typedef int (*ubinder_dump_fn)(ubinder_binder *self, int fd, const char *const *args, size_t nargs,
			       void *userdata);
/* Installs (or, with NULL, removes) @local's dump handler. */
int ubinder_binder_set_dump_handler(ubinder_binder *local, ubinder_dump_fn fn);
/* Sets the object UBINDER_EXTENSION_TRANSACTION answers for @local (NULL:
 * none); @local holds a reference to it. */
int ubinder_binder_set_extension(ubinder_binder *local, ubinder_binder *extension);

/*
 * Whether calls to @local carry the caller's security context
 * (ubinder_call.sender_sid), as libbinder's setRequestingSid: the driver
 * takes it from the object's first sending (FLAT_BINDER_FLAG_TXN_SECURITY_CTX),
 * so set it before the object is first written to a parcel or made the
 * context manager. UBINDER_ERR_INVALID_OPERATION for a remote object.
 */
int ubinder_binder_set_requesting_sid(ubinder_binder *local, bool on);

/* Makes the calling process the context manager (handle 0) with @local as
 * its object. UBINDER_ERR_ALREADY_EXISTS if another process is, or
 * UBINDER_ERR_PERMISSION_DENIED for another uid than the first manager's. */
int ubinder_context_become_manager(ubinder_context *ctx, ubinder_binder *local);

/* --- any object ------------------------------------------------------------------- */

ubinder_binder *ubinder_binder_ref(ubinder_binder *binder);
/* Drops a reference (NULL is allowed). */
void ubinder_binder_unref(ubinder_binder *binder);

bool ubinder_binder_is_local(const ubinder_binder *binder);
/* False once a remote object's process is known to be dead, or the context closed. */
bool ubinder_binder_is_alive(const ubinder_binder *binder);
ubinder_context *ubinder_binder_get_context(const ubinder_binder *binder);
/* A local object's userdata; NULL for a remote one. */
void *ubinder_binder_get_userdata(const ubinder_binder *binder);
/* A remote object's handle in this process (for diagnostics); 0 for a local one. */
uint32_t ubinder_binder_get_handle(const ubinder_binder *binder);

/*
 * Sends transaction @code with @data (NULL: empty) to @binder and, unless
 * @flags has UBINDER_FLAG_ONEWAY, waits for the reply, which *reply receives
 * (free it with ubinder_parcel_free; @reply may be NULL to drop it). A local
 * @binder's handler is called directly. Returns 0, the error status the
 * handler returned, UBINDER_ERR_DEAD_OBJECT when the object's process is
 * gone, UBINDER_ERR_FAILED_TRANSACTION when the driver refused it (too
 * large, no space left in the target), UBINDER_ERR_WRONG_CONTEXT when @data
 * holds an object of another context, or UBINDER_ERR_CLOSED.
 */
int ubinder_binder_transact(ubinder_binder *binder, uint32_t code, ubinder_parcel *data,
			    uint32_t flags, ubinder_parcel **reply);

/* UBINDER_PING_TRANSACTION: 0 if the object answers. */
int ubinder_binder_ping(ubinder_binder *binder);

/* UBINDER_INTERFACE_TRANSACTION: the descriptor as a new UTF-8 string (free() it). */
int ubinder_binder_get_interface(ubinder_binder *binder, char **descriptor);

/* --- weak references ------------------------------------------------------------------ */

/*
 * A weak reference names an object without keeping it alive, as libbinder's
 * wp<IBinder>. For a remote object it holds the driver's weak count on the
 * handle only (BC_INCREFS); strong references hold both. A weak reference
 * comes from ubinder_binder_get_weak() or ubinder_parcel_read_weak_binder().
 */
int ubinder_binder_get_weak(ubinder_binder *binder, ubinder_weak **out);
ubinder_weak *ubinder_weak_ref(ubinder_weak *weak);
/* Drops a weak reference (NULL is allowed). */
void ubinder_weak_unref(ubinder_weak *weak);
/*
 * A new strong reference to the object, as libbinder's promote(). A local
 * object: while something (here or, through the driver, another process)
 * holds it strongly, else UBINDER_ERR_DEAD_OBJECT. A remote one: while this
 * process holds it strongly (a strong reference of the caller's, or of a
 * parcel); UBINDER_ERR_DEAD_OBJECT once its process is known dead (a death
 * notification); else UBINDER_ERR_INVALID_OPERATION, without asking the
 * driver: the driver gives no strong count on a ref held weakly only (as
 * libbinder's attemptIncStrongHandle). Receiving the object strongly again
 * (from a parcel, the service manager) makes it promotable again.
 */
int ubinder_weak_promote(ubinder_weak *weak, ubinder_binder **out);

/* --- death notifications ------------------------------------------------------------ */

typedef void (*ubinder_death_fn)(ubinder_binder *binder, void *userdata);

/*
 * Calls @fn(binder, userdata) once when the remote object's process dies
 * (on the thread that reads the notification: a looper or
 * ubinder_context_process()). UBINDER_ERR_DEAD_OBJECT if it is already known
 * dead, UBINDER_ERR_INVALID_OPERATION for a local object. A link ends when
 * it fires, when it is unlinked, or when the last reference to @binder goes.
 */
int ubinder_binder_link_to_death(ubinder_binder *binder, ubinder_death_fn fn, void *userdata);
/* Removes the link with this @fn and @userdata; UBINDER_ERR_NAME_NOT_FOUND if none. */
int ubinder_binder_unlink_to_death(ubinder_binder *binder, ubinder_death_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif
