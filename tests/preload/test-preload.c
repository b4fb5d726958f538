/* SPDX-License-Identifier: MIT */
/*
 * The /dev/binder emulation, end to end: each test starts a private ubinderd
 * and runs a scenario of this same program through ubinder-run (so under
 * libubinder-preload.so), written against the kernel UAPI only, as a Binder
 * program would be. A scenario exits 0 when every check holds and says on
 * stderr which one did not.
 *
 * Run with a non-sanitized build: ASan's runtime must come first in the
 * library list, which LD_PRELOAD of another library breaks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/android/binder.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "harness.h"
#include "test-util.h"

#define MAP_SIZE (1 << 20)

/* ---- the scenario side (runs under the preload) ---------------------------- */

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: check failed: %s (errno %s)\n", __FILE__, \
				__LINE__, #cond, strerrorname_np(errno));                 \
			return 1;                                                         \
		}                                                                         \
	} while (0)

/* ioctl returning 0 or -errno. */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int version_of(int fd)
{
	struct binder_version v = { 0 };
	int r = xioctl(fd, BINDER_VERSION, &v);

	return r ? r : (int)v.protocol_version;
}

/* One BINDER_WRITE_READ; returns 0 or -errno, the read size in *rc. */
static int bwr(int fd, const void *w, size_t wlen, void *r, size_t rlen, uint64_t *rc)
{
	struct binder_write_read b = {
		.write_size = wlen,
		.write_buffer = (uintptr_t)w,
		.read_size = rlen,
		.read_buffer = (uintptr_t)r,
	};
	int err = xioctl(fd, BINDER_WRITE_READ, &b);

	if (rc)
		*rc = b.read_consumed;
	return err;
}

static int enter_looper(int fd)
{
	uint32_t cmd = BC_ENTER_LOOPER;

	return bwr(fd, &cmd, sizeof(cmd), NULL, 0, NULL);
}

/* Sends a transaction to handle 0 (write only). */
static int send_txn(int fd, uint32_t code, uint32_t flags)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) w = { .cmd = BC_TRANSACTION };
	static const char payload[8] = "payload";

	w.tr.code = code;
	w.tr.flags = flags;
	w.tr.data_size = sizeof(payload);
	w.tr.data.ptr.buffer = (uintptr_t)payload;
	return bwr(fd, &w, sizeof(w), NULL, 0, NULL);
}

/* Writes @w (@wlen bytes) with the first read, then reads until a return
 * code that is not BR_NOOP/BR_TRANSACTION_COMPLETE; returns it (0 if an
 * ioctl fails), with its transaction in *tr if it has one. */
static uint32_t write_read_until_item(int fd, const void *w, size_t wlen,
				      struct binder_transaction_data *tr)
{
	uint8_t buf[256];

	for (;;) {
		uint64_t rc = 0;
		size_t pos = 0;
		int err = bwr(fd, w, wlen, buf, sizeof(buf), &rc);

		w = NULL;
		wlen = 0;
		if (err)
			return 0;
		while (pos + 4 <= rc) {
			uint32_t cmd;

			memcpy(&cmd, buf + pos, 4);
			pos += 4;
			if (cmd == BR_NOOP || cmd == BR_TRANSACTION_COMPLETE ||
			    cmd == BR_SPAWN_LOOPER)
				continue;
			if ((cmd == BR_TRANSACTION || cmd == BR_REPLY) && tr)
				memcpy(tr, buf + pos, sizeof(*tr));
			return cmd;
		}
	}
}

static uint32_t read_until_item(int fd, struct binder_transaction_data *tr)
{
	return write_read_until_item(fd, NULL, 0, tr);
}

static int free_buffer(int fd, uint64_t buffer)
{
	struct {
		uint32_t cmd;
		uint64_t ptr;
	} __attribute__((packed)) w = { BC_FREE_BUFFER, buffer };

	return bwr(fd, &w, sizeof(w), NULL, 0, NULL);
}

/* Opens @dev (O_RDWR | O_CLOEXEC) and maps MAP_SIZE of it in *map; -1 if any of it fails. */
static int open_mapped(const char *dev, void **map)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	*map = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*map == MAP_FAILED || version_of(fd) != BINDER_CURRENT_PROTOCOL_VERSION)
		return -1;
	return fd;
}

/* Opens the device and becomes its context manager with a mapped region. */
static int open_manager(const char *dev, void **map)
{
	int fd = open_mapped(dev, map);

	if (fd < 0)
		return -1;
	for (int i = 0; i < 300 && xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL) == -EBUSY; i++)
		poll(NULL, 0, 10);
	if (enter_looper(fd))
		return -1;
	return fd;
}

/* Whether reading @addr faults (SIGSEGV/SIGBUS). */
static sigjmp_buf probe_jmp;
static void probe_fault(int sig)
{
	siglongjmp(probe_jmp, sig);
}
static bool readable(const void *addr)
{
	struct sigaction sa = { .sa_handler = probe_fault }, old_segv, old_bus;
	bool ok;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(probe_jmp, 1) == 0) {
		(void)*(const volatile uint8_t *)addr;
		ok = true;
	} else {
		ok = false;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ok;
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Waits until thread @tid sleeps (blocked in its read). */
static void wait_sleeping(pid_t tid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (int i = 0; i < 500; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		char *rp;

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && rp[2] == 'S') {
			poll(NULL, 0, 30);
			return;
		}
		poll(NULL, 0, 5);
	}
}

/* glibc's _FORTIFY_SOURCE entries of open, declared only inside its wrappers. */
int __open_2(const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* open, dup, close and the descriptor's own behaviour. */
static int scenario_open_close(void)
{
	int lowest = dup(0), fd, fd2, d, hw, vnd, bfs;
	FILE *f;
	char c;

	close(lowest);
	fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	CHECK(fd == lowest); /* the lowest free number, as open() gives */
	CHECK(version_of(fd) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	/* As the kernel's for any device opened O_RDWR (O_LARGEFILE included). */
	d = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(d >= 0 && fcntl(fd, F_GETFL) == fcntl(d, F_GETFL) && close(d) == 0);
	CHECK(read(fd, &c, 1) < 0 && errno == EINVAL); /* the device has no read() */
	CHECK(write(fd, &c, 1) < 0 && errno == EINVAL);

	d = dup(fd);
	CHECK(d >= 0 && fcntl(d, F_GETFD) == 0);
	CHECK(version_of(d) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(dup2(fd, 100) == 100 && version_of(100) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(dup3(fd, 101, O_CLOEXEC) == 101 && fcntl(101, F_GETFD) == FD_CLOEXEC);
	fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 200);
	CHECK(fd2 >= 200 && version_of(fd2) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(close(fd) == 0);
	CHECK(version_of(fd) == -EBADF);
	CHECK(version_of(d) == BINDER_CURRENT_PROTOCOL_VERSION); /* the same open file */
	/* dup2 over a Binder descriptor closes it. */
	CHECK(dup2(2, 100) == 100 &&
	      xioctl(100, BINDER_VERSION, &(struct binder_version){ 0 }) < 0);
	CHECK(close(100) == 0 && close(101) == 0 && close(fd2) == 0 && close(d) == 0);

	/* The _FORTIFY_SOURCE entries open the device; with flags that need a
	 * mode they abort, device or not, as libc's do. */
	d = __open_2("/dev/binder", O_RDWR | O_CLOEXEC);
	CHECK(d >= 0 && version_of(d) == BINDER_CURRENT_PROTOCOL_VERSION && close(d) == 0);
	d = __openat64_2(AT_FDCWD, "/dev/hwbinder", O_RDWR | O_CLOEXEC);
	CHECK(d >= 0 && version_of(d) == BINDER_CURRENT_PROTOCOL_VERSION && close(d) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(open("/dev/null", O_WRONLY), STDERR_FILENO); /* libc's message */
		__open_2("/dev/binder", O_RDWR | O_CREAT);
		_exit(0);
	}
	CHECK(wait_child(pid) == 128 + SIGABRT);

	/* The flags of open(). */
	CHECK(open("/dev/binder", O_RDWR | O_DIRECTORY) < 0 && errno == ENOTDIR);
	CHECK(open("/dev/binder", O_RDWR | O_CREAT | O_EXCL, 0600) < 0 && errno == EEXIST);
	fd = open("/dev/binder", O_RDONLY | O_NONBLOCK);
	CHECK(fd >= 0 &&
	      (fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDONLY | O_NONBLOCK));
	CHECK(fcntl(fd, F_GETFD) == 0);
	CHECK(close(fd) == 0);

	/* Every device path and entry point. */
	hw = openat(AT_FDCWD, "/dev/hwbinder", O_RDWR);
	vnd = open64("//dev/./vndbinder", O_RDWR);
	bfs = open("/dev/binderfs/binder", O_RDWR);
	CHECK(hw >= 0 && vnd >= 0 && bfs >= 0);
	CHECK(version_of(hw) > 0 && version_of(vnd) > 0 && version_of(bfs) > 0);
	close(hw);
	close(vnd);
	close(bfs);
	CHECK(open("/dev/binderfs/binder-control", O_RDWR) < 0 && errno == ENOENT);
	f = fopen("/dev/binder", "re");
	CHECK(f && version_of(fileno(f)) == BINDER_CURRENT_PROTOCOL_VERSION);
	fd = fileno(f);
	CHECK(fclose(f) == 0 && version_of(fd) == -EBADF);
	fd = creat("/dev/binder", 0600);
	CHECK(fd >= 0 && version_of(fd) == BINDER_CURRENT_PROTOCOL_VERSION && close(fd) == 0);
	return 0;
}

/* The emulation's own descriptors are invisible to close, close_range and dup2. */
static int scenario_hidden_fds(void)
{
	int fd = open("/dev/binder", O_RDWR), hidden = -1;
	struct dirent *de;
	void *map;
	DIR *dir;

	CHECK(fd >= 0 && version_of(fd) > 0);
	map = mmap(NULL, MAP_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED);
	dir = opendir("/proc/self/fd");
	CHECK(dir);
	while ((de = readdir(dir)) != NULL) {
		int n = atoi(de->d_name);
		struct stat st;

		if (n > fd && fstat(n, &st) == 0 && S_ISSOCK(st.st_mode))
			hidden = n;
	}
	closedir(dir);
	CHECK(hidden > fd);
	CHECK(close(hidden) < 0 && errno == EBADF);
	CHECK(dup2(1, hidden) < 0 && errno == EBUSY);
	CHECK(fcntl(hidden, F_GETFD) < 0 && errno == EBADF);
	/* close_range over everything: the program's descriptors go, ours stay. */
	CHECK(close_range(3, ~0u, 0) == 0);
	CHECK(version_of(fd) == -EBADF);
	CHECK(fcntl(hidden, F_GETFD) < 0 && errno == EBADF); /* still hidden */
	CHECK(munmap(map, MAP_SIZE) == 0);
	fd = open("/dev/binder", O_RDWR);
	CHECK(fd >= 0 && version_of(fd) > 0);
	closefrom(3);
	CHECK(version_of(fd) == -EBADF);
	return 0;
}

/* mmap and munmap, with the kernel's refusals. */
static int scenario_mmap(void)
{
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC), wr, d;
	void *m;

	CHECK(fd >= 0);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED && errno == EINVAL);
	m = mmap64(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && readable(m));
	CHECK(mprotect(m, 4096, PROT_READ | PROT_WRITE) < 0 && errno == EACCES);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == EBUSY);
	d = dup(fd);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, d, 0) == MAP_FAILED && errno == EBUSY);
	CHECK(munmap(m, MAP_SIZE) == 0 && !readable(m));
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == EBUSY);
	/* The VFS's refusals of mapping flags, before the driver sees them. */
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, 0, fd, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_TYPE, fd, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, fd, 0) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0) ==
		      MAP_FAILED &&
	      errno == EOPNOTSUPP);
	CHECK(mmap(NULL, SIZE_MAX, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == ENOMEM);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, (off_t)-4096) == MAP_FAILED &&
	      errno == EOVERFLOW);
	/* What libgbinder maps: private, no swap reserved, at a page offset. */
	d = open("/dev/binder", O_RDWR | O_CLOEXEC);
	m = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE | MAP_NORESERVE, d, 4096);
	CHECK(m != MAP_FAILED && readable(m) && munmap(m, MAP_SIZE) == 0 && close(d) == 0);
	d = open("/dev/binder", O_RDWR | O_CLOEXEC);
	m = mmap(NULL, MAP_SIZE, PROT_READ, MAP_SHARED_VALIDATE | MAP_NORESERVE, d, 0);
	CHECK(m != MAP_FAILED && munmap(m, MAP_SIZE) == 0 && close(d) == 0);
	/* Opened write-only: no mapping at all (the VFS's EACCES). */
	wr = open("/dev/binder", O_WRONLY);
	CHECK(wr >= 0);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, wr, 0) == MAP_FAILED && errno == EACCES);
	/* Fixed address, odd size, PROT_NONE. */
	m = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK(mmap(m, 5000, PROT_NONE, MAP_SHARED | MAP_FIXED, wr = open("/dev/binder", O_RDONLY),
		   0) == m);
	CHECK(!readable(m) && mprotect(m, 4096, PROT_READ) == 0 && readable(m));
	/* The region is not inherited (VM_DONTCOPY). */
	pid_t pid = fork();
	if (pid == 0)
		_exit(readable(m) ? 1 : 0);
	CHECK(wait_child(pid) == 0);
	return 0;
}

/* ioctl errnos (kernel-facts.md 1). */
static int scenario_ioctl(void)
{
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC), n = 0;
	struct binder_write_read b = { 0 };
	struct termios tio;

	CHECK(fd >= 0);
	CHECK(xioctl(fd, _IO('b', 99), NULL) == -EINVAL);
	CHECK(xioctl(fd, _IOWR('b', 1, char[32]), &b) == -EINVAL);
	CHECK(xioctl(fd, TCGETS, &tio) == -EINVAL);
	CHECK(xioctl(fd, FIONREAD, &n) == -EINVAL);
	CHECK(xioctl(fd, BINDER_WRITE_READ, NULL) == -EFAULT);
	CHECK(xioctl(fd, BINDER_WRITE_READ, (void *)8) == -EFAULT);
	CHECK(xioctl(fd, BINDER_VERSION, NULL) == -EINVAL);
	CHECK(xioctl(fd, BINDER_SET_MAX_THREADS, NULL) == -EINVAL);
	CHECK(xioctl(fd, BINDER_GET_EXTENDED_ERROR, NULL) == -EFAULT);
	CHECK(xioctl(fd, BINDER_SET_IDLE_TIMEOUT, &(int64_t){ 0 }) == -EINVAL);
	/* The kernel reads the request's low 32 bits: an int request
	 * (sign-extended) and a garbage upper half work as the plain one. */
	struct binder_version v = { 0 };
	CHECK(xioctl(fd, (unsigned long)(long)(int)BINDER_VERSION, &v) == 0 &&
	      v.protocol_version == BINDER_CURRENT_PROTOCOL_VERSION);
	v.protocol_version = 0;
	CHECK(xioctl(fd, 0x5a5a5a5a00000000ul | BINDER_VERSION, &v) == 0 &&
	      v.protocol_version == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(xioctl(fd, (unsigned long)(long)(int)BINDER_SET_MAX_THREADS, &(uint32_t){ 4 }) == 0);
	uint32_t looper = BC_ENTER_LOOPER;
	int other = open("/dev/binder", O_RDWR | O_CLOEXEC); /* its thread may loop */
	b = (struct binder_write_read){ .write_size = 4, .write_buffer = (uintptr_t)&looper };
	CHECK(xioctl(other, (unsigned long)(long)(int)BINDER_WRITE_READ, &b) == 0 &&
	      b.write_consumed == 4 && close(other) == 0);
	CHECK(xioctl(fd, 0xffffffff00000000ul | _IO('b', 99), NULL) == -EINVAL);
	CHECK(xioctl(fd, 0xffffffff00000000ul | FIOCLEX, NULL) == 0 &&
	      fcntl(fd, F_GETFD) == FD_CLOEXEC);
	/* Another descriptor's ioctl reaches the kernel as it was. */
	int pipefd[2];
	CHECK(pipe(pipefd) == 0 && write(pipefd[1], "ab", 2) == 2);
	CHECK(xioctl(pipefd[0], 0xffffffff00000000ul | FIONREAD, &n) == 0 && n == 2);
	CHECK(close(pipefd[0]) == 0 && close(pipefd[1]) == 0);
	/* Then a fresh Binder thread, whose first read returns at once. */
	CHECK(xioctl(fd, BINDER_THREAD_EXIT, NULL) == 0);
	n = 1;
	CHECK(xioctl(fd, FIONBIO, &n) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
	n = 0;
	CHECK(xioctl(fd, FIONBIO, &n) == 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK));
	CHECK(xioctl(fd, FIONCLEX, NULL) == 0 && fcntl(fd, F_GETFD) == 0);
	CHECK(xioctl(fd, FIOCLEX, NULL) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	/* A non-blocking read with no work: EAGAIN, and BR_NOOP already written. */
	uint32_t rb[4] = { 0 };
	uint64_t rc = 9;
	CHECK(bwr(fd, NULL, 0, rb, sizeof(rb), NULL) == 0); /* a fresh thread returns at once */
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	memset(rb, 0, sizeof(rb));
	CHECK(bwr(fd, NULL, 0, rb, sizeof(rb), &rc) == -EAGAIN && rc == 0 && rb[0] == BR_NOOP);
	/* The flag is the open file's, which another process shares: set there
	 * behind our back (a raw system call), it holds here for the next read
	 * (after the one the child's exit flush may end at once, as a close's
	 * flush does in the kernel). */
	CHECK(fcntl(fd, F_SETFL, 0) == 0);
	pid_t setter = fork();
	if (setter == 0)
		_exit(syscall(SYS_fcntl, fd, F_SETFL, O_NONBLOCK) == 0 ? 0 : 1);
	int setter_status = -1, nb_err;
	CHECK(setter > 0 && waitpid(setter, &setter_status, 0) == setter && setter_status == 0);
	nb_err = bwr(fd, NULL, 0, rb, sizeof(rb), NULL);
	if (nb_err == 0)
		nb_err = bwr(fd, NULL, 0, rb, sizeof(rb), NULL);
	CHECK(nb_err == -EAGAIN);
	/* The write part read from unmapped memory. */
	CHECK(bwr(fd, NULL, 4, NULL, 0, NULL) == -EFAULT);
	return 0;
}

/*
 * Forks a client process: it opens /dev/binder and exits with what
 * @client(fd, go) returns (1 if the open fails), where reading a byte from
 * @go waits for the parent's next write to ready[1] (ready[0] is the
 * client's alone). Returns its pid, or -1 if the pipe or the fork fails.
 */
static pid_t fork_client(int ready[2], int (*client)(int fd, int go))
{
	pid_t pid;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);

		close(ready[1]); /* a parent that fails and exits ends the client's wait */
		_exit(fd < 0 || version_of(fd) <= 0 ? 1 : client(fd, ready[0]));
	}
	close(ready[0]);
	return pid;
}

/* In a client: waits for the parent's go; 0, or -1 if the parent is gone. */
static int wait_go(int go)
{
	char c;

	return read(go, &c, 1) == 1 ? 0 : -1;
}

/* Two oneways, each once the manager is ready for it. */
static int poll_client(int fd, int go)
{
	if (wait_go(go) || send_txn(fd, 1, TF_ONE_WAY) || wait_go(go) ||
	    send_txn(fd, 2, TF_ONE_WAY))
		return 1;
	return 0;
}

/* poll, epoll and select see the daemon's readiness. */
static int scenario_poll(void)
{
	int ready[2], fd, ep;
	void *map;
	pid_t pid = fork_client(ready, poll_client);

	CHECK(pid >= 0);
	fd = open_manager("/dev/binder", &map);
	CHECK(fd >= 0);
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT };
	struct binder_transaction_data tr;
	CHECK(poll(&pf, 1, 0) == 0);
	CHECK(write(ready[1], "1", 1) == 1);
	CHECK(poll(&pf, 1, 10000) == 1 && pf.revents == POLLIN);
	CHECK(read_until_item(fd, &tr) == BR_TRANSACTION && tr.code == 1);
	CHECK(tr.data.ptr.buffer >= (uintptr_t)map &&
	      tr.data.ptr.buffer < (uintptr_t)map + MAP_SIZE);
	CHECK(memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, "payload", 8) == 0);
	CHECK(free_buffer(fd, tr.data.ptr.buffer) == 0);
	CHECK(poll(&pf, 1, 0) == 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	CHECK(epoll_wait(ep, &out, 1, 0) == 0);
	CHECK(write(ready[1], "2", 1) == 1);
	CHECK(epoll_wait(ep, &out, 1, 10000) == 1 && out.events == EPOLLIN);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	CHECK(select(fd + 1, &rs, NULL, NULL, &(struct timeval){ 0, 0 }) == 1);
	CHECK(read_until_item(fd, &tr) == BR_TRANSACTION && tr.code == 2);
	CHECK(free_buffer(fd, tr.data.ptr.buffer) == 0);
	CHECK(epoll_wait(ep, &out, 1, 0) == 0);
	CHECK(wait_child(pid) == 0);
	return 0;
}

/* A thread that exits while handling a call: BINDER_THREAD_EXIT, the caller
 * gets BR_DEAD_REPLY. Also: each thread is its own Binder thread. */
static int manager_fd;
static void *handle_then_exit(void *arg)
{
	struct binder_transaction_data tr;

	(void)arg;
	if (read_until_item(manager_fd, &tr) != BR_TRANSACTION)
		return (void *)1;
	pthread_exit(NULL); /* no reply */
}

/* A call whose handling thread exits: BR_DEAD_REPLY. */
static int dead_reply_client(int fd, int go)
{
	if (wait_go(go) || send_txn(fd, 7, 0))
		return 1;
	return read_until_item(fd, NULL) == BR_DEAD_REPLY ? 0 : 2;
}

static int scenario_thread_exit(void)
{
	int ready[2];
	pthread_t t;
	void *map, *ret;
	pid_t pid = fork_client(ready, dead_reply_client);

	CHECK(pid >= 0);
	manager_fd = open_manager("/dev/binder", &map);
	CHECK(manager_fd >= 0);
	CHECK(pthread_create(&t, NULL, handle_then_exit, NULL) == 0);
	CHECK(write(ready[1], "1", 1) == 1);
	CHECK(pthread_join(t, &ret) == 0 && ret == NULL);
	CHECK(wait_child(pid) == 0);
	return 0;
}

/* Flush: closing a dup, or a forked child's exit, ends a blocked read. */
static int flush_fd;
static pid_t reader_tid;
static void *blocked_reader(void *arg)
{
	uint32_t buf[16];
	uint64_t rc = 0;
	int err;

	(void)arg;
	reader_tid = (pid_t)syscall(SYS_gettid);
	if (enter_looper(flush_fd))
		return (void *)1;
	err = bwr(flush_fd, NULL, 0, buf, sizeof(buf), &rc);
	return (void *)(uintptr_t)(err == 0 && rc == 4 && buf[0] == BR_NOOP ? 0 : 2);
}

/* Starts @reader in *t and waits until it is blocked in its read. */
static int start_reader(pthread_t *t, void *(*reader)(void *))
{
	reader_tid = 0;
	if (pthread_create(t, NULL, reader, NULL))
		return -1;
	while (!__atomic_load_n(&reader_tid, __ATOMIC_SEQ_CST))
		poll(NULL, 0, 1);
	wait_sleeping(reader_tid);
	return 0;
}

static int scenario_flush(void)
{
	void *map, *ret;
	pthread_t t;
	pid_t pid;
	int d;

	flush_fd = open_mapped("/dev/binder", &map);
	CHECK(flush_fd >= 0);

	d = dup(flush_fd);
	CHECK(start_reader(&t, blocked_reader) == 0);
	CHECK(close(d) == 0);
	CHECK(pthread_join(t, &ret) == 0 && ret == NULL);

	/* A forked child uses the parent's descriptor, cannot map it, and its
	 * exit flushes the parent's process. */
	CHECK(start_reader(&t, blocked_reader) == 0);
	pid = fork();
	if (pid == 0) {
		if (version_of(flush_fd) != BINDER_CURRENT_PROTOCOL_VERSION)
			_exit(1);
		if (mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, flush_fd, 0) != MAP_FAILED ||
		    errno != EINVAL)
			_exit(2);
		_exit(readable(map) ? 3 : 0);
	}
	CHECK(wait_child(pid) == 0);
	CHECK(pthread_join(t, &ret) == 0 && ret == NULL);

	/* Closing the last descriptor while mapped: the read ends, the fd is gone. */
	CHECK(start_reader(&t, blocked_reader) == 0);
	CHECK(close(flush_fd) == 0);
	CHECK(pthread_join(t, &ret) == 0 && ret == NULL);
	CHECK(version_of(flush_fd) == -EBADF);
	CHECK(munmap(map, MAP_SIZE) == 0);
	return 0;
}

/* ioctl is no cancellation point: a cancelled thread blocked in a read is
 * cancelled only after the read returns, as with the kernel. */
static volatile int cancel_read_done;
static void *cancelled_reader(void *arg)
{
	uint32_t buf[16];

	(void)arg;
	reader_tid = (pid_t)syscall(SYS_gettid);
	if (enter_looper(flush_fd))
		return (void *)1;
	(void)bwr(flush_fd, NULL, 0, buf, sizeof(buf), NULL);
	cancel_read_done = 1;
	for (;;)
		poll(NULL, 0, 10); /* a cancellation point */
}

static int scenario_cancel(void)
{
	void *map, *ret;
	pthread_t t;
	int d;

	flush_fd = open_mapped("/dev/binder", &map);
	CHECK(flush_fd >= 0);
	d = dup(flush_fd);
	CHECK(start_reader(&t, cancelled_reader) == 0);
	CHECK(pthread_cancel(t) == 0);
	poll(NULL, 0, 100);
	CHECK(!cancel_read_done); /* still blocked in its read */
	CHECK(close(d) == 0);	  /* the flush ends the read */
	CHECK(pthread_join(t, &ret) == 0 && ret == PTHREAD_CANCELED && cancel_read_done);
	return 0;
}

/* exec keeps a descriptor without O_CLOEXEC (same Binder process, no
 * mapping) and closes one with it. */
static int scenario_exec(const char *self)
{
	int keep = open("/dev/binder", O_RDWR), gone = open("/dev/hwbinder", O_RDWR | O_CLOEXEC);
	char a[16], b[16];
	void *map;

	CHECK(keep >= 0 && gone >= 0 && version_of(keep) > 0);
	map = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, keep, 0);
	CHECK(map != MAP_FAILED);
	snprintf(a, sizeof(a), "%d", keep);
	snprintf(b, sizeof(b), "%d", gone);
	execl(self, self, "--scenario", "exec-child", a, b, (char *)NULL);
	CHECK(!"execl");
	return 1;
}

static int scenario_exec_child(int keep, int gone)
{
	CHECK(version_of(keep) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, keep, 0) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(fcntl(gone, F_GETFD) < 0 && errno == EBADF);
	/* Still the node it was opened from. */
	struct stat a, b;
	CHECK(fstat(keep, &a) == 0 && stat("/dev/binder", &b) == 0 && S_ISCHR(a.st_mode) &&
	      a.st_ino == b.st_ino && a.st_rdev == b.st_rdev);
	CHECK(dup2(keep, keep + 1) == keep + 1 && close(keep) == 0);
	CHECK(version_of(keep + 1) == BINDER_CURRENT_PROTOCOL_VERSION);
	return 0;
}

/* Many threads opening, duplicating, closing and using descriptors at once. */
static int shared_fd;
static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		int fd = open(i % 2 ? "/dev/binder" : "/dev/hwbinder", O_RDWR | O_CLOEXEC);
		int d = fd >= 0 ? dup(fd) : -1;

		if (fd < 0 || d < 0 || version_of(fd) <= 0 || version_of(shared_fd) <= 0)
			return (void *)1;
		if (close(fd) || version_of(d) <= 0 || close(d))
			return (void *)2;
	}
	return NULL;
}

static int scenario_threads(void)
{
	pthread_t t[8];
	void *ret;

	shared_fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	CHECK(shared_fd >= 0);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 8; i++)
			CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
		for (size_t i = 0; i < 8; i++)
			CHECK(pthread_join(t[i], &ret) == 0 && ret == NULL);
	}
	return 0;
}

/* Calls from many client threads to many looper threads, then a close that
 * ends every looper's read (flush). */
#define STRESS_CLIENTS 8
#define STRESS_LOOPERS 4
#define STRESS_CALLS   200
static int stress_fd;
static volatile int stress_stop;

static void *stress_looper(void *arg)
{
	uint8_t buf[512];

	(void)arg;
	if (enter_looper(stress_fd))
		return (void *)1;
	for (;;) {
		uint64_t rc = 0;
		size_t pos = 0;
		bool work = false;

		/* Once the descriptor is closed, a looper not waiting at that
		 * moment gets EBADF, as with the kernel. */
		if (bwr(stress_fd, NULL, 0, buf, sizeof(buf), &rc))
			return stress_stop ? NULL : (void *)2;
		while (pos + 4 <= rc) {
			struct binder_transaction_data tr;
			uint64_t echo;
			uint32_t cmd;
			struct {
				uint32_t free_cmd;
				uint64_t ptr;
				uint32_t reply_cmd;
				struct binder_transaction_data tr;
			} __attribute__((packed)) w;

			memcpy(&cmd, buf + pos, 4);
			pos += 4 + _IOC_SIZE(cmd);
			if (cmd != BR_TRANSACTION)
				continue;
			work = true;
			memcpy(&tr, buf + pos - sizeof(tr), sizeof(tr));
			memcpy(&echo, (const void *)(uintptr_t)tr.data.ptr.buffer, sizeof(echo));
			memset(&w, 0, sizeof(w));
			w.free_cmd = BC_FREE_BUFFER;
			w.ptr = tr.data.ptr.buffer;
			w.reply_cmd = BC_REPLY;
			w.tr.data_size = sizeof(echo);
			w.tr.data.ptr.buffer = (uintptr_t)&echo;
			if (bwr(stress_fd, &w, sizeof(w), NULL, 0, NULL))
				return (void *)3;
		}
		if (!work && stress_stop)
			return NULL;
	}
}

static void *stress_client(void *arg)
{
	int fd = *(int *)arg;

	for (uint64_t i = 0; i < STRESS_CALLS; i++) {
		uint64_t value = ((uint64_t)gettid() << 32) | i, got;
		struct binder_transaction_data tr;
		struct {
			uint32_t cmd;
			struct binder_transaction_data tr;
		} __attribute__((packed)) w = { .cmd = BC_TRANSACTION };

		w.tr.data_size = sizeof(value);
		w.tr.data.ptr.buffer = (uintptr_t)&value;
		if (bwr(fd, &w, sizeof(w), NULL, 0, NULL) || read_until_item(fd, &tr) != BR_REPLY)
			return (void *)1;
		memcpy(&got, (const void *)(uintptr_t)tr.data.ptr.buffer, sizeof(got));
		if (got != value || free_buffer(fd, tr.data.ptr.buffer))
			return (void *)2;
	}
	return NULL;
}

/* STRESS_CLIENTS threads calling at once on one descriptor. */
static int stress_clients(int fd, int go)
{
	pthread_t clients[STRESS_CLIENTS];
	bool ok = true;
	void *ret;

	if (mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED || wait_go(go))
		return 1;
	for (size_t i = 0; i < STRESS_CLIENTS; i++)
		pthread_create(&clients[i], NULL, stress_client, &fd);
	for (size_t i = 0; i < STRESS_CLIENTS; i++)
		ok = pthread_join(clients[i], &ret) == 0 && ret == NULL && ok;
	return ok ? 0 : 2;
}

static int scenario_stress(void)
{
	pthread_t loopers[STRESS_LOOPERS];
	int ready[2];
	void *map, *ret;
	pid_t pid = fork_client(ready, stress_clients);

	CHECK(pid >= 0);
	stress_fd = open_manager("/dev/binder", &map);
	CHECK(stress_fd >= 0);
	for (size_t i = 0; i < STRESS_LOOPERS; i++)
		CHECK(pthread_create(&loopers[i], NULL, stress_looper, NULL) == 0);
	CHECK(write(ready[1], "1", 1) == 1);
	CHECK(wait_child(pid) == 0);
	stress_stop = 1;
	CHECK(close(stress_fd) == 0); /* flushes: every looper's read returns */
	for (size_t i = 0; i < STRESS_LOOPERS; i++)
		CHECK(pthread_join(loopers[i], &ret) == 0 && ret == NULL);
	return 0;
}

/* The device Android 11+ libbinder opens for @driver: it checks access()
 * first and falls back to /dev/binder. */
static const char *libbinder_driver(const char *driver)
{
	return access(driver, R_OK) == -1 ? "/dev/binder" : driver;
}

/* UBINDER_DEVICES maps a path to a context, or leaves it alone. */
static int scenario_devices(void)
{
	void *m1;
	int mine = open_manager("/dev/mybinder", &m1);
	int vnd = open("/dev/vndbinder", O_RDWR);
	int other = open("/dev/binder", O_RDWR), other_errno = errno;

	CHECK(mine >= 0 && vnd >= 0);
	/* /dev/mybinder is the vndbinder context: its manager is taken. */
	CHECK(xioctl(vnd, BINDER_SET_CONTEXT_MGR, NULL) == -EBUSY);
	/* /dev/binder is not emulated here: the real file system has none. */
	CHECK(other < 0 && other_errno == ENOENT);
	/* Two paths of one context: one node, as hard links. */
	struct stat a, b;
	CHECK(stat("/dev/mybinder", &a) == 0 && stat("/dev/vndbinder", &b) == 0);
	CHECK(S_ISCHR(a.st_mode) && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev);
	CHECK(fstat(mine, &b) == 0 && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev);
	CHECK(stat("/dev/binder", &a) < 0 && errno == ENOENT);
	/* A mapping to something that is not a socket: no device, for open too. */
	CHECK(stat("/dev/fakebinder", &a) < 0 && errno == ENOENT);
	CHECK(access("/dev/fakebinder", F_OK) < 0 && errno == ENOENT);
	CHECK(open("/dev/fakebinder", O_RDWR) < 0 && errno == ENOENT);
	CHECK(strcmp(libbinder_driver("/dev/fakebinder"), "/dev/binder") == 0);
	return 0;
}

/* glibc's entries for binaries built before 2.33 (no longer declared). */
int __xstat(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);

/* Whether @st is the emulated node of a Binder device. */
static bool is_device_node(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && (st->st_mode & 07777) == 0666 && st->st_nlink == 1 &&
	       st->st_uid == 0 && major(st->st_rdev) == 10 && st->st_size == 0;
}

static bool same_node(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_rdev == b->st_rdev &&
	       a->st_mode == b->st_mode;
}

/* The kernel's own answer, past any interposition. */
static int sys_stat(const char *path, struct stat *st, int flags)
{
	return syscall(SYS_newfstatat, AT_FDCWD, path, st, flags) < 0 ? -errno : 0;
}

/* access, stat and statx at the device paths and on the descriptors. */
static int scenario_nodes(void)
{
	struct stat st, st2, ref, sys;
	struct statx stx;
	int fd, p[2];

	/* access: the node exists, is readable and writable, not executable. */
	CHECK(access("/dev/binder", F_OK) == 0 && access("/dev/binder", R_OK | W_OK) == 0);
	CHECK(access("/dev/vndbinder", R_OK) == 0 && access("/dev/hwbinder", W_OK) == 0);
	CHECK(access("/dev/binder", X_OK) < 0 && errno == EACCES);
	CHECK(euidaccess("/dev/vndbinder", R_OK | W_OK) == 0 && eaccess("/dev/binder", F_OK) == 0);
	CHECK(faccessat(AT_FDCWD, "/dev/vndbinder", R_OK | W_OK, AT_EACCESS) == 0);
	CHECK(faccessat(-1, "//dev/./binder", R_OK, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(access("/dev/binderfs/nothing", F_OK) < 0 && errno == ENOENT); /* no daemon context */
	CHECK(access("/dev/binder/", F_OK) < 0 && errno == ENOTDIR);
	/* So libbinder stays on /dev/vndbinder, a context of its own. */
	CHECK(strcmp(libbinder_driver("/dev/vndbinder"), "/dev/vndbinder") == 0);
	fd = open(libbinder_driver("/dev/vndbinder"), O_RDWR | O_CLOEXEC);
	int other = open("/dev/binder", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && other >= 0 && xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL) == 0 &&
	      xioctl(other, BINDER_SET_CONTEXT_MGR, NULL) == 0);
	CHECK(close(fd) == 0 && close(other) == 0);
	/* What the kernel refuses before the lookup. */
	CHECK(access("/dev/binder", 8) < 0 && errno == EINVAL);
	CHECK(faccessat(AT_FDCWD, "/dev/binder", R_OK, 0x10000000) < 0 && errno == EINVAL);

	/* stat and its relatives agree on one node per device. */
	CHECK(stat("/dev/binder", &ref) == 0 && is_device_node(&ref));
	CHECK(lstat("/dev/binder", &st) == 0 && same_node(&st, &ref));
	CHECK(stat64("/dev/binder", (struct stat64 *)&st) == 0 && same_node(&st, &ref));
	CHECK(lstat64("/dev/binder", (struct stat64 *)&st) == 0 && same_node(&st, &ref));
	CHECK(fstatat(AT_FDCWD, "/dev/binder", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	      same_node(&st, &ref));
	CHECK(fstatat64(AT_FDCWD, "/dev/binder", (struct stat64 *)&st, 0) == 0 &&
	      same_node(&st, &ref));
	CHECK(__xstat(1, "/dev/binder", &st) == 0 && same_node(&st, &ref));
	CHECK(__fxstatat(1, AT_FDCWD, "/dev/binder", &st, 0) == 0 && same_node(&st, &ref));
	CHECK(__xstat(99, "/dev/binder", &st) < 0 && errno == EINVAL);
	CHECK(stat("/dev/hwbinder", &st) == 0 && is_device_node(&st) && st.st_rdev != ref.st_rdev);
	CHECK(stat("/dev/vndbinder", &st2) == 0 && is_device_node(&st2) &&
	      st2.st_rdev != ref.st_rdev && st2.st_rdev != st.st_rdev);
	CHECK(statx(AT_FDCWD, "/dev/binder", 0, STATX_BASIC_STATS, &stx) == 0);
	CHECK((stx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS && S_ISCHR(stx.stx_mode) &&
	      (stx.stx_mode & 07777) == 0666 && stx.stx_ino == ref.st_ino &&
	      makedev(stx.stx_rdev_major, stx.stx_rdev_minor) == ref.st_rdev &&
	      makedev(stx.stx_dev_major, stx.stx_dev_minor) == ref.st_dev);
	/* binderfs names of a context are links of its node; its control device is none. */
	CHECK(stat("/dev/binderfs/binder", &st) == 0 && same_node(&st, &ref));
	CHECK(stat("/dev/binderfs/binder-control", &st) < 0 && errno == ENOENT);
	CHECK(stat("/dev/binder/.", &st) < 0 && errno == ENOTDIR);
	CHECK(stat("/dev/binderfs/nothing", &st) < 0 && errno == ENOENT);
	CHECK(fstatat(AT_FDCWD, "/dev/binder", &st, 0x10000000) < 0 && errno == EINVAL);
	CHECK(statx(AT_FDCWD, "/dev/binder", AT_STATX_SYNC_TYPE, STATX_BASIC_STATS, &stx) < 0 &&
	      errno == EINVAL);
	CHECK(statx(AT_FDCWD, "/dev/binder", 0, STATX__RESERVED, &stx) < 0 && errno == EINVAL);
	/* A buffer the kernel cannot write: its EFAULT, no crash. */
	CHECK(stat("/dev/binder", (struct stat *)8) < 0 && errno == EFAULT);
	CHECK(statx(AT_FDCWD, "/dev/binder", 0, STATX_BASIC_STATS, (struct statx *)8) < 0 &&
	      errno == EFAULT);

	/* An open descriptor is that node too. */
	fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && same_node(&st, &ref));
	CHECK(fstat64(fd, (struct stat64 *)&st) == 0 && same_node(&st, &ref));
	CHECK(__fxstat(1, fd, &st) == 0 && same_node(&st, &ref));
	CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && same_node(&st, &ref));
	CHECK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 && S_ISCHR(stx.stx_mode) &&
	      stx.stx_ino == ref.st_ino);
	CHECK(faccessat(fd, "", R_OK | W_OK, AT_EMPTY_PATH) == 0);
	CHECK(fstatat(fd, "x", &st, 0) < 0 && errno == ENOTDIR); /* not a directory */
	CHECK(fstat(fd, (struct stat *)8) < 0 && errno == EFAULT);
	CHECK(close(fd) == 0 && fstat(fd, &st) < 0 && errno == EBADF);

	/* Anything else is the kernel's, unchanged. */
	CHECK(stat("/dev/null", &st) == 0 && sys_stat("/dev/null", &sys, 0) == 0 &&
	      same_node(&st, &sys) && st.st_mtim.tv_nsec == sys.st_mtim.tv_nsec);
	CHECK(stat("/nonexistent/binder", &st) < 0 && errno == ENOENT);
	CHECK(access("/dev/null", X_OK) < 0 && errno == EACCES && access("/", X_OK) == 0);
	CHECK(pipe(p) == 0 && fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(fstatat(p[1], "", &st, AT_EMPTY_PATH) == 0 && S_ISFIFO(st.st_mode));
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
	return 0;
}

/* A socket in a directory the client does not trust: the node exists, but
 * neither access(R_OK|W_OK) nor open lets the program use it. */
static int scenario_untrusted(void)
{
	struct stat st;

	CHECK(stat("/dev/untrusted", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK(access("/dev/untrusted", F_OK) == 0);
	CHECK(access("/dev/untrusted", R_OK) < 0 && errno == EACCES);
	CHECK(faccessat(AT_FDCWD, "/dev/untrusted", W_OK, AT_EACCESS) < 0 && errno == EACCES);
	CHECK(open("/dev/untrusted", O_RDWR | O_CLOEXEC) < 0 && errno == EACCES);
	CHECK(access("/dev/binder", R_OK | W_OK) == 0); /* the trusted one still is */
	return 0;
}

/* ---- large transactions staged in the outbox (docs/emulation.md) ---------- */

#define BIG_MAP	      (4u << 20)   /* regions for 1 MiB calls */
#define STOP_CODE     99u	   /* the echo server replies to it, then exits */
#define ONEWAY_CHECK  2u	   /* oneway: the server checks the bytes (echo_server) */
#define ONEWAY_STOP   3u	   /* the same, then the server exits */
#define REPLY_ALONE   4u	   /* the server writes its reply alone, then reads (libgbinder) */
#define CALLER_KILLED 5u	   /* the server tells caller_killed[1], waits for resume[0] */
#define STAGE_AFTER   6u	   /* the server replies, then at once stages a call of its own */
#define OUTBOX_REPORT 7u	   /* the server replies with its outbox's used pages */
#define EXIT_AFTER    8u	   /* the server replies, then its process exits at once */
#define UBT_STAGE_MIN (16u * 1024) /* transport.h's UBT_OUTBOX_MIN */

static int open_big(void)
{
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);

	if (fd < 0 || mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		return -1;
	return fd;
}

/* One BC_TRANSACTION (or BC_REPLY after BC_FREE_BUFFER of @free_buf, if
 * not 0) with @n bytes at @data, write only. */
static int send_data(int fd, uint32_t cmd, uint32_t code, const void *data, size_t n,
		     uint64_t free_buf)
{
	uint32_t flags = code == ONEWAY_CHECK || code == ONEWAY_STOP ? TF_ONE_WAY : 0;

	struct {
		uint32_t free_cmd;
		uint64_t buf;
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed))
	w = { BC_FREE_BUFFER, free_buf, cmd, { .code = code, .flags = flags } };
	size_t skip = free_buf ? 0 : offsetof(typeof(w), cmd);

	w.tr.data_size = n;
	w.tr.data.ptr.buffer = (uintptr_t)data;
	return bwr(fd, (uint8_t *)&w + skip, sizeof(w) - skip, NULL, 0, NULL);
}

/*
 * The reply as libbinder's looper sends it: [BC_FREE_BUFFER, BC_REPLY] and
 * a read in the same ioctl, which returns [BR_NOOP, BR_TRANSACTION_COMPLETE]
 * (under the emulation, often locally: the ticket of docs/protocol.md).
 */
static int send_reply(int fd, const void *data, size_t n, uint64_t free_buf)
{
	struct {
		uint32_t free_cmd;
		uint64_t buf;
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) w = { BC_FREE_BUFFER, free_buf, BC_REPLY, { .code = 0 } };
	uint32_t got[64];
	uint64_t consumed = 0;

	w.tr.data_size = n;
	w.tr.data.ptr.buffer = (uintptr_t)data;
	CHECK(bwr(fd, &w, sizeof(w), got, sizeof(got), &consumed) == 0);
	CHECK(consumed == 8 && got[0] == BR_NOOP && got[1] == BR_TRANSACTION_COMPLETE);
	return 0;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);

	for (size_t i = 0; p && i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 12));
	return p;
}

static size_t outbox_used_pages(void);

/* For CALLER_KILLED calls (scenario_ticket_caller_killed), set before the
 * echo server forks: it writes a byte to caller_killed[1] when the call is
 * in, and replies once it reads one from resume[0]. */
static int caller_killed[2] = { -1, -1 }, resume[2] = { -1, -1 };

/* The context manager in a child process: answers each call with a copy
 * (on its heap, not in its region) of what it received, until STOP_CODE. */
static int echo_server(int ready)
{
	int fd = open_big(), err = -EBUSY;
	uint64_t pending = 0;

	/* The previous server's exit may not have reached the daemon yet. */
	for (int i = 0; fd >= 0 && err == -EBUSY && i < 200; i++) {
		err = xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL);
		if (err == -EBUSY)
			usleep(5000);
	}
	CHECK(fd >= 0 && err == 0 && enter_looper(fd) == 0);
	CHECK(write(ready, "r", 1) == 1);
	for (;;) {
		struct binder_transaction_data tr;
		uint32_t br = read_until_item(fd, &tr);
		void *copy;

		CHECK(br == BR_TRANSACTION);
		if (tr.flags & TF_ONE_WAY) {
			/* A caller that cannot take a reply: its bytes must be
			 * pattern(n, 11), those of its data or, with one object,
			 * of the buffer that object names; ONEWAY_STOP ends the
			 * server too. */
			const uint8_t *got = (const void *)(uintptr_t)tr.data.ptr.buffer;
			size_t n = tr.data_size;
			uint8_t *want;

			if (tr.offsets_size) {
				const struct binder_buffer_object *bbo = (const void *)got;

				CHECK(tr.offsets_size == sizeof(binder_size_t) &&
				      n == sizeof(*bbo) && bbo->hdr.type == BINDER_TYPE_PTR);
				got = (const void *)(uintptr_t)bbo->buffer;
				n = bbo->length;
			}
			want = pattern(n, 11);
			CHECK(want && memcmp(want, got, n) == 0);
			free(want);
			CHECK(free_buffer(fd, tr.data.ptr.buffer) == 0);
			if (tr.code == ONEWAY_STOP)
				return 0;
			continue;
		}
		if (tr.code == OUTBOX_REPORT) {
			uint64_t used;

			/* Any ioctl first gives back what the last reply held. */
			CHECK(bwr(fd, NULL, 0, NULL, 0, NULL) == 0);
			used = outbox_used_pages();
			CHECK(send_reply(fd, &used, sizeof(used), tr.data.ptr.buffer) == 0);
			continue;
		}
		copy = malloc(tr.data_size ? tr.data_size : 1);
		CHECK(copy);
		memcpy(copy, (const void *)(uintptr_t)tr.data.ptr.buffer, tr.data_size);
		pending = tr.data.ptr.buffer;
		if (tr.code == CALLER_KILLED) {
			char c;

			CHECK(write(caller_killed[1], "k", 1) == 1 && read(resume[0], &c, 1) == 1);
		}
		if (tr.code == REPLY_ALONE) {
			/* Its completion comes with the next read (read_until_item),
			 * and makes the device readable at once, as the kernel's. */
			struct pollfd pf = { .fd = fd, .events = POLLIN };

			CHECK(send_data(fd, BC_REPLY, 0, copy, tr.data_size, pending) == 0);
			CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN);
		} else
			CHECK(send_reply(fd, copy, tr.data_size, pending) == 0);
		if (tr.code == STAGE_AFTER) {
			/* Staged before the daemon ran a reply completed locally:
			 * it must not take that reply's outbox pages. (A call to
			 * the context manager from its own process fails.) */
			memset(copy, 0xee, tr.data_size);
			CHECK(send_data(fd, BC_TRANSACTION, 1, copy, tr.data_size, 0) == 0);
			CHECK(read_until_item(fd, NULL) == BR_FAILED_REPLY);
		}
		free(copy);
		if (tr.code == STOP_CODE || tr.code == EXIT_AFTER)
			return 0;
	}
}

static pid_t start_echo_server(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* A scenario that fails leaves no server behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(echo_server(p[1]));
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/* A call of @n bytes of @data; returns its BR_ code; a reply must echo them. */
static uint32_t echo_call_as(int fd, const void *data, size_t n, uint32_t code, bool libbinder)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) w = { BC_TRANSACTION, { .code = code } };
	struct binder_transaction_data tr;
	uint32_t br;

	w.tr.data_size = n;
	w.tr.data.ptr.buffer = (uintptr_t)data;
	/* libbinder writes the call and reads in one ioctl; here by default
	 * the read comes apart, which closes the server's ticket if first. */
	if (libbinder)
		br = write_read_until_item(fd, &w, sizeof(w), &tr);
	else if (send_data(fd, BC_TRANSACTION, code, data, n, 0))
		return 0;
	else
		br = read_until_item(fd, &tr);
	if (br == BR_REPLY) {
		bool same = tr.data_size == n &&
			    memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, data, n) == 0;

		if (free_buffer(fd, tr.data.ptr.buffer) || !same)
			return 0;
	}
	return br;
}

static uint32_t echo_call(int fd, const void *data, size_t n, uint32_t code)
{
	return echo_call_as(fd, data, n, code, false);
}

static int stop_echo_server(int fd, pid_t server)
{
	CHECK(echo_call(fd, "", 0, STOP_CODE) == BR_REPLY);
	CHECK(wait_child(server) == 0);
	return 0;
}

/* The outbox the emulation mapped in this process: its range, or false. */
static bool find_outbox(uint8_t **base, size_t *size)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (strstr(line, "ubinder-outbox") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			*base = (uint8_t *)lo;
			*size = hi - lo;
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* The outbox's page states (common/outbox_pages.h): no page used but the
 * state pages (nothing staged is left behind), at least @free pages freed. */
static int outbox_settled(size_t free)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size, used = 0, freed = 0;
	uint8_t *base;

	CHECK(find_outbox(&base, &size));
	for (size_t i = 0; i < size / page; i++) {
		used += base[i] == 2;  /* OUTBOX_PAGE_USED */
		freed += base[i] == 1; /* OUTBOX_PAGE_FREE */
	}
	CHECK(used == (size / page + page - 1) / page && freed >= free);
	return 0;
}

/* Pages of this process's outbox in use, less its state pages (0 without one). */
static size_t outbox_used_pages(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size, used = 0;
	uint8_t *base;

	if (!find_outbox(&base, &size))
		return 0;
	for (size_t i = 0; i < size / page; i++)
		used += base[i] == 2; /* OUTBOX_PAGE_USED */
	return used - (size / page + page - 1) / page;
}

/* Calls around the staging threshold and of 1 MiB, each echoed intact; the
 * outbox is mapped at the first large call, and used from the next. */
static int scenario_outbox(void)
{
	static const size_t sizes[] = { UBT_STAGE_MIN - 1, UBT_STAGE_MIN, UBT_STAGE_MIN,
					64 * 1024,	   1 << 20,	  UBT_STAGE_MIN - 1 };
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *base;
	size_t size;

	CHECK(server > 0 && fd >= 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = pattern(sizes[i], (unsigned)i);

		CHECK(data && echo_call(fd, data, sizes[i], 1) == BR_REPLY);
		free(data);
		/* Below the threshold, no outbox; the first large call maps it. */
		CHECK(find_outbox(&base, &size) == (i > 0));
		if (i >= 2 && outbox_settled((sizes[i] >= UBT_STAGE_MIN ? sizes[i] : 1) / 4096))
			return 1;
	}
	return stop_echo_server(fd, server);
}

/* Echo calls whose replies the server's emulation completes locally (the
 * ticket covers 4096 bytes, or the size of the replier's last reply; one
 * byte more takes the ordinary way) when it
 * answers as libbinder does (the reply and a read); every other round it
 * answers as libgbinder (the reply alone, then a read), which takes no
 * ticket, and the device must be readable right after it. */
static int scenario_local_completion(void)
{
	static const size_t sizes[] = { 0, 128, 4096, 4097 };
	pid_t server = start_echo_server();
	int fd = open_big();

	CHECK(server > 0 && fd >= 0);
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint8_t *data = pattern(sizes[i] ? sizes[i] : 1, (unsigned)round);

			CHECK(data && echo_call(fd, data, sizes[i], round % 2 ? REPLY_ALONE : 1) ==
					      BR_REPLY);
			free(data);
		}
	}
	return stop_echo_server(fd, server);
}

/*
 * Replies staged in the outbox and completed locally (the daemon's offer
 * covers as much as the replier's last reply, up to 256 KiB): each comes
 * back intact though the server stages a call of its own into its outbox
 * right after its ioctl returned, before the daemon copied the reply; once
 * the daemon has, the pages come back (none is used when it reports).
 */
static int scenario_staged_completion(void)
{
	static const size_t sizes[] = { UBT_STAGE_MIN, 64 * 1024,      64 * 1024, 100000,
					256 * 1024,    256 * 1024 + 1, 1 << 20,	  20000 };
	pid_t server = start_echo_server();
	int fd = open_big();

	CHECK(server > 0 && fd >= 0);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint8_t *data = pattern(sizes[i], (unsigned)(round * 8 + i));

			CHECK(data &&
			      echo_call_as(fd, data, sizes[i], STAGE_AFTER, round % 2) == BR_REPLY);
			free(data);
		}
	}
	{
		struct binder_transaction_data tr;
		uint64_t used = UINT64_MAX;

		CHECK(send_data(fd, BC_TRANSACTION, OUTBOX_REPORT, "", 0, 0) == 0);
		CHECK(read_until_item(fd, &tr) == BR_REPLY && tr.data_size == sizeof(used));
		memcpy(&used, (const void *)(uintptr_t)tr.data.ptr.buffer, sizeof(used));
		CHECK(free_buffer(fd, tr.data.ptr.buffer) == 0);
		if (used != 0) {
			fprintf(stderr, "the server's outbox holds %" PRIu64 " pages\n", used);
			return 1;
		}
	}
	return stop_echo_server(fd, server);
}

/* A Binder thread that answers one call with a copy, then exits at once. */
static void *reply_once_then_exit(void *arg)
{
	int fd = *(int *)arg;
	struct binder_transaction_data tr;
	void *copy;

	if (enter_looper(fd) || read_until_item(fd, &tr) != BR_TRANSACTION)
		return (void *)1;
	copy = malloc(tr.data_size);
	if (!copy)
		return (void *)1;
	memcpy(copy, (const void *)(uintptr_t)tr.data.ptr.buffer, tr.data_size);
	if (send_reply(fd, copy, tr.data_size, tr.data.ptr.buffer)) {
		free(copy);
		return (void *)1;
	}
	free(copy);
	return NULL; /* its exit gives back the staged reply's pages */
}

/*
 * A thread that exits right after a staged reply completed locally, most
 * often before the daemon copied it: the caller gets the reply intact, and
 * the pages come back once the daemon has (the exit waits a little for it).
 */
static int scenario_staged_completion_exit(void)
{
	enum {
		CALLS = 12,
		SIZE = 64 * 1024
	};
	int fd = open_big(), ready[2];
	pid_t caller;
	char c;

	CHECK(fd >= 0 && xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL) == 0 && pipe(ready) == 0);
	caller = fork();
	if (caller == 0) {
		int cfd = open_big();

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < CALLS && cfd >= 0; i++) {
			uint8_t *data = pattern(SIZE, (unsigned)i);

			if (!data || read(ready[0], &c, 1) != 1 ||
			    echo_call_as(cfd, data, SIZE, 1, true) != BR_REPLY)
				_exit(1);
			free(data);
		}
		_exit(cfd >= 0 ? 0 : 1);
	}
	CHECK(caller > 0);
	for (int i = 0; i < CALLS; i++) {
		pthread_t t;
		void *ret = (void *)1;

		CHECK(pthread_create(&t, NULL, reply_once_then_exit, &fd) == 0);
		CHECK(write(ready[1], "g", 1) == 1);
		CHECK(pthread_join(t, &ret) == 0 && ret == NULL);
		if (outbox_used_pages() != 0) {
			fprintf(stderr, "call %d: the outbox holds %zu pages\n", i,
				outbox_used_pages());
			return 1;
		}
	}
	CHECK(wait_child(caller) == 0);
	return 0;
}

/*
 * A server process that exits right after its reply, completed locally
 * most often (inline at 128 B, staged at 64 KiB): its connections close
 * while the reply may still wait in its ring, and the daemon runs it
 * first, as the kernel had before the ioctl returned. The caller gets it
 * intact, never BR_DEAD_REPLY.
 */
static int scenario_reply_then_exit(void)
{
	int fd = open_big();

	CHECK(fd >= 0);
	for (int i = 0; i < 16; i++) {
		size_t n = i % 2 ? 64 * 1024 : 128;
		uint8_t *data = pattern(n, (unsigned)i);
		pid_t server = start_echo_server();

		CHECK(server > 0 && data);
		/* The first call of a server stages nothing: it maps the outbox. */
		CHECK(echo_call_as(fd, data, n, 1, true) == BR_REPLY);
		CHECK(echo_call_as(fd, data, n, 1, true) == BR_REPLY);
		CHECK(echo_call_as(fd, data, n, EXIT_AFTER, true) == BR_REPLY);
		free(data);
		CHECK(wait_child(server) == 0);
	}
	return 0;
}

/*
 * A caller killed while the server holds its call and, most often, a
 * ticket for the reply: the caller's death reaches the daemon before or
 * after the server's claim (a pause of 0 to 2 ms between them), and either
 * way the server's reply completes as the kernel's does (a reply to a dead
 * caller returns BR_TRANSACTION_COMPLETE), the room reserved in the dead
 * caller's region goes with it, and the server goes on serving.
 */
static int scenario_ticket_caller_killed(void)
{
	pid_t server;
	int fd;

	CHECK(pipe(caller_killed) == 0 && pipe(resume) == 0);
	server = start_echo_server();
	fd = open_big();
	CHECK(server > 0 && fd >= 0);
	for (int i = 0; i < 24; i++) {
		pid_t caller = fork();
		char c;

		CHECK(caller >= 0);
		if (caller == 0) {
			int cfd = open_big();

			if (cfd >= 0)
				echo_call(cfd, "doomed", 6, CALLER_KILLED);
			_exit(1); /* never answered: it is killed first */
		}
		CHECK(read(caller_killed[0], &c, 1) == 1);
		CHECK(kill(caller, SIGKILL) == 0 && wait_child(caller) == 128 + SIGKILL);
		if (i % 3)
			usleep((useconds_t)(i % 3) * 1000);
		CHECK(write(resume[1], "g", 1) == 1);
		CHECK(echo_call(fd, "alive", 5, 1) == BR_REPLY);
	}
	return stop_echo_server(fd, server);
}

/* A bad pointer in a large call fails it as in a small one, as the kernel
 * does: BR_FAILED_REPLY, extended error EFAULT; nothing stays staged. */
static int scenario_outbox_efault(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 3), *area;

	CHECK(server > 0 && fd >= 0 && good);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY); /* maps the outbox */
	area = mmap(NULL, 80 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED && mprotect(area + 64 * 1024 - page, page, PROT_NONE) == 0);
	for (size_t n = 4096; n <= 64 * 1024; n *= 16) {
		struct binder_extended_error ee = { 0 };

		CHECK(echo_call(fd, area + 64 * 1024 - page - n / 2, n, 1) == BR_FAILED_REPLY);
		CHECK(xioctl(fd, BINDER_GET_EXTENDED_ERROR, &ee) == 0);
		CHECK(ee.command == BR_FAILED_REPLY && ee.param == -EFAULT);
	}
	CHECK(outbox_settled(16) == 0);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	return stop_echo_server(fd, server);
}

static atomic_bool scribbling;
static uint64_t *scribble_words;
static size_t scribble_count;
static void *scribble(void *arg)
{
	uint64_t x = 88172645463325252ull;

	(void)arg;
	while (atomic_load(&scribbling)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		scribble_words[(x >> 8) % scribble_count] = x;
	}
	return NULL;
}

/* A program writing garbage all over its outbox (page states included)
 * while it calls: its calls end (echoed or failed), the daemon and another
 * process's calls are unharmed, and the program's own calls still work. */
static int scenario_outbox_scribble(void)
{
	pid_t server = start_echo_server(), bystander;
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 5), *base;
	size_t size;
	pthread_t t;

	CHECK(server > 0 && fd >= 0 && good);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && find_outbox(&base, &size));
	scribble_words = (uint64_t *)base;
	scribble_count = size / sizeof(uint64_t);
	atomic_store(&scribbling, true);
	CHECK(pthread_create(&t, NULL, scribble, NULL) == 0);
	for (int i = 0; i < 200; i++) {
		uint32_t br = echo_call(fd, good, 64 * 1024, 1);

		CHECK(br == BR_REPLY || br == BR_FAILED_REPLY || br == 0);
	}
	atomic_store(&scribbling, false);
	pthread_join(t, NULL);
	bystander = fork();
	if (bystander == 0) {
		int own = open_big();

		_exit(own >= 0 && echo_call(own, good, 64 * 1024, 1) == BR_REPLY ? 0 : 1);
	}
	CHECK(wait_child(bystander) == 0);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	return stop_echo_server(fd, server);
}

/* A forked child calls through the parent's file from its own memory: the
 * parent's outbox is not the child's (memory the child mapped where it was
 * stays untouched), and the parent's staging goes on after the fork. */
static int scenario_outbox_fork(void)
{
	pid_t server = start_echo_server(), child;
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 7), *checked = pattern(64 * 1024, 11), *base;
	size_t size;

	CHECK(server > 0 && fd >= 0 && good && checked);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && find_outbox(&base, &size));
	child = fork();
	if (child == 0) {
		uint8_t *same = mmap(base, size, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		bool untouched = true;

		/* Oneway: a reply would land in the parent's region, not ours. */
		if (same != base ||
		    send_data(fd, BC_TRANSACTION, ONEWAY_CHECK, checked, 64 * 1024, 0) != 0)
			_exit(1);
		for (size_t i = 0; i < size; i++)
			untouched &= same[i] == 0;
		_exit(untouched ? 0 : 2);
	}
	CHECK(wait_child(child) == 0);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && outbox_settled(16) == 0);
	return stop_echo_server(fd, server);
}

/*
 * A program that unmaps its outbox (it lies in its address space, whatever
 * the program knows of it) loses the staging, nothing else: its large calls
 * still arrive intact, even from memory it then maps at the outbox's
 * address, as with the kernel, which has no outbox.
 */
#define UNMAPPED_CALL (256u * 1024) /* above the inline limit: the daemon reads it */
static int scenario_outbox_munmap(void)
{
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 13), *other = pattern(UNMAPPED_CALL, 17), *base, *same;
	size_t size;

	CHECK(server > 0 && fd >= 0 && good && other);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && find_outbox(&base, &size));
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY); /* staged: good's bytes there */
	CHECK(munmap(base, size) == 0 && !find_outbox(&base, &size));
	for (int i = 0; i < 3; i++)
		CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	same = mmap(base, UNMAPPED_CALL, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(same == base);
	memcpy(same, other, UNMAPPED_CALL); /* not what the outbox's file holds there */
	CHECK(echo_call(fd, same, UNMAPPED_CALL, 1) == BR_REPLY);
	return stop_echo_server(fd, server);
}

/* The same for memory mapped over the outbox (MAP_FIXED), not unmapped first. */
static int scenario_outbox_map_over(void)
{
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 29), *other = pattern(UNMAPPED_CALL, 31), *base, *over;
	size_t size;

	CHECK(server > 0 && fd >= 0 && good && other);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && find_outbox(&base, &size));
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	over = mmap(base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		    0);
	CHECK(over == base && !find_outbox(&base, &size));
	memcpy(over, other, UNMAPPED_CALL);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	CHECK(memcmp(over, other, UNMAPPED_CALL) == 0); /* never staged into */
	CHECK(echo_call(fd, over, UNMAPPED_CALL, 1) == BR_REPLY);
	return stop_echo_server(fd, server);
}

/* The same for an outbox moved away with mremap, and memory mapped where it was. */
static int scenario_outbox_mremap(void)
{
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 37), *other = pattern(UNMAPPED_CALL, 41), *base, *moved,
		*spot, *over;
	size_t size;

	CHECK(server > 0 && fd >= 0 && good && other);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY && find_outbox(&base, &size));
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	spot = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(spot != MAP_FAILED);
	moved = mremap(base, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	CHECK(moved == spot);
	over = mmap(base, UNMAPPED_CALL, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(over == base);
	memcpy(over, other, UNMAPPED_CALL);
	for (int i = 0; i < 3; i++)
		CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	CHECK(memcmp(over, other, UNMAPPED_CALL) == 0); /* never staged into */
	CHECK(echo_call(fd, over, UNMAPPED_CALL, 1) == BR_REPLY);
	/* A failed mremap (bad flags) costs nothing but the staging, already gone. */
	CHECK(mremap(moved, size, size, MREMAP_FIXED, over) == MAP_FAILED && errno == EINVAL);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY);
	return stop_echo_server(fd, server);
}

/*
 * The region mapped where an unmapped outbox was, then unmapped itself, is
 * gone for the daemon as for the kernel: a call to the process gets
 * BR_DEAD_REPLY. (The outbox comes first: a oneway call needs no region.)
 */
static int scenario_outbox_then_region(void)
{
	int fd = open("/dev/hwbinder", O_RDWR | O_CLOEXEC);
	uint8_t *big = pattern(64 * 1024, 11), *base, *region, drain[64];
	uint64_t rc = 0;
	size_t size;
	pid_t child;

	CHECK(fd >= 0 && big);
	/* No context manager yet: it fails, but the first large call maps the outbox. */
	CHECK(send_data(fd, BC_TRANSACTION, ONEWAY_CHECK, big, 64 * 1024, 0) == 0);
	CHECK(bwr(fd, NULL, 0, drain, sizeof(drain), &rc) == 0 && find_outbox(&base, &size));
	CHECK(munmap(base, size) == 0);
	region = mmap(base, BIG_MAP, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(region == base && xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL) == 0);
	CHECK(munmap(region, BIG_MAP) == 0);
	child = fork();
	if (child == 0) {
		int own = open("/dev/hwbinder", O_RDWR | O_CLOEXEC);

		alarm(10); /* a call that went through would wait for a reply forever */
		_exit(own >= 0 &&
				      mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, own, 0) !=
					      MAP_FAILED &&
				      echo_call(own, "x", 1, 1) == BR_DEAD_REPLY
			      ? 0
			      : 1);
	}
	CHECK(wait_child(child) == 0);
	return 0;
}

/*
 * A caller killed while its staged call waits for the reply leaves nothing
 * behind (run_outbox checks the daemon's buffers, transactions and
 * threads): the call's buffer is freed as any.
 */
static int scenario_outbox_death(void)
{
	int fd = open("/dev/hwbinder", O_RDWR | O_CLOEXEC);
	uint8_t *big = pattern(256 * 1024, 23);
	struct binder_transaction_data tr;
	pid_t child;

	CHECK(fd >= 0 && big && mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, fd, 0) != MAP_FAILED);
	CHECK(xioctl(fd, BINDER_SET_CONTEXT_MGR, NULL) == 0 && enter_looper(fd) == 0);
	child = fork();
	if (child == 0) {
		int own = open("/dev/hwbinder", O_RDWR | O_CLOEXEC);

		if (own < 0 || mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, own, 0) == MAP_FAILED)
			_exit(1);
		/* The first maps the outbox, the second is staged and never answered. */
		echo_call(own, big, 64 * 1024, 1);
		echo_call(own, big, 256 * 1024, 1);
		_exit(2);
	}
	CHECK(read_until_item(fd, &tr) == BR_TRANSACTION && tr.data_size == 64 * 1024);
	CHECK(send_data(fd, BC_REPLY, 0, big, 64 * 1024, tr.data.ptr.buffer) == 0);
	CHECK(read_until_item(fd, &tr) == BR_TRANSACTION && tr.data_size == 256 * 1024);
	CHECK(memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, big, 256 * 1024) == 0);
	CHECK(kill(child, SIGKILL) == 0 && wait_child(child) == 128 + SIGKILL);
	/* The reply to a dead caller goes nowhere (the kernel completes it). */
	CHECK(send_data(fd, BC_REPLY, 0, "", 0, tr.data.ptr.buffer) == 0);
	return 0;
}

/* A scatter-gather buffer of a large call is staged too (the test side
 * checks that the daemon read nothing with process_vm_readv), and arrives
 * intact. */
#define SG_CALL (256u * 1024) /* above the inline limit: read, not pushed */
static int scenario_outbox_sg(void)
{
	pid_t server = start_echo_server();
	int fd = open_big();
	uint8_t *good = pattern(64 * 1024, 13), *buffer = pattern(SG_CALL, 11);
	struct binder_buffer_object bbo = { .hdr.type = BINDER_TYPE_PTR, .length = SG_CALL };
	binder_size_t offset = 0;
	struct {
		uint32_t cmd;
		struct binder_transaction_data_sg sg;
	} __attribute__((packed)) w = { BC_TRANSACTION_SG };

	CHECK(server > 0 && fd >= 0 && good && buffer);
	CHECK(echo_call(fd, good, 64 * 1024, 1) == BR_REPLY); /* maps the outbox */
	bbo.buffer = (uintptr_t)buffer;
	w.sg.transaction_data.code = ONEWAY_STOP;
	w.sg.transaction_data.flags = TF_ONE_WAY;
	w.sg.transaction_data.data_size = sizeof(bbo);
	w.sg.transaction_data.offsets_size = sizeof(offset);
	w.sg.transaction_data.data.ptr.buffer = (uintptr_t)&bbo;
	w.sg.transaction_data.data.ptr.offsets = (uintptr_t)&offset;
	w.sg.buffers_size = SG_CALL;
	CHECK(bwr(fd, &w, sizeof(w), NULL, 0, NULL) == 0);
	/* The program's own object is as it wrote it. */
	CHECK(bbo.buffer == (uintptr_t)buffer);
	CHECK(wait_child(server) == 0);
	return 0;
}

/* Across exec the old image's outbox is gone: the new image's memory at its
 * address is sent as the program's, not the outbox's old bytes. */
#define EXEC_CALL (256u * 1024) /* above the inline limit: read, not pushed */
static int scenario_outbox_exec(const char *self)
{
	pid_t server = start_echo_server();
	int fd = open("/dev/binder", O_RDWR);
	uint8_t *old = pattern(EXEC_CALL, 9), *base;
	char a[24], b[24], c[24], d[24];
	size_t size;

	CHECK(server > 0 && fd >= 0 && old);
	CHECK(mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, fd, 0) != MAP_FAILED);
	CHECK(echo_call(fd, old, EXEC_CALL, 1) == BR_REPLY);
	CHECK(echo_call(fd, old, EXEC_CALL, 1) == BR_REPLY && find_outbox(&base, &size));
	snprintf(a, sizeof(a), "%d", fd);
	snprintf(b, sizeof(b), "%d", (int)server);
	snprintf(c, sizeof(c), "%lx", (unsigned long)base);
	snprintf(d, sizeof(d), "%zx", size);
	execl(self, self, "--scenario", "outbox-exec-child", a, b, c, d, (char *)NULL);
	CHECK(!"execl");
	return 1;
}

static int scenario_outbox_exec_child(int fd, pid_t server, uint8_t *base, size_t size)
{
	uint8_t *mine = mmap(base, size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *fresh = pattern(EXEC_CALL, 11);

	CHECK(mine == base && fresh);
	CHECK(mmap(NULL, BIG_MAP, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == EINVAL);
	/* Where the old image staged its calls (after the state page). */
	memcpy(mine + page, fresh, EXEC_CALL);
	/* Oneway: without a region, this image cannot take a reply. The
	 * server checks the bytes and exits. */
	CHECK(send_data(fd, BC_TRANSACTION, ONEWAY_STOP, mine + page, EXEC_CALL, 0) == 0);
	CHECK(wait_child(server) == 0);
	return 0;
}

/* No daemon: open fails like a missing device. */
/* A handler of the program's that counts the faults it gets and resumes
 * after them; with SA_SIGINFO, it also records the faulting address. */
static sigjmp_buf counted_jmp;
static volatile sig_atomic_t counted;
static void *volatile counted_addr;
static void count_fault(int sig)
{
	counted++;
	siglongjmp(counted_jmp, sig);
}
static void count_fault_info(int sig, siginfo_t *info, void *context)
{
	(void)context;
	counted_addr = info->si_addr;
	count_fault(sig);
}

/* Touches @addr; the signal that resumed us, or 0. */
static int touch(void *addr)
{
	int sig = sigsetjmp(counted_jmp, 1);

	if (sig == 0)
		(void)*(volatile uint8_t *)addr;
	return sig;
}

/* How child process @fn ends: its exit status, or 128 + the signal that killed it. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid < 0 ? -1 : wait_child(pid);
}

static void fault_with_default(void *addr)
{
	signal(SIGSEGV, SIG_DFL);
	(void)*(volatile uint8_t *)addr;
}
static void fault_with_ignore(void *addr)
{
	signal(SIGSEGV, SIG_IGN);
	(void)*(volatile uint8_t *)addr;
}
static void sent_with_ignore(void *arg)
{
	(void)arg;
	signal(SIGSEGV, SIG_IGN);
	kill(getpid(), SIGSEGV);
}

/*
 * The emulation catches SIGSEGV and SIGBUS so that a bad pointer gives
 * EFAULT with no system call: the program still sees and gets its own
 * dispositions, and its faults still end as the kernel ends them.
 */
static int scenario_signals(void)
{
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	struct sigaction sa = { 0 }, old;
	void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t looper = BC_ENTER_LOOPER;

	CHECK(fd >= 0 && hole != MAP_FAILED);
	/* The program's disposition, not ours. */
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL);
	CHECK(sigaction(SIGBUS, NULL, &old) == 0 && old.sa_handler == SIG_DFL);
	CHECK(signal(SIGSEGV, count_fault) == SIG_DFL);
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == count_fault &&
	      (old.sa_flags & SA_RESTART) && sigismember(&old.sa_mask, SIGSEGV));
	/* A bad pointer is the ioctl's EFAULT, never the program's fault. */
	CHECK(xioctl(fd, BINDER_WRITE_READ, hole) == -EFAULT);
	CHECK(bwr(fd, hole, 4, NULL, 0, NULL) == -EFAULT);
	CHECK(bwr(fd, &looper, 4, hole, 64, NULL) == -EFAULT);
	CHECK(xioctl(fd, BINDER_GET_EXTENDED_ERROR, (char *)hole + 8) == -EFAULT);
	CHECK(counted == 0);
	/* The program's own faults are its handler's. */
	CHECK(touch(hole) == SIGSEGV && counted == 1);
	sa.sa_sigaction = count_fault_info;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	CHECK(sigaction(SIGSEGV, &sa, &old) == 0 && old.sa_handler == count_fault);
	CHECK(touch((char *)hole + 40) == SIGSEGV && counted == 2 &&
	      counted_addr == (char *)hole + 40);
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL); /* reset */
	CHECK(sysv_signal(SIGBUS, count_fault) == SIG_DFL);
	CHECK(sigaction(SIGBUS, NULL, &old) == 0 && old.sa_handler == count_fault &&
	      (old.sa_flags & SA_RESETHAND) && (old.sa_flags & SA_NODEFER));
	CHECK(signal(SIGBUS, SIG_DFL) == count_fault);
	/* As the kernel's sigaction, a bad pointer is EFAULT. */
	CHECK(sigaction(SIGSEGV, hole, NULL) < 0 && errno == EFAULT);
	CHECK(sigaction(SIGSEGV, NULL, hole) < 0 && errno == EFAULT);
	/* A fault with the default action, or ignored, kills; an ignored sent one does not. */
	CHECK(in_child(fault_with_default, hole) == 128 + SIGSEGV);
	CHECK(in_child(fault_with_ignore, hole) == 128 + SIGSEGV);
	CHECK(in_child(sent_with_ignore, NULL) == 0);
	/* Still served after all that. */
	CHECK(version_of(fd) == BINDER_CURRENT_PROTOCOL_VERSION);
	CHECK(close(fd) == 0 && munmap(hole, 4096) == 0);
	return 0;
}

/* From now on, a process_vm_readv or process_vm_writev kills the process
 * (on x86-64; elsewhere the filter lets everything through). */
static int forbid_self_vm(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_writev, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The emulation reads and writes the program's memory without a system call:
 * a transaction (its payload read, its answer written) and a bad pointer's
 * EFAULT under a filter that kills the process at the first
 * process_vm_readv/writev. */
static int scenario_no_self_vm(void)
{
	void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *map;
	int fd = open_mapped("/dev/binder", &map);

	CHECK(fd >= 0 && hole != MAP_FAILED);
	CHECK(forbid_self_vm() == 0);
	CHECK(version_of(fd) == BINDER_CURRENT_PROTOCOL_VERSION);
	/* No context manager: the call fails as the kernel fails it. */
	CHECK(send_txn(fd, 7, 0) == 0);
	CHECK(read_until_item(fd, NULL) == BR_DEAD_REPLY);
	CHECK(xioctl(fd, BINDER_WRITE_READ, hole) == -EFAULT);
	CHECK(bwr(fd, hole, 4, NULL, 0, NULL) == -EFAULT);
	CHECK(bwr(fd, NULL, 0, hole, 64, NULL) == -EFAULT);
	CHECK(bwr(fd, NULL, 0, map, 64, NULL) == -EFAULT); /* the read-only region */
	CHECK(close(fd) == 0);
	return 0;
}

static int scenario_no_daemon(void)
{
	struct stat st;

	CHECK(open("/dev/binder", O_RDWR) < 0 && errno == ENOENT);
	/* Nor does the node exist: libbinder falls back as without the device. */
	CHECK(access("/dev/vndbinder", F_OK) < 0 && errno == ENOENT);
	CHECK(stat("/dev/binder", &st) < 0 && errno == ENOENT);
	return 0;
}

/* The scenarios that take no arguments, by the name the test side runs them by. */
static const struct {
	const char *name;
	int (*run)(void);
} scenarios[] = {
	{ "open-close", scenario_open_close },
	{ "hidden-fds", scenario_hidden_fds },
	{ "mmap", scenario_mmap },
	{ "ioctl", scenario_ioctl },
	{ "poll", scenario_poll },
	{ "thread-exit", scenario_thread_exit },
	{ "flush", scenario_flush },
	{ "cancel", scenario_cancel },
	{ "threads", scenario_threads },
	{ "stress", scenario_stress },
	{ "devices", scenario_devices },
	{ "no-daemon", scenario_no_daemon },
	{ "nodes", scenario_nodes },
	{ "untrusted", scenario_untrusted },
	{ "signals", scenario_signals },
	{ "no-self-vm", scenario_no_self_vm },
	{ "outbox", scenario_outbox },
	{ "outbox-efault", scenario_outbox_efault },
	{ "outbox-scribble", scenario_outbox_scribble },
	{ "outbox-fork", scenario_outbox_fork },
	{ "outbox-sg", scenario_outbox_sg },
	{ "outbox-munmap", scenario_outbox_munmap },
	{ "outbox-map-over", scenario_outbox_map_over },
	{ "outbox-mremap", scenario_outbox_mremap },
	{ "local-completion", scenario_local_completion },
	{ "ticket-caller-killed", scenario_ticket_caller_killed },
	{ "staged-completion", scenario_staged_completion },
	{ "staged-completion-exit", scenario_staged_completion_exit },
	{ "reply-then-exit", scenario_reply_then_exit },
	{ "outbox-then-region", scenario_outbox_then_region },
	{ "outbox-death", scenario_outbox_death },
};

static int run_scenario(int argc, char **argv)
{
	const char *name = argv[2];

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(name, scenarios[i].name) == 0)
			return scenarios[i].run();
	}
	if (strcmp(name, "exec") == 0)
		return scenario_exec(argv[0]);
	if (strcmp(name, "exec-child") == 0 && argc == 5)
		return scenario_exec_child(atoi(argv[3]), atoi(argv[4]));
	if (strcmp(name, "outbox-exec") == 0)
		return scenario_outbox_exec(argv[0]);
	if (strcmp(name, "outbox-exec-child") == 0 && argc == 7)
		return scenario_outbox_exec_child(atoi(argv[3]), atoi(argv[4]),
						  (uint8_t *)strtoul(argv[5], NULL, 16),
						  strtoul(argv[6], NULL, 16));
	fprintf(stderr, "unknown scenario %s\n", name);
	return 2;
}

/* ---- the test side ------------------------------------------------------------ */

static struct ubd daemon_under_test;
static char self_path[4096];

static int start_daemon(void **state)
{
	static const char *const contexts[] = { "-c", "binder",	   "-c", "hwbinder",
						"-c", "vndbinder", NULL };

	(void)state;
	return ubd_start(&daemon_under_test, contexts) == 0 ? 0 : -1;
}

static int stop_daemon(void **state)
{
	(void)state;
	return ubd_stop(&daemon_under_test) == 0 ? 0 : -1;
}

/*
 * Runs scenario @name through ubinder-run against the test's daemon, with
 * extra environment @env (NULL-terminated "K=V"); its stderr goes to @err
 * (if not NULL). Returns its exit status, -1 if it had to be killed.
 */
static int run_under_preload(const char *name, const char *const *env, char *err, size_t errsize)
{
	const char *run = getenv("UBINDER_RUN");
	int pipefd[2];
	pid_t pid;
	int status;
	size_t len = 0;

	if (!run || pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		setenv("UBINDER_SOCKET_DIR", daemon_under_test.dir, 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execl(run, run, "--", self_path, "--scenario", name, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	status = reap(pid, 60000);
	for (;;) {
		char buf[512];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stderr); /* the scenario's diagnostics */
		if (err && len + (size_t)n < errsize) {
			memcpy(err + len, buf, (size_t)n);
			len += (size_t)n;
		}
	}
	if (err)
		err[len < errsize ? len : errsize - 1] = '\0';
	close(pipefd[0]);
	return status;
}

#define SCENARIO_TEST(fn, name)                                              \
	static void fn(void **state)                                         \
	{                                                                    \
		(void)state;                                                 \
		assert_int_equal(run_under_preload(name, NULL, NULL, 0), 0); \
	}

SCENARIO_TEST(test_open_close, "open-close")
SCENARIO_TEST(test_hidden_fds, "hidden-fds")
SCENARIO_TEST(test_mmap, "mmap")
SCENARIO_TEST(test_ioctl, "ioctl")
SCENARIO_TEST(test_poll, "poll")
SCENARIO_TEST(test_thread_exit, "thread-exit")
SCENARIO_TEST(test_flush, "flush")
SCENARIO_TEST(test_cancel, "cancel")
SCENARIO_TEST(test_exec, "exec")
SCENARIO_TEST(test_threads, "threads")
SCENARIO_TEST(test_stress, "stress")
SCENARIO_TEST(test_nodes, "nodes")
SCENARIO_TEST(test_signals, "signals")
SCENARIO_TEST(test_no_self_vm, "no-self-vm")

static void test_devices(void **state)
{
	static const char *const env[] = {
		"UBINDER_DEVICES=/dev/mybinder=vndbinder,/dev/binder=,/dev/fakebinder=/dev/null",
		NULL
	};

	(void)state;
	assert_int_equal(run_under_preload("devices", env, NULL, 0), 0);
}

static void test_no_daemon(void **state)
{
	static const char *const env[] = { "UBINDER_SOCKET_DIR=/nonexistent-ubinder",
					   "UBINDER_PRELOAD_DEBUG=1", NULL };
	char err[1024];
	const char *line;

	(void)state;
	assert_int_equal(run_under_preload("no-daemon", env, err, sizeof(err)), 0);
	/* One log line, saying what is missing. */
	line = strstr(err, "ubinder-preload[");
	assert_non_null(line);
	assert_non_null(strstr(line, "no ubinderd serves /nonexistent-ubinder/binder"));
	assert_null(strstr(line + 1, "ubinder-preload["));
}

static void test_untrusted(void **state)
{
	char dir[] = "/tmp/ubinder-untrusted.XXXXXX", sock_path[64], env_var[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *env[] = { env_var, NULL };
	int sock;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0); /* writable by others: not trusted */
	snprintf(sock_path, sizeof(sock_path), "%s/binder", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(sock, 4), 0);
	snprintf(env_var, sizeof(env_var), "UBINDER_DEVICES=/dev/untrusted=%s", sock_path);
	assert_int_equal(run_under_preload("untrusted", env, NULL, 0), 0);
	close(sock);
	unlink(sock_path);
	rmdir(dir);
}

/* The daemon is left as clean as it started: every process and descriptor released. */
static void test_nothing_left(void **state)
{
	int fds = ubd_settled_fds(&daemon_under_test);

	(void)state;
	assert_int_equal(run_under_preload("flush", NULL, NULL, 0), 0);
	assert_int_equal(run_under_preload("threads", NULL, NULL, 0), 0);
	assert_int_equal(ubd_wait_fds(&daemon_under_test, fds), fds);
}

/*
 * Runs the shell command printf(@fmt, ...) (which must fit, untruncated);
 * returns its exit status, or -1 if it did not exit normally.
 */
static int __attribute__((format(printf, 1, 2))) run_shell(const char *fmt, ...)
{
	char cmd[4200];
	va_list ap;
	int n, status;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(cmd));
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_ubinder_run_cli(void **state)
{
	const char *run = getenv("UBINDER_RUN");

	(void)state;
	assert_non_null(run);
	assert_int_equal(run_shell("%s --help | grep -q '^Usage: ubinder-run'", run), 0);
	assert_int_equal(run_shell("%s 2>/dev/null", run), 2);
	assert_int_equal(run_shell("%s /nonexistent/program 2>/dev/null", run), 127);
	assert_int_equal(run_shell("%s -L /nonexistent.so true 2>/dev/null", run), 126);
	/* LD_PRELOAD is set up for the program, and kept for its children. */
	assert_int_equal(
		run_shell("LD_PRELOAD= %s sh -c 'case \"$LD_PRELOAD\" in *libubinder-preload.so*) "
			  "exit 0;; esac; exit 1'",
			  run),
		0);
}

/*
 * Runs outbox scenario @name over the default transport (rings) and over
 * the sockets only; the daemon copied from the outbox (its "copies local":
 * the scenarios' servers answer from their heap, so nothing else is local)
 * when @staged, and afterwards holds no buffer, transaction or thread.
 */
static void run_outbox(const char *name, bool staged)
{
	static const char *const socket_env[] = { "UBINDER_TRANSPORT=socket", NULL };
	const char *const *envs[] = { NULL, socket_env };

	for (size_t i = 0; i < 2; i++) {
		long local = ubd_stat(&daemon_under_test, "copies local");
		long readv = ubd_stat(&daemon_under_test, "copies readv");

		assert_int_equal(run_under_preload(name, envs[i], NULL, 0), 0);
		assert_int_equal(ubd_wait_idle(&daemon_under_test), 0);
		if (staged)
			assert_true(ubd_stat(&daemon_under_test, "copies local") > local);
		/* Its large calls all staged: the scatter-gather one too. */
		if (strcmp(name, "outbox-sg") == 0)
			assert_int_equal(ubd_stat(&daemon_under_test, "copies readv"), readv);
		assert_int_equal(ubd_stat(&daemon_under_test, "buffers"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "transaction: active"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "thread: active"), 0);
	}
}

#define OUTBOX_TEST(fn, name, staged)     \
	static void fn(void **state)      \
	{                                 \
		(void)state;              \
		run_outbox(name, staged); \
	}

OUTBOX_TEST(test_outbox, "outbox", true)
OUTBOX_TEST(test_outbox_efault, "outbox-efault", true)
OUTBOX_TEST(test_outbox_scribble, "outbox-scribble", false)
OUTBOX_TEST(test_outbox_fork, "outbox-fork", true)
OUTBOX_TEST(test_outbox_exec, "outbox-exec", true)
OUTBOX_TEST(test_outbox_sg, "outbox-sg", true)
OUTBOX_TEST(test_outbox_munmap, "outbox-munmap", true)
OUTBOX_TEST(test_outbox_map_over, "outbox-map-over", true)
OUTBOX_TEST(test_outbox_mremap, "outbox-mremap", true)
OUTBOX_TEST(test_outbox_then_region, "outbox-then-region", false)
OUTBOX_TEST(test_outbox_death, "outbox-death", true)

/*
 * The local completion, end to end: a replier under the emulation claims
 * the tickets the daemon offers (ring transport), every promised reply ends
 * as promised, and nothing is left. With UBINDER_TICKETS=0, or over the
 * socket, none is claimed.
 *
 * How many are claimed is not asserted, only that some are: a ticket is
 * closed by any driver operation that comes before its claim (here, most
 * often the caller's own read for the reply, which it writes apart from
 * the call), so on a loaded machine, where the replier is slow to claim,
 * from about 300 of the 300 that fit down to a few dozen. Every ticket is
 * either taken or closed by the daemon, and each taken one is a local
 * completion that ended as promised.
 */
static void check_local_completion(const char *scenario)
{
	static const char *const off[] = { "UBINDER_TICKETS=0", NULL };
	static const char *const sock[] = { "UBINDER_TRANSPORT=socket", NULL };
	const char *const *envs[] = { NULL, off, sock };
	/* The suite's fallback pass runs everything over the socket. */
	const char *transport = getenv("UBINDER_TRANSPORT");
	bool rings = !transport || strcmp(transport, "socket") != 0;

	for (size_t i = 0; i < 3; i++) {
		long before = ubd_stat(&daemon_under_test, "local completions"), done, offered,
		     taken, closed;

		assert_int_equal(run_under_preload(scenario, envs[i], NULL, 0), 0);
		assert_int_equal(ubd_wait_idle(&daemon_under_test), 0);
		done = ubd_stat(&daemon_under_test, "local completions");
		offered = ubd_stat(&daemon_under_test, "ring tickets offered");
		taken = ubd_stat(&daemon_under_test, "ring tickets taken");
		closed = ubd_stat(&daemon_under_test, "ring tickets closed by the daemon");
		print_message("# local completions: %ld -> %ld, tickets offered %ld, taken %ld, "
			      "closed by the daemon %ld\n",
			      before, done, offered, taken, closed);
		if (i == 0 && rings)
			assert_true(done > before);
		else
			assert_int_equal(done, before);
		assert_int_equal(offered, taken + closed);
		assert_int_equal(done, taken);
		assert_int_equal(ubd_stat(&daemon_under_test, "local completions broken"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "ring ticket lies"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "buffers"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "transaction: active"), 0);
		assert_int_equal(ubd_stat(&daemon_under_test, "thread: active"), 0);
	}
}

#define LOCAL_COMPLETION_TEST(fn, name)       \
	static void fn(void **state)          \
	{                                     \
		(void)state;                  \
		check_local_completion(name); \
	}

LOCAL_COMPLETION_TEST(test_local_completion, "local-completion")
/* The same with replies staged in the outbox (scenario_staged_completion). */
LOCAL_COMPLETION_TEST(test_staged_completion, "staged-completion")
/* A replier thread that exits at once (scenario_staged_completion_exit). */
LOCAL_COMPLETION_TEST(test_staged_completion_exit, "staged-completion-exit")
/* A replier process that exits at once (scenario_reply_then_exit). */
LOCAL_COMPLETION_TEST(test_reply_then_exit, "reply-then-exit")

/* Callers killed while the server holds their calls under a ticket: nothing
 * breaks or stays behind (scenario_ticket_caller_killed). */
static void test_ticket_caller_killed(void **state)
{
	(void)state;
	assert_int_equal(run_under_preload("ticket-caller-killed", NULL, NULL, 0), 0);
	assert_int_equal(ubd_wait_idle(&daemon_under_test), 0);
	print_message("# tickets offered %ld, taken %ld, closed by the daemon %ld\n",
		      ubd_stat(&daemon_under_test, "ring tickets offered"),
		      ubd_stat(&daemon_under_test, "ring tickets taken"),
		      ubd_stat(&daemon_under_test, "ring tickets closed by the daemon"));
	assert_int_equal(ubd_stat(&daemon_under_test, "local completions broken"), 0);
	assert_int_equal(ubd_stat(&daemon_under_test, "ring tickets offered"),
			 ubd_stat(&daemon_under_test, "ring tickets taken") +
				 ubd_stat(&daemon_under_test, "ring tickets closed by the daemon"));
	assert_int_equal(ubd_stat(&daemon_under_test, "buffers"), 0);
	assert_int_equal(ubd_stat(&daemon_under_test, "transaction: active"), 0);
	assert_int_equal(ubd_stat(&daemon_under_test, "thread: active"), 0);
}

/* A test with a daemon of its own, started before it and stopped (cleanly) after it. */
#define WITH_DAEMON(test) cmocka_unit_test_setup_teardown(test, start_daemon, stop_daemon)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		WITH_DAEMON(test_open_close),
		WITH_DAEMON(test_local_completion),
		WITH_DAEMON(test_staged_completion),
		WITH_DAEMON(test_staged_completion_exit),
		WITH_DAEMON(test_reply_then_exit),
		WITH_DAEMON(test_ticket_caller_killed),
		WITH_DAEMON(test_hidden_fds),
		WITH_DAEMON(test_mmap),
		WITH_DAEMON(test_ioctl),
		WITH_DAEMON(test_poll),
		WITH_DAEMON(test_thread_exit),
		WITH_DAEMON(test_flush),
		WITH_DAEMON(test_cancel),
		WITH_DAEMON(test_exec),
		WITH_DAEMON(test_threads),
		WITH_DAEMON(test_stress),
		WITH_DAEMON(test_nodes),
		WITH_DAEMON(test_devices),
		WITH_DAEMON(test_untrusted),
		WITH_DAEMON(test_no_daemon),
		WITH_DAEMON(test_nothing_left),
		cmocka_unit_test(test_ubinder_run_cli),
		/* The emulation's SIGSEGV and SIGBUS handler. */
		WITH_DAEMON(test_signals),
		WITH_DAEMON(test_no_self_vm),
		/* Large transactions staged in the outbox. */
		WITH_DAEMON(test_outbox),
		WITH_DAEMON(test_outbox_efault),
		WITH_DAEMON(test_outbox_scribble),
		WITH_DAEMON(test_outbox_fork),
		WITH_DAEMON(test_outbox_exec),
		WITH_DAEMON(test_outbox_sg),
		WITH_DAEMON(test_outbox_munmap),
		WITH_DAEMON(test_outbox_map_over),
		WITH_DAEMON(test_outbox_mremap),
		WITH_DAEMON(test_outbox_then_region),
		WITH_DAEMON(test_outbox_death),
	};
	ssize_t n;

	if (argc >= 3 && strcmp(argv[1], "--scenario") == 0)
		return run_scenario(argc, argv);
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0)
		return 1;
	self_path[n] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
