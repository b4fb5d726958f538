/* SPDX-License-Identifier: MIT */
/*
 * The process's mappings: mmap of the device (its buffer space, created here
 * and mapped by the client) and the outbox (a memfd the client builds large
 * parcels in and the daemon reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "driver/todo.h"
#include "driver/entities.h"
#include "region/page.h"

int driver_mmap(struct thread *thread, uint64_t addr, uint64_t size, int *fd, uint64_t *mapped)
{
	struct proc *proc = thread->proc;
	size_t page = geo_page_size(page_geometry_of_machine());
	uint64_t region_size;
	int err;

	driver_take_lazy_reads(proc->driver);
	(void)addr;
	*fd = -1;
	/* Only the process that opened the device maps it (a forked child: EINVAL). */
	if (thread->peer.pid != proc->id.pid)
		return -EINVAL;
	if (buffer_space_was_created(&proc->space))
		return -EBUSY;
	if (size == 0)
		return -EINVAL;
	region_size = size < proc->driver->config.max_region_size
			      ? size
			      : proc->driver->config.max_region_size;
	region_size &= ~(uint64_t)(page - 1);
	if (region_size == 0)
		return -EINVAL;
	err = buffer_space_create(&proc->space, region_size, proc->context->name, proc->id.pid);
	if (err < 0)
		return err;
	*fd = err;
	*mapped = region_size;
	return 0;
}

int driver_outbox(struct thread *thread, uint64_t addr, uint64_t size, bool page_states, int *fd)
{
	struct proc *proc = thread->proc;
	size_t page = geo_page_size(page_geometry_of_machine());
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	void *map;
	int memfd;

	driver_take_lazy_reads(proc->driver);
	*fd = -1;
	/* An outbox must fit below the top of the address space. */
	if (thread->peer.pid != proc->id.pid || addr == 0 || (addr & (page - 1)) ||
	    addr + size < addr)
		return -EINVAL;
	if (proc->outbox)
		return -EBUSY;
	if (size == 0 || size > proc->driver->config.max_outbox || (size & (page - 1)))
		return -EINVAL;
	memfd = memfd_create("ubinder-outbox", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) < 0 || fcntl(memfd, F_ADD_SEALS, seals) < 0) {
		close(memfd);
		return -ENOMEM;
	}
	/* Read-write only to change page states and punch freed pages out
	 * (MADV_REMOVE); the daemon never writes the client's bytes. */
	map = mmap(NULL, size, PROT_READ | (page_states ? PROT_WRITE : 0), MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED) {
		close(memfd);
		return -ENOMEM;
	}
	(void)madvise(map, size, MADV_DONTFORK);
	/* Kept: pages the client never wrote are read through it, not faulted
	 * into its memfd at the daemon's cost (fetch.c local_copy). */
	proc->outbox_fd = fcntl(memfd, F_DUPFD_CLOEXEC, 0);
	if (proc->outbox_fd < 0) {
		munmap(map, size);
		close(memfd);
		return -ENOMEM;
	}
	proc->outbox = map;
	proc->outbox_states = page_states ? (_Atomic uint8_t *)map : NULL;
	proc->outbox_base = addr;
	proc->outbox_size = size;
	*fd = memfd;
	return 0;
}

int driver_mmap_done(struct thread *thread, uint64_t addr)
{
	driver_take_lazy_reads(thread->proc->driver);
	return buffer_space_mapped(&thread->proc->space, addr);
}

int driver_munmap(struct thread *thread, uint64_t addr)
{
	struct proc *proc = thread->proc;

	driver_take_lazy_reads(proc->driver);
	/* Once gone, the outbox's address may be the region's (mapped there
	 * since): its unmap is the region's. */
	if (proc->outbox && !proc->outbox_gone && addr == proc->outbox_base &&
	    thread->peer.pid == proc->id.pid) {
		proc->outbox_gone = true;
		return 0;
	}
	return buffer_space_unmapped(&proc->space, addr);
}
