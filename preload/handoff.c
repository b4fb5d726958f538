/* SPDX-License-Identifier: MIT */
/*
 * Binder descriptors across exec.
 *
 * The kernel keeps a Binder fd open across exec unless it is close-on-exec;
 * the new image can use it (same Binder process) but not map it, and the old
 * region is gone. Our memory does not survive exec, so what the new image
 * needs is kept, whenever a program Binder fd without FD_CLOEXEC exists, in
 * a memfd named "ubinder-preload-state" that is itself inherited, beside the
 * session sockets (which then lose FD_CLOEXEC too). The new image's
 * constructor finds that memfd among its descriptors and takes the files
 * over; it tells the daemon that the old image's region and outbox are gone.
 *
 * Written eagerly (under g_lock, when the set of such descriptors or their
 * regions changes), so that every way to exec is covered, including
 * posix_spawn and system().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bfile.h"
#include "fdtable.h"
#include "handoff.h"
#include "real.h"

#define STATE_NAME  "ubinder-preload-state"
#define STATE_MAGIC 0x55425048u /* "UBPH" */
#define MAX_ENTRIES 256

struct state_header {
	uint32_t magic;
	uint32_t count;
	int32_t pid; /* the writer: a different pid means we came through fork */
	uint32_t reserved;
};

struct state_entry {
	int32_t fd; /* the program descriptor */
	int32_t accmode;
	int32_t foreign; /* enum foreign */
	uint32_t reserved;
	uint64_t group; /* the bfile id: entries of one file share it */
	uint64_t sock_ino;
	uint64_t map_addr;
	struct ubt_session s;
};

static int state_fd = -1;
static bool state_foreign; /* inherited through fork: the parent's */

struct collect {
	struct state_entry *e;
	size_t n;
};

static void collect_fd(int fd, uintptr_t entry, void *arg)
{
	struct collect *c = arg;
	struct bfile *b = fdt_bfile(entry);
	struct state_entry *e;
	struct stat st;

	if ((entry & (FDT_HIDDEN | FDT_CLOEXEC)) || c->n == MAX_ENTRIES)
		return;
	e = &c->e[c->n++];
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->accmode = b->accmode;
	e->foreign = b->foreign;
	e->group = b->id;
	e->map_addr = b->map_addr;
	e->s = b->s;
	if (real.fstat(b->s.sock, &st) == 0)
		e->sock_ino = st.st_ino;
}

void handoff_update(void)
{
	static struct state_entry entries[MAX_ENTRIES];
	struct collect c = { entries, 0 };
	struct state_header h = { STATE_MAGIC, 0, 0, 0 };

	fdt_for_range(0, FDT_MAX - 1, collect_fd, &c);
	if (state_fd >= 0 && state_foreign) {
		fdt_close_hidden(state_fd, true);
		state_fd = -1;
		state_foreign = false;
	}
	if (c.n == 0) {
		if (state_fd >= 0)
			(void)real.fcntl(state_fd, F_SETFD, FD_CLOEXEC);
		return;
	}
	if (state_fd < 0) {
		int fd = memfd_create(STATE_NAME, MFD_CLOEXEC);

		if (fd < 0) {
			plog("cannot keep Binder descriptors across exec: memfd_create: %s",
			     strerror(errno));
			return;
		}
		state_fd = fdt_hide(fd, true);
	}
	h.count = (uint32_t)c.n;
	h.pid = (int32_t)getpid();
	if (pwrite(state_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    pwrite(state_fd, entries, c.n * sizeof(entries[0]), sizeof(h)) !=
		    (ssize_t)(c.n * sizeof(entries[0])) ||
	    ftruncate(state_fd, (off_t)(sizeof(h) + c.n * sizeof(entries[0]))) < 0) {
		plog("cannot keep Binder descriptors across exec: %s", strerror(errno));
		return;
	}
	(void)real.fcntl(state_fd, F_SETFD, 0);
}

/* In a forked child: the handoff memfd is the parent's; stop writing it. */
static void forget_after_fork(void)
{
	if (state_fd >= 0)
		state_foreign = true;
}

const struct bfile_hooks handoff_bfile_hooks = {
	.inherit_changed = handoff_update,
	.fork_child = forget_after_fork,
};

static bool fd_is(int fd, const char *target)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, target) == 0;
}

/* The inherited state memfd, or -1. */
static int find_state(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fd_is(fd, "/memfd:" STATE_NAME " (deleted)")) {
			found = fd;
			break;
		}
	}
	closedir(d);
	return found;
}

/* Whether an entry still describes descriptors we hold. */
static bool entry_valid(const struct state_entry *e)
{
	struct stat st;

	return e->fd >= 0 && e->fd < FDT_MAX && e->s.sock >= 0 && e->s.sock < FDT_MAX &&
	       real.fstat(e->s.sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_ino == e->sock_ino && fd_is(e->fd, "anon_inode:[eventpoll]") &&
	       fdt_load(e->fd) == 0;
}

void handoff_restore(void)
{
	static struct state_entry entries[MAX_ENTRIES];
	struct state_header h;
	int fd = find_state();
	ssize_t n;

	if (fd < 0)
		return;
	n = pread(fd, &h, sizeof(h), 0);
	if (n == (ssize_t)sizeof(h) && h.magic == STATE_MAGIC && h.count <= MAX_ENTRIES)
		n = pread(fd, entries, h.count * sizeof(entries[0]), sizeof(h));
	real.close(fd);
	if (n != (ssize_t)(h.count * sizeof(entries[0])) || h.magic != STATE_MAGIC)
		return;
	for (uint32_t i = 0; i < h.count; i++) {
		struct state_entry *e = &entries[i];
		/* Through fork (or a file a fork inherited): not the opener's task. */
		bool exec_of_opener = h.pid == getpid() && e->foreign != FOREIGN_FORK;
		uint64_t outbox = atomic_load(&e->s.outbox_base); /* the old image's */
		struct bfile *b;

		if (e->group == 0 || !entry_valid(e))
			continue;
		e->s.poll_fd = -1;
		e->s.sys = &real_sys;		  /* the old image's pointer means nothing here */
		ubt_session_forget_outbox(&e->s); /* gone with the old image */
		b = bfile_new(&e->s, e->accmode, exec_of_opener ? FOREIGN_EXEC : FOREIGN_FORK);
		if (!b)
			continue;
		/* The daemon keeps a process's one outbox: none for the new image. */
		atomic_store(&b->stage_asked, outbox != 0);
		pthread_mutex_lock(&g_lock);
		fdt_store(b->s.sock, FDT_HIDDEN);
		b->sock_inherit = true;
		bfile_add_fd(b, e->fd, false);
		/* The other descriptors of the same file. */
		for (uint32_t j = i + 1; j < h.count; j++) {
			if (entries[j].group == e->group && entry_valid(&entries[j]))
				bfile_add_fd(b, entries[j].fd, false);
			if (entries[j].group == e->group)
				entries[j].group = 0;
		}
		pthread_mutex_unlock(&g_lock);
		/* The old image's region is gone with it, and its outbox: the
		 * daemon must not take what lies there now for outbox bytes. */
		if (exec_of_opener && e->map_addr)
			bfile_region_gone(b, e->map_addr);
		if (exec_of_opener && outbox)
			bfile_region_gone(b, outbox);
		plog("fd %d: Binder file of %s kept across exec", e->fd, e->s.path);
		bfile_put(b);
	}
}
