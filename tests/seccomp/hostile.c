/* SPDX-License-Identifier: MIT */
/*
 * A hostile target, against the kernel API only: bad pointers everywhere the
 * driver reads or writes, fd-number games, forks that use the parent's
 * descriptor, dups and closes. Each step must get the kernel driver's errno;
 * it prints one line per step and "hostile done" when every step did.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/android/binder.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void expect(const char *what, long r, int want)
{
	int got = r < 0 ? errno : 0;

	if (got != want) {
		printf("%s: got %s, want %s\n", what, got ? strerror(got) : "success",
		       want ? strerror(want) : "success");
		failures++;
	}
}

int main(void)
{
	void *bad = (void *)(uintptr_t)0x10; /* never mapped */
	struct binder_write_read bwr = { 0 };
	uint32_t enter = BC_ENTER_LOOPER;
	struct binder_version v;
	void *map;
	int fd, dup_fd, status;
	pid_t child;

	/* The path itself cannot be read: the kernel's answer, not ours. */
	expect("open(bad path)", syscall(SYS_openat, AT_FDCWD, bad, O_RDWR), EFAULT);
	fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	expect("open", fd, 0);
	if (fd < 0)
		return 1;
	expect("BINDER_VERSION(bad)", ioctl(fd, BINDER_VERSION, bad), EINVAL);
	expect("BINDER_WRITE_READ(bad)", ioctl(fd, BINDER_WRITE_READ, bad), EFAULT);
	bwr.write_size = 4;
	bwr.write_buffer = (uintptr_t)bad;
	expect("write_buffer bad", ioctl(fd, BINDER_WRITE_READ, &bwr), EFAULT);
	bwr.write_buffer = (uintptr_t)&enter;
	bwr.read_size = 64;
	bwr.read_buffer = (uintptr_t)bad;
	expect("read_buffer bad", ioctl(fd, BINDER_WRITE_READ, &bwr), EFAULT);
	expect("BINDER_GET_NODE_DEBUG_INFO(bad)", ioctl(fd, BINDER_GET_NODE_DEBUG_INFO, bad),
	       EFAULT);
	expect("mmap PROT_WRITE",
	       (long)(intptr_t)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == -1
		       ? -1
		       : 0,
	       EPERM);
	/* Shared: a private mapping's mprotect(PROT_WRITE) succeeds here, as a copy
	 * on write of the target's own (docs/conformance.md, "Seccomp path"). */
	map = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0);
	expect("mmap", map == MAP_FAILED ? -1 : 0, 0);
	expect("mmap again",
	       mmap(NULL, 65536, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0, EBUSY);
	expect("mprotect writable", mprotect(map, 4096, PROT_READ | PROT_WRITE), EACCES);
	dup_fd = dup(fd);
	expect("BINDER_VERSION on a dup", ioctl(dup_fd, BINDER_VERSION, &v), 0);
	expect("close(dup)", close(dup_fd), 0);
	expect("BINDER_VERSION on the closed dup", ioctl(dup_fd, BINDER_VERSION, &v), EBADF);
	/* Not a Binder descriptor: the kernel's own answer. */
	expect("BINDER_VERSION on stdin", ioctl(0, BINDER_VERSION, &v), ENOTTY);
	child = fork();
	if (child == 0) {
		struct binder_version cv;

		_exit(ioctl(fd, BINDER_VERSION, &cv) == 0 &&
				      mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) ==
					      MAP_FAILED &&
				      errno == EINVAL
			      ? 0
			      : 1);
	}
	waitpid(child, &status, 0);
	expect("forked child: ioctl works, mmap EINVAL",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1, 0);
	printf(failures ? "hostile: %d failures\n" : "hostile done\n", failures);
	return failures != 0;
}
