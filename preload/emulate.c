/* SPDX-License-Identifier: MIT */
/*
 * The kernel driver's semantics for open, ioctl, mmap and munmap of a Binder
 * device (docs/kernel-facts.md), on top of the transport.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bfile.h"
#include "devices.h"
#include "emulate.h"
#include "fdtable.h"
#include "handoff.h"
#include "preload.h"
#include "real.h"
#include "wire/binder_ioctl.h"

/* --- open ------------------------------------------------------------------ */

/* The errno of an open() whose daemon cannot be reached: like a missing device. */
static int open_errno(int err)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTDIR:
	case -ENAMETOOLONG:
	case -ENOTSOCK:
		return -ENOENT;
	case -EACCES:
	case -EPERM:
		return -EACCES;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
		return err;
	default:
		return -ENXIO;
	}
}

int emu_open(const char *path, int flags)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char sock[DEVICE_PATH_MAX];
	struct ubt_session s;
	struct bfile *b;
	int err, ep;

	if (!device_lookup(path, sock, sizeof(sock)) || (flags & O_PATH))
		return EMU_PASS;
	if ((flags & O_DIRECTORY) == O_DIRECTORY || device_path_names_dir(path))
		return -ENOTDIR;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	err = ubt_session_open(&s, sock, true, false, &real_sys);
	if (err) {
		plog("open %s: no ubinderd serves %s (%s): %s", path, sock, strerror(-err),
		     strerror(-open_errno(err)));
		return open_errno(err);
	}
	s.sock = fdt_hide(s.sock, false);
	if (s.poll_fd < 0) {
		err = -ENXIO;
		goto fail;
	}
	/* Now the lowest free number, as open() would give. */
	ep = epoll_create1((flags & O_CLOEXEC) ? EPOLL_CLOEXEC : 0);
	if (ep < 0) {
		err = -errno;
		goto fail;
	}
	if (ep >= FDT_MAX || epoll_ctl(ep, EPOLL_CTL_ADD, s.poll_fd, &ev) < 0 ||
	    ((flags & O_NONBLOCK) && real.fcntl(ep, F_SETFL, O_NONBLOCK) < 0)) {
		err = ep >= FDT_MAX ? -EMFILE : -errno;
		real.close(ep);
		goto fail;
	}
	/* The epoll instance keeps watching it: the daemon holds the other copy. */
	real.close(s.poll_fd);
	s.poll_fd = -1;
	b = bfile_new(&s, flags & O_ACCMODE, FOREIGN_NONE);
	if (!b) {
		real.close(ep);
		err = -ENOMEM;
		goto fail;
	}
	pthread_mutex_lock(&g_lock);
	bfile_add_fd(b, ep, flags & O_CLOEXEC);
	pthread_mutex_unlock(&g_lock);
	bfile_put(b);
	plog("open %s -> fd %d (%s)", path, ep, sock);
	return ep;
fail:
	fdt_close_hidden(s.sock, false);
	s.sock = -1;
	ubt_session_close(&s);
	return err;
}

/* --- ioctl ----------------------------------------------------------------- */

/*
 * The first write with a transaction worth staging (UBT_OUTBOX_MIN) maps the
 * file's outbox, for the next ones: once per file, by its opener only (a
 * forked child has none; an exec'd image may get one if the old image had
 * none). Without it, large transactions go as they did before.
 */
static void stage_outbox(struct bfile *b, struct pthr *p)
{
	int err;

	p->t.stage_wanted = false;
	if (b->foreign == FOREIGN_FORK || atomic_exchange(&b->stage_asked, true))
		return;
	err = ubt_session_stage(&b->s, &p->t, UBT_STAGE_SIZE);
	if (err) {
		plog("no outbox for large transactions on %s: %s", b->s.path, strerror(-err));
		return;
	}
	atomic_store(&g_outbox_mapped, true);
	/* An exec'd image must learn that this outbox is gone with us. */
	pthread_mutex_lock(&g_lock);
	handoff_update();
	pthread_mutex_unlock(&g_lock);
}

static int write_read(struct bfile *b, struct pthr *p, int fd, void *arg)
{
	/* O_NONBLOCK lives on our descriptor's open file, shared by its dups. */
	int err = ubt_write_read_user(&p->t, &b->s, (uintptr_t)arg, fd);

	if (p->t.stage_wanted)
		stage_outbox(b, p);
	return err;
}

int emu_ioctl(struct bfile *b, int fd, unsigned int cmd, void *arg)
{
	uint8_t zero[64] = { 0 };
	struct pthr *p;
	int err;

	switch (cmd) {
	case FIONBIO:
	case FIOASYNC:
	case FIOQSIZE:
	case FIOCLEX:
	case FIONCLEX:
		/* The VFS handles these before the driver: same on our descriptor. */
		err = real.ioctl(fd, cmd, arg) < 0 ? -errno : 0;
		if (!err && (cmd == FIOCLEX || cmd == FIONCLEX)) {
			pthread_mutex_lock(&g_lock);
			bfile_set_cloexec(fd, cmd == FIOCLEX);
			pthread_mutex_unlock(&g_lock);
		}
		return err;
	}
	/* Every other ioctl reaches binder_ioctl, whose first step makes the
	 * calling thread a Binder thread. */
	err = bfile_thread(b, &p);
	if (err)
		return err;
	if (cmd == BINDER_WRITE_READ)
		err = write_read(b, p, fd, arg);
	else if (binder_ioctl_known(cmd))
		err = ubt_ioctl(&p->t, &b->s, cmd, arg);
	else if (_IOC_SIZE(cmd) <= sizeof(zero))
		/* Unknown: the driver never looks at the argument; let the daemon
		 * say EINVAL, so that the thread's state changes as the kernel's. */
		err = ubt_ioctl(&p->t, &b->s, cmd, zero);
	else
		err = -EINVAL;
	return err;
}

/* --- mmap ------------------------------------------------------------------ */

#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000 /* <asm-generic/mman-common.h>; glibc lacks it */
#endif

/* The mapping flags a Binder file accepts with MAP_SHARED_VALIDATE: the
 * kernel's LEGACY_MAP_MASK (the driver adds no mmap_supported_flags). */
#define LEGACY_MAP_FLAGS                                                                         \
	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | \
	 MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |         \
	 MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB)

/* do_mmap's checks of the mapping type against the open file's mode. */
static int map_type_check(const struct bfile *b, int prot, int flags)
{
	bool readable = b->accmode == O_RDONLY || b->accmode == O_RDWR;
	bool writable = b->accmode == O_WRONLY || b->accmode == O_RDWR;

	switch (flags & MAP_TYPE) {
	case MAP_SHARED_VALIDATE:
		if (flags & ~(LEGACY_MAP_FLAGS | MAP_SHARED_VALIDATE))
			return -EOPNOTSUPP;
		/* fallthrough */
	case MAP_SHARED:
		if ((prot & PROT_WRITE) && !writable)
			return -EACCES;
		/* fallthrough */
	case MAP_PRIVATE:
		return readable ? 0 : -EACCES;
	default:
		return -EINVAL;
	}
}

/* The VFS's checks of an mmap (sys_mmap, ksys_mmap_pgoff, do_mmap), in the
 * kernel's order. */
static int vfs_mmap_check(const struct bfile *b, size_t len, int prot, int flags, off_t off)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), alen;

	if ((uint64_t)off & (page - 1))
		return -EINVAL;
	if (flags & MAP_HUGETLB)
		return -EINVAL; /* not a hugetlbfs file */
	if (len == 0)
		return -EINVAL;
	if (len > SIZE_MAX - page + 1)
		return -ENOMEM; /* the page-aligned length wraps to 0 */
	alen = (len + page - 1) & ~(page - 1);
	if ((uint64_t)off / page > (UINT64_MAX - alen) / page)
		return -EOVERFLOW; /* file_mmap_ok: the last byte must fit an unsigned long */
	return map_type_check(b, prot, flags);
}

/* binder_mmap's own checks. */
static int driver_mmap_check(const struct bfile *b, int prot)
{
	if (b->foreign == FOREIGN_FORK)
		return -EINVAL; /* proc->tsk != current->group_leader */
	if (prot & PROT_WRITE)
		return -EPERM; /* FORBIDDEN_MMAP_FLAGS */
	if (b->foreign == FOREIGN_EXEC)
		return -EINVAL; /* vma->vm_mm != alloc->mm */
	return 0;
}

void *emu_mmap(struct bfile *b, void *addr, size_t len, int prot, int flags, off_t off)
{
	struct pthr *p;
	void *map;
	int err;

	err = vfs_mmap_check(b, len, prot, flags, off);
	if (!err)
		err = driver_mmap_check(b, prot);
	if (!err)
		err = bfile_thread(b, &p);
	if (!err) {
		err = ubt_mmap(&p->t, addr, len, (flags & MAP_FIXED) != 0, &map);
		if (!err && prot != PROT_READ && mprotect(map, len, prot) < 0)
			plog("mmap: cannot give the region protection %#x: %s", (unsigned)prot,
			     strerror(errno));
	}
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	pthread_mutex_lock(&g_lock);
	if (!b->map_addr) {
		b->map_addr = (uintptr_t)map;
		b->map_len = len;
		bfile_ref(b); /* the mapping holds the file, as the kernel's vma does */
		atomic_fetch_add(&g_nregions, 1);
		handoff_update();
	}
	pthread_mutex_unlock(&g_lock);
	return map;
}

void emu_munmap(void *addr, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t lo = (uintptr_t)addr;
	uint64_t hi = lo + ((len + (size_t)page - 1) & ~((size_t)page - 1));

	for (;;) {
		struct bfile *b;
		uint64_t region = 0;

		pthread_mutex_lock(&g_lock);
		for (b = g_bfiles; b; b = b->next) {
			if (b->map_addr && b->map_addr < hi && lo < b->map_addr + b->map_len)
				break;
		}
		if (b) {
			/* Any overlap closes the kernel's vma: the region is gone. */
			region = b->map_addr;
			b->map_addr = b->map_len = 0;
			atomic_fetch_sub(&g_nregions, 1);
			bfile_ref(b);
			handoff_update();
		}
		pthread_mutex_unlock(&g_lock);
		if (!b)
			return;
		bfile_region_gone(b, region);
		bfile_put(b); /* the mapping's reference */
		bfile_put(b);
	}
}

/*
 * The program unmaps [addr, addr + len), or maps over it. The kernel has no
 * outbox: to the program its address range is any other, which it may
 * unmap and map again. An outbox the range touches is gone: the session
 * stops staging before the range changes (never writing into what is
 * mapped there next), and the daemon reads what the program sends from
 * that range as the program's memory again (UBW_MUNMAP of the outbox).
 */
void emu_outbox_unmapping(void *addr, size_t len)
{
	uint64_t lo = (uintptr_t)addr, hi = lo + len;

	for (;;) {
		struct bfile *b;
		uint64_t base = 0;

		pthread_mutex_lock(&g_lock);
		for (b = g_bfiles; b; b = b->next) {
			base = atomic_load(&b->s.outbox_base);
			if (base && base < hi && lo < atomic_load(&b->s.outbox_end))
				break;
		}
		/* Unmapping clears the session's range: the next round passes it. */
		if (b && ubt_session_outbox_unmapping(&b->s)) {
			bfile_ref(b);
			handoff_update();
		} else {
			b = NULL;
		}
		pthread_mutex_unlock(&g_lock);
		if (!b)
			return;
		bfile_region_gone(b, base);
		bfile_put(b);
	}
}
