/* SPDX-License-Identifier: MIT */
/*
 * libubinder-preload: the /dev/binder emulation (docs/emulation.md).
 *
 * An open() of a Binder device path becomes a session with ubinderd (one
 * Binder process); the descriptor handed to the program is an epoll instance
 * watching the session's poll descriptor, so the program can poll, select and
 * epoll it as it would the device. ioctl, mmap, munmap, close and the dup
 * family are interposed on those descriptors; each program thread gets its
 * own connection (its own Binder thread) on first use.
 *
 * Modules (one concept each):
 *   real.c      the libc functions underneath (dlsym RTLD_NEXT)
 *   devices.c   which paths are Binder devices, and their sockets
 *   fdtable.c   descriptor number -> open Binder file, and our hidden fds
 *   bfile.c     open Binder files, per-thread connections, flush, fork
 *   handoff.c   Binder descriptors that survive exec
 *   emulate.c   open, ioctl and mmap semantics of the kernel driver
 *   devnode.c   what stat and access see at a device path or descriptor
 *   intercept.c the exported libc entry points that open and use devices
 *   intercept-stat.c  the exported access and stat family
 *   fault.c     SIGSEGV and SIGBUS: faults of the program's memory as EFAULT
 *   intercept-signal.c  the exported sigaction and signal family
 *
 * Locking: g_lock (bfile.c) guards the fd table's writers, every bfile's
 * thread list, nfds and region fields, and the handoff state. It is never
 * held across a round trip to the daemon. Lookups of the fd table are
 * lock-free; a bfile is pinned by its reference count while an operation
 * uses it.
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "transport/transport.h"

/* The entry points the library exports (everything else is hidden). */
#define EXPORT __attribute__((visibility("default")))

/* A libc-style result: @r >= 0 as it is, -errno as -1 with errno set. */
static inline int ret_errno(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* --- real.c: the libc functions we interpose, resolved with RTLD_NEXT ----- */

struct real_libc {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*fopen)(const char *, const char *);
	void *(*fopen64)(const char *, const char *);
	void (*exit_)(int);
	int (*fclose)(void *);
	/* intercept-stat.c */
	int (*access)(const char *, int);
	int (*euidaccess)(const char *, int);
	int (*eaccess)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	int (*stat)(const char *, struct stat *);
	int (*stat64)(const char *, struct stat64 *);
	int (*lstat)(const char *, struct stat *);
	int (*lstat64)(const char *, struct stat64 *);
	int (*fstat)(int, struct stat *);
	int (*fstat64)(int, struct stat64 *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*fstatat64)(int, const char *, struct stat64 *, int);
	int (*statx)(int, const char *, int, unsigned, struct statx *);
	int (*xstat)(int, const char *, struct stat *);
	int (*xstat64)(int, const char *, struct stat64 *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*lxstat64)(int, const char *, struct stat64 *);
	int (*fxstat)(int, int, struct stat *);
	int (*fxstat64)(int, int, struct stat64 *);
	int (*fxstatat)(int, int, const char *, struct stat *, int);
	int (*fxstatat64)(int, int, const char *, struct stat64 *, int);
	/* intercept-signal.c */
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*(*signal)(int, void (*)(int)))(int);
	void (*(*sysv_signal)(int, void (*)(int)))(int);
};

extern struct real_libc real;
/* The same for the transport's system calls (every session's table). */
extern struct ubt_sys real_sys;

/* Resolves the real functions; safe to call any number of times from any thread. */
void real_init(void);

/* The flag F_GETFL shows on a device file beside its access mode (the
 * kernel's O_LARGEFILE for a 64-bit process). */
int kernel_largefile_flag(void);

/* One line on stderr when UBINDER_PRELOAD_DEBUG is set. */
void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool plog_enabled(void);

/* --- devices.c ------------------------------------------------------------- */

#define DEVICE_PATH_MAX 108

/*
 * Whether @path names an emulated Binder device; if so, the daemon socket
 * that serves it goes to @sock. Absolute paths only (lexically normalised:
 * repeated slashes and "." components are ignored).
 */
bool device_lookup(const char *path, char *sock, size_t size);
/* Whether @path asks for a directory after its last name ("/dev/binder/",
 * "/dev/binder/."), which a device path refuses with ENOTDIR. */
bool device_path_names_dir(const char *path);

/* --- fdtable.c ------------------------------------------------------------- */

struct bfile;

/* Descriptor numbers the table covers; larger ones are never Binder fds. */
#define FDT_MAX (1 << 20)

/* What the table knows about a descriptor number. */
#define FDT_HIDDEN  0x1u /* one of ours (a daemon socket, the handoff memfd) */
#define FDT_CLOEXEC 0x2u /* a program Binder fd with FD_CLOEXEC */
#define FDT_FLAGS   0x7u

uintptr_t fdt_load(int fd);
/* Writers hold g_lock. */
void fdt_store(int fd, uintptr_t entry);
static inline struct bfile *fdt_bfile(uintptr_t e)
{
	return (struct bfile *)(e & ~(uintptr_t)FDT_FLAGS);
}
/* Calls fn for every non-empty entry in [first, last]; under g_lock. */
void fdt_for_range(unsigned first, unsigned last, void (*fn)(int fd, uintptr_t e, void *arg),
		   void *arg);
/* Moves one of our descriptors out of the program's way (a high number,
 * FD_CLOEXEC) and marks it hidden. Returns the new number. Takes g_lock
 * unless @locked. */
int fdt_hide(int fd, bool locked);
/* Forgets a hidden descriptor and closes it. Takes g_lock unless @locked. */
void fdt_close_hidden(int fd, bool locked);

/* --- fault.c -------------------------------------------------------------- */

/*
 * Catches SIGSEGV and SIGBUS from now on (once per process), so that the
 * transport's copies of the program's memory fail with EFAULT where the
 * kernel's would; before the first Binder file exists.
 */
void fault_init(void);
/* Whether @sig is one of those. */
bool fault_signal(int sig);
/* sigaction() as the program sees it: for those two signals, once caught,
 * the program's disposition, delivered by our handler. */
int fault_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);

/* --- bfile.c --------------------------------------------------------------- */

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
	struct pthr *threads; /* connections of live threads; under g_lock */
	struct bfile *next;   /* all bfiles; under g_lock */
};

extern pthread_mutex_t g_lock;
extern atomic_uint g_nregions; /* bfiles with a region mapped: munmap's fast path */

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

/* --- handoff.c ------------------------------------------------------------- */

/* Rewrites what an exec'd image inherits after a change of the program's
 * non-close-on-exec Binder descriptors. Under g_lock. */
void handoff_update(void);
/* In a new image: takes over the Binder files the old image left open. */
void handoff_restore(void);
/* In a forked child: the handoff memfd is the parent's; stop writing it. */
void handoff_forget_after_fork(void);

/* --- devnode.c ------------------------------------------------------------- */

/* What stat reports for an emulated device node. */
struct devnode {
	char sock[DEVICE_PATH_MAX]; /* the daemon socket that serves it */
	ino_t ino;
	dev_t rdev;
	struct timespec atime, mtime, ctime;
};

/* The node at @path: 0, -ENOENT while no daemon socket serves it, -ENOTDIR
 * for "DEVICE/", or EMU_PASS if @path is no emulated device. */
int devnode_of_path(const char *path, struct devnode *n);
/* The node an open Binder file was opened from. */
void devnode_of_bfile(const struct bfile *b, struct devnode *n);
/* Fill the program's buffer (st_dev is that of /dev): 0, or -EFAULT where
 * the kernel cannot write it. */
int devnode_stat(const struct devnode *n, struct stat *st);
int devnode_statx(const struct devnode *n, struct statx *stx);
/* access() of the node with faccessat's @mode and @flags (validated): 0 or -EACCES. */
int devnode_access(const struct devnode *n, int mode, int flags);

/* --- emulate.c ------------------------------------------------------------- */

/* open() of @path if it is an emulated device: >= 0 (fd), -errno, or
 * -ENODEV meaning "not a Binder device, pass it on". */
#define EMU_PASS (-ENODEV)
int emu_open(const char *path, int flags);
/* @cmd is what the kernel reads of the request: its low 32 bits (callers
 * that pass an int have it sign-extended to the unsigned long of glibc's
 * prototype). */
int emu_ioctl(struct bfile *b, int fd, unsigned int cmd, void *arg);
void *emu_mmap(struct bfile *b, void *addr, size_t len, int prot, int flags, off_t off);
/* Called for every munmap while some region is mapped: forgets the regions
 * the range touches. */
void emu_munmap(void *addr, size_t len);
/* Tells the daemon that b's region at @addr is gone, as the kernel's vma
 * close does (the region's bookkeeping in @b is the caller's). */
void emu_region_gone(struct bfile *b, uint64_t addr);
