/* SPDX-License-Identifier: MIT */
/*
 * A hostile caller of a FUSE Binder device, against the kernel API only:
 * bad pointers where the daemon reads and writes its memory, unknown and
 * foreign ioctl numbers, a closed descriptor. Each step must get the
 * kernel's errno (the FUSE path's where it cannot be the driver's: a NULL
 * argument the kernel's FUSE code copies in is EFAULT, docs/conformance.md);
 * it prints one line per failed step and "hostile done" when every step did.
 *
 *   fuse-hostile          the steps
 *   fuse-hostile block    one blocking read, then "read: ERRNO" when it ends
 *   fuse-hostile eintr    the same, ended by a SIGALRM (SA_RESTART) after 1 s
 *   fuse-hostile stall    "stalling", then a BINDER_WRITE_READ whose write buffer
 *                         faults into a userfaultfd nobody serves: the daemon's
 *                         read of it blocks until the process exits (77: no
 *                         userfaultfd here)
 *   fuse-hostile stall-read  the same with the read buffer: the results of
 *                         a read are written into that page
 *   fuse-hostile threads N  N threads, one after the other, make their first
 *                         ioctl; "threads: A attached, R refused (EAGAIN)"
 *   fuse-hostile reopen   opens the device twice through one O_PATH descriptor
 *                         (/proc/self/fd/N: the same inode): the first session
 *                         is given a reply (the manager's interface name), the
 *                         second must map none of it; "reopen: clean"
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/android/binder.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>
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

static void on_alarm(int sig)
{
	(void)sig;
}

/* Waits in a read until the daemon goes away (or a signal comes). */
static int block(int fd)
{
	uint32_t enter = BC_ENTER_LOOPER;
	uint8_t r[64];
	struct binder_write_read bwr = { .write_size = sizeof(enter),
					 .write_buffer = (uintptr_t)&enter,
					 .read_size = sizeof(r),
					 .read_buffer = (uintptr_t)r };

	printf("blocking\n");
	fflush(stdout);
	while (ioctl(fd, BINDER_WRITE_READ, &bwr) == 0)
		bwr.write_size = bwr.write_consumed = bwr.read_consumed = 0;
	printf("read: %s\n", strerror(errno));
	return 0;
}

/*
 * A write buffer the daemon cannot read until we exit: its page faults into
 * a userfaultfd this process holds and never reads. A SIGKILL must still
 * end the process (the kernel driver's copy_from_user would be killable),
 * so the daemon must answer the interrupted call without its copy.
 */
static int stall(int fd, int write_phase)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct binder_write_read bwr = { .write_size = 4 };
	uint8_t *mem;

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0)
		return 77;
	/* Two pages: the second one stalls; the first is ordinary (the read's first word). */
	mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 77;
	mem[0] = 1;
	if (ioctl(uffd, UFFDIO_REGISTER,
		  &(struct uffdio_register){
			  .range = { .start = (uintptr_t)mem + 4096, .len = 4096 },
			  .mode = UFFDIO_REGISTER_MODE_MISSING }) != 0)
		return 77;
	if (write_phase) {
		/*
		 * A ping of the context manager: what the reads return after
		 * their BR_NOOP (BR_TRANSACTION_COMPLETE, BR_REPLY) goes into
		 * the stalling page (the daemon checks only a read's first word).
		 */
		static struct {
			uint32_t cmd;
			struct binder_transaction_data tr;
		} __attribute__((packed))
		ping = { .cmd = BC_TRANSACTION,
			 .tr = { .code = ('_' << 24 | 'P' << 16 | 'N' << 8 | 'G') } };

		if (mmap(NULL, 128 * 1024, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			return 1;
		bwr.write_size = sizeof(ping);
		bwr.write_buffer = (uintptr_t)&ping;
		bwr.read_buffer = (uintptr_t)mem + 4096 - 4;
		bwr.read_size = 256; /* room for a BR_REPLY */
		printf("stalling\n");
		fflush(stdout);
		/* Reads with only their BR_NOOP (a new thread's first) go on. */
		for (int i = 0; i < 16; i++) {
			if (ioctl(fd, BINDER_WRITE_READ, &bwr) != 0 || bwr.read_consumed != 4)
				break;
			bwr.write_size = bwr.write_consumed = bwr.read_consumed = 0;
		}
		printf("stalled read: %s, %llu read\n", strerror(errno),
		       (unsigned long long)bwr.read_consumed);
		return 0;
	}
	bwr.write_buffer = (uintptr_t)mem + 4096;
	printf("stalling\n");
	fflush(stdout);
	/* Only an interrupt ends it: with nothing done, as the kernel's EINTR. */
	if (ioctl(fd, BINDER_WRITE_READ, &bwr) == 0 || errno != EINTR || bwr.write_consumed)
		printf("stalled call: %s, %llu written, %llu read\n", strerror(errno),
		       (unsigned long long)bwr.write_consumed,
		       (unsigned long long)bwr.read_consumed);
	else
		printf("stalled call: %s\n", strerror(errno));
	return 0;
}

static void *thread_ioctl(void *arg)
{
	struct binder_version v;
	int *fd_errno = arg;

	fd_errno[1] = ioctl(fd_errno[0], BINDER_VERSION, &v) == 0 ? 0 : errno;
	return NULL;
}

/* Each thread becomes a Binder thread of the open, and stays one after it exits. */
static int threads(int fd, int n)
{
	int attached = 0, refused = 0;

	for (int i = 0; i < n; i++) {
		int fd_errno[2] = { fd, -1 };
		pthread_t t;

		if (pthread_create(&t, NULL, thread_ioctl, fd_errno) != 0)
			return 1;
		pthread_join(t, NULL);
		if (fd_errno[1] == 0)
			attached++;
		else if (fd_errno[1] == EAGAIN)
			refused++;
		else
			printf("thread %d: %s\n", i, strerror(fd_errno[1]));
	}
	printf("threads: %d attached, %d refused (EAGAIN)\n", attached, refused);
	return 0;
}

#define REOPEN_MAP	      (128 * 1024)
/* IBinder::INTERFACE_TRANSACTION, which every service manager answers. */
#define INTERFACE_TRANSACTION (((uint32_t)'_' << 24) | ('N' << 16) | ('T' << 8) | 'F')

/* Calls INTERFACE_TRANSACTION on the manager; the reply's bytes stay in
 * this session's region after BC_FREE_BUFFER. Returns their size. */
static size_t interface_call(int fd)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed))
	w = { .cmd = BC_TRANSACTION, .tr = { .code = INTERFACE_TRANSACTION } };
	struct binder_write_read bwr = { .write_size = sizeof(w), .write_buffer = (uintptr_t)&w };
	uint8_t r[256];

	for (int round = 0; round < 8; round++) {
		bwr.read_size = sizeof(r);
		bwr.read_buffer = (uintptr_t)r;
		bwr.read_consumed = 0;
		if (ioctl(fd, BINDER_WRITE_READ, &bwr) < 0)
			return 0;
		bwr.write_size = 0;
		for (size_t at = 0; at + 4 <= bwr.read_consumed;) {
			uint32_t cmd;

			memcpy(&cmd, r + at, 4);
			at += 4 + _IOC_SIZE(cmd);
			if (cmd == BR_REPLY) {
				struct binder_transaction_data tr;
				struct {
					uint32_t cmd;
					binder_uintptr_t ptr;
				} __attribute__((packed)) f = { .cmd = BC_FREE_BUFFER };

				memcpy(&tr, r + at - sizeof(tr), sizeof(tr));
				f.ptr = tr.data.ptr.buffer;
				bwr = (struct binder_write_read){ .write_size = sizeof(f),
								  .write_buffer = (uintptr_t)&f };
				ioctl(fd, BINDER_WRITE_READ, &bwr);
				return tr.data_size;
			}
			if (cmd == BR_DEAD_REPLY || cmd == BR_FAILED_REPLY)
				return 0;
		}
	}
	return 0;
}

static int reopen(void)
{
	char path[64];
	const uint8_t *map;
	size_t got;
	int opath = open("/dev/binder", O_PATH | O_CLOEXEC), fd;

	expect("open(O_PATH)", opath, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", opath);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	expect("first open", fd, 0);
	map = mmap(NULL, REOPEN_MAP, PROT_READ, MAP_PRIVATE, fd, 0);
	expect("first mmap", map == MAP_FAILED ? -1 : 0, 0);
	got = interface_call(fd);
	if (got == 0) {
		printf("reopen: the first session got no reply\n");
		return 1;
	}
	munmap((void *)map, REOPEN_MAP);
	close(fd);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	expect("second open", fd, 0);
	map = mmap(NULL, REOPEN_MAP, PROT_READ, MAP_PRIVATE, fd, 0);
	expect("second mmap", map == MAP_FAILED ? -1 : 0, 0);
	if (failures)
		return 1;
	for (size_t i = 0; i < REOPEN_MAP; i++) {
		if (map[i]) {
			printf("reopen: the new session maps the old one's bytes (offset %zu)\n",
			       i);
			return 1;
		}
	}
	printf("reopen: clean (%zu reply bytes before)\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	void *bad = (void *)(uintptr_t)0x10; /* never mapped */
	struct binder_write_read bwr = { 0 };
	uint32_t enter = BC_ENTER_LOOPER;
	struct binder_version v;
	struct termios t;
	uint8_t r[64];
	void *map;
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);

	expect("open", fd, 0);
	if (fd < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "block") == 0)
		return block(fd);
	if (argc > 2 && strcmp(argv[1], "threads") == 0)
		return threads(fd, atoi(argv[2]));
	if (argc > 1 && strcmp(argv[1], "stall") == 0)
		return stall(fd, 0);
	if (argc > 1 && strcmp(argv[1], "reopen") == 0) {
		close(fd);
		return reopen();
	}
	if (argc > 1 && strcmp(argv[1], "stall-read") == 0)
		return stall(fd, 1);
	if (argc > 1 && strcmp(argv[1], "eintr") == 0) {
		/* The kernel's blocked read ends with EINTR even under SA_RESTART. */
		struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };

		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		return block(fd);
	}
	expect("BINDER_WRITE_READ(bad)", ioctl(fd, BINDER_WRITE_READ, bad), EFAULT);
	expect("BINDER_VERSION(bad)", ioctl(fd, BINDER_VERSION, bad), EFAULT);
	map = mmap(NULL, 128 * 1024, PROT_READ, MAP_PRIVATE, fd, 0);
	expect("mmap", map == MAP_FAILED ? -1 : 0, 0);
	/* The write buffer cannot be read: nothing is done. */
	bwr.write_size = sizeof(enter);
	bwr.write_buffer = (uintptr_t)bad;
	expect("BINDER_WRITE_READ(bad write buffer)", ioctl(fd, BINDER_WRITE_READ, &bwr), EFAULT);
	/* The read buffer cannot be written: the write part is done, then EFAULT. */
	bwr.write_buffer = (uintptr_t)&enter;
	bwr.write_consumed = 0;
	bwr.read_size = sizeof(r);
	bwr.read_buffer = (uintptr_t)bad;
	expect("BINDER_WRITE_READ(bad read buffer)", ioctl(fd, BINDER_WRITE_READ, &bwr), EFAULT);
	if (bwr.write_consumed != sizeof(enter)) {
		printf("write_consumed after the bad read buffer: %llu\n",
		       (unsigned long long)bwr.write_consumed);
		failures++;
	}
	/* A write buffer larger than any request: the daemon does not try. */
	bwr = (struct binder_write_read){ .write_size = 1ull << 40,
					  .write_buffer = (uintptr_t)&enter };
	expect("BINDER_WRITE_READ(2^40 bytes)", ioctl(fd, BINDER_WRITE_READ, &bwr), EFAULT);
	expect("_IO('b', 99)", ioctl(fd, _IO('b', 99)), EINVAL);
	expect("_IOWR('b', 9, 8 bytes)", ioctl(fd, _IOWR('b', 9, uint64_t), &v), EINVAL);
	expect("TCGETS", ioctl(fd, TCGETS, &t), EINVAL);
	expect("BINDER_VERSION", ioctl(fd, BINDER_VERSION, &v), 0);
	expect("write", write(fd, "x", 1), EINVAL);
	close(fd);
	expect("BINDER_VERSION after close", ioctl(fd, BINDER_VERSION, &v), EBADF);
	if (failures)
		return 1;
	printf("hostile done\n");
	return 0;
}
