/* SPDX-License-Identifier: MIT */
/*
 * The daemon's resource limits under clients that try to exhaust them: the
 * per-uid quotas of sessions and threads, and the daemon's own descriptor
 * limit. Each scenario checks the refusal a client sees, the stat that
 * counts it, that a bystander is still served within a bound, and that
 * everything comes back to where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "echo.h"
#include "harness.h"
#include "test-util.h"
#include "wire/packet.h"

#define NOBODY 65534

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Resident memory of the process, in KiB. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Starts a daemon with @args that another uid may use too; returns its settled fd count. */
static int start_daemon(struct ubd *d, const char *const *args)
{
	assert_int_equal(ubd_start(d, args), 0);
	chmod(d->dir, 0711); /* the bystander is another uid */
	return ubd_settled_fds(d);
}

struct bystander {
	const char *sock;
	uid_t uid;
	size_t size;
	long bound_ms;
};

/* A call from another uid (when we are root), which must be answered within the bound. */
static int bystander_main(void *arg)
{
	struct bystander *b = arg;
	long start = now_ms();

	if (b->uid != (uid_t)-1 && (setgid(b->uid) < 0 || setuid(b->uid) < 0))
		return 2;
	if (echo_call(b->sock, b->size, 1, NULL) != BR_REPLY)
		return 1;
	return now_ms() - start < b->bound_ms ? 0 : 3;
}

static void assert_bystander_served_within(const struct ubd *d, size_t size, long bound_ms)
{
	struct bystander b = { .sock = d->sock,
			       .uid = geteuid() == 0 ? NOBODY : (uid_t)-1,
			       .size = size,
			       .bound_ms = bound_ms };

	assert_int_equal(test_run_child(bystander_main, &b, (int)bound_ms + 5000), 0);
}

static void assert_bystander_served(const struct ubd *d)
{
	assert_bystander_served_within(d, 1000, 5000);
}

/*
 * One uid opens sessions and threads up to its quotas: the next session is
 * refused with EMFILE and the next thread with EAGAIN, each counted; another
 * uid is served meanwhile; closing gives the quota back.
 */
static void session_and_thread_quotas(void **state)
{
	const char *const args[] = { "--max-sessions-per-uid", "4", "--max-threads-per-uid", "6",
				     NULL };
	struct ubt_session s[5];
	struct ubt_thread t[7];
	struct echo_manager m;
	struct ubd d;
	int fds_before;

	(void)state;
	fds_before = start_daemon(&d, args);
	echo_start(&m, d.sock); /* one session and one thread of our uid */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ubt_session_open(&s[i], d.sock, false, true, &ubt_libc), 0);
	assert_int_equal(ubt_session_open(&s[3], d.sock, false, true, &ubt_libc), -EMFILE);
	assert_int_equal(ubd_stat(&d, "quota refused sessions"), 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ubt_thread_open(&t[i], &s[i % 3]), 0);
	assert_int_equal(ubt_thread_open(&t[5], &s[0]), -EAGAIN);
	assert_int_equal(ubd_stat(&d, "quota refused threads"), 1);
	if (geteuid() == 0)
		assert_bystander_served(&d);
	else
		fprintf(stderr,
			"# not root: no bystander of another uid while the quota is full\n");

	/* Closing gives the quota back: the same uid is served again. */
	for (int i = 0; i < 5; i++)
		ubt_thread_close(&t[i]);
	for (int i = 0; i < 3; i++)
		ubt_session_close(&s[i]);
	assert_int_equal(echo_call(d.sock, 1000, 1, NULL), BR_REPLY);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stat(&d, "quota uids"), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

/*
 * The daemon at its descriptor limit: connections it has no descriptor for
 * are closed at once (the client sees end of file instead of hanging), the
 * loop does not spin, and once descriptors are free again, everyone is
 * served and nothing is left behind.
 */
static void descriptor_limit_does_not_spin(void **state)
{
	enum {
		HOGS = 40
	};
	int hogs[HOGS], late;
	struct echo_manager m;
	struct pollfd pfd;
	struct rlimit rl;
	struct ubd d;
	long cpu, start;
	int fds_before, n;
	char byte;

	(void)state;
	fds_before = start_daemon(&d, NULL);
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, NULL, &rl), 0);
	rl.rlim_cur = (rlim_t)fds_before + 8;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);

	/* Far more connections than descriptors left. */
	for (int i = 0; i < HOGS; i++)
		hogs[i] = ubd_connect_raw(d.sock);
	late = ubd_connect_raw(d.sock);
	assert_true(late >= 0);
	pfd = (struct pollfd){ .fd = late, .events = POLLIN };
	start = now_ms();
	assert_int_equal(poll(&pfd, 1, 2000), 1); /* refused, not left hanging */
	assert_true(now_ms() - start < 2000);
	n = (int)recv(late, &byte, 1, MSG_DONTWAIT);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	close(late);

	/* Idle at the limit: no busy loop. */
	cpu = proc_cpu_ms(d.pid);
	poll(NULL, 0, 1000);
	assert_true(proc_cpu_ms(d.pid) - cpu < 200);

	for (int i = 0; i < HOGS; i++)
		if (hogs[i] >= 0)
			close(hogs[i]);
	/* The reserve descriptor refused them all: an empty queue is no reason to pause. */
	assert_int_equal(ubd_stat(&d, "listener pauses"), 0);
	assert_true(ubd_stat(&d, "connections refused (no descriptor)") >= 1);
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	echo_start(&m, d.sock);
	assert_bystander_served(&d);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
}

static int late_caller_main(void *arg)
{
	return echo_call(arg, 1000, 1, NULL) == BR_REPLY ? 0 : 1;
}

/* Lines of @path that contain @what. */
static int count_lines(const char *path, const char *what)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/*
 * The daemon out of descriptors with none in reserve: its limit is 0, so
 * closing the reserve gives accept no slot, and the reserve cannot be
 * opened again. The listener pauses with a doubling back-off (10 ms to 1 s)
 * instead of spinning: little CPU, a few pauses and a few log lines, not one
 * per attempt. A client that connects meanwhile waits; once descriptors are
 * free again it is served, and the reserve is back (the daemon's
 * descriptors are what they were).
 */
static void listener_pauses_without_reserve(void **state)
{
	enum {
		PAUSED_MS = 3000
	};
	char log_path[] = "/tmp/ubinder-test-log-XXXXXX";
	int log_fd = mkstemp(log_path), saved_stderr = dup(STDERR_FILENO);
	struct rlimit rl, none;
	struct echo_manager m;
	struct ubd d;
	long cpu, pauses, start;
	int fds_before, status, lines;
	pid_t late;

	(void)state;
	assert_true(log_fd >= 0 && saved_stderr >= 0);
	/* The daemon's log goes to a file, to be counted. */
	assert_int_equal(dup2(log_fd, STDERR_FILENO), STDERR_FILENO);
	fds_before = start_daemon(&d, NULL);
	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	close(log_fd);
	echo_start(&m, d.sock);
	assert_int_equal(ubd_stat(&d, "listener pauses"), 0);

	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, NULL, &rl), 0);
	none = rl;
	none.rlim_cur = 0;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &none, NULL), 0);
	cpu = proc_cpu_ms(d.pid);
	late = spawn(late_caller_main, (void *)d.sock);
	poll(NULL, 0, PAUSED_MS);
	/* No busy loop, and the client waits: neither served nor refused. */
	assert_true(proc_cpu_ms(d.pid) - cpu < 200);
	assert_int_equal(waitpid(late, &status, WNOHANG), 0);

	/* Descriptors again: the waiting client is served within the longest pause and a bit. */
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	start = now_ms();
	assert_int_equal(reap(late, 5000), 0);
	assert_true(now_ms() - start < 2500);
	/* 10 + 20 + ... + 640 + 1000 ms: about 8 pauses in 3 s; a spin would make thousands. */
	pauses = ubd_stat(&d, "listener pauses");
	lines = count_lines(log_path, "pausing for");
	fprintf(stderr, "# %ld pauses, %d log lines in %d ms\n", pauses, lines, PAUSED_MS);
	assert_true(pauses >= 3 && pauses <= 15);
	assert_true(lines >= 1 && lines <= pauses);
	assert_bystander_served(&d);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
	unlink(log_path);
}

/*
 * Sends on @sock all but the last byte of a UBW_WRITE_READ of @body_size
 * bytes, its first packet carrying UBW_MAX_FDS descriptors (copies of
 * @fd), or the whole of it with @finish. Returns 0 or -errno.
 */
static int send_partial(int sock, uint64_t body_size, int fd, bool finish)
{
	static uint8_t junk[UBW_MAX_MESSAGE];
	struct ubw_write_read hdr = { .hdr = { UBW_WRITE_READ, 0 }, .body_size = body_size };
	struct ubw_write_read_more more = { .hdr = { UBW_WRITE_READ_MORE, 0 } };
	const uint64_t stop = finish ? body_size : body_size - 1;
	int fds[UBW_MAX_FDS];
	uint64_t off;
	size_t n;

	for (unsigned int i = 0; i < UBW_MAX_FDS; i++)
		fds[i] = fd;
	memset(junk, 0x5a, sizeof(junk));
	n = UBW_MAX_MESSAGE - sizeof(hdr);
	{
		struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { junk, n } };

		if (ubw_send_packet(sock, iov, 2, fds, UBW_MAX_FDS, MSG_NOSIGNAL) < 0)
			return -errno;
	}
	for (off = n; off < stop; off += n) {
		n = UBW_MAX_MESSAGE - sizeof(more);
		if (n > stop - off)
			n = (size_t)(stop - off);
		struct iovec iov[2] = { { &more, sizeof(more) }, { junk, n } };

		if (ubw_send_packet(sock, iov, 2, NULL, 0, MSG_NOSIGNAL) < 0)
			return -errno;
	}
	return 0;
}

/* Whether the daemon hung up @sock within @ms. */
static bool hung_up(int sock, int ms)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	char byte;

	return poll(&pfd, 1, ms) == 1 && recv(sock, &byte, 1, MSG_DONTWAIT) <= 0;
}

/*
 * Many thread connections each start a largest-size multi-packet request,
 * with the most descriptors, and never finish it: what the daemon holds is
 * bounded by the process's budgets (the others get ENOMEM once complete),
 * a bystander is served meanwhile, and past the deadline the connections
 * go and everything is given back.
 */
static void unfinished_requests_are_bounded(void **state)
{
	enum {
		CONNS = 24
	};
	const char *const args[] = { "--max-partial-per-proc",
				     "16M",
				     "--max-partial-per-uid",
				     "24M",
				     "--partial-timeout",
				     "1500",
				     NULL };
	struct ubt_thread t[CONNS + 1];
	struct ubw_write_read_reply reply;
	struct echo_manager m;
	struct ubt_session s;
	long rss_before, fds_allowed;
	int fds_before, devnull;
	struct ubd d;

	(void)state;
	fds_before = start_daemon(&d, args);
	rss_before = rss_kib(d.pid);
	echo_start(&m, d.sock);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(ubt_session_open(&s, d.sock, false, true, &ubt_libc), 0);
	for (int i = 0; i <= CONNS; i++)
		assert_int_equal(ubt_thread_open(&t[i], &s), 0);
	for (int i = 0; i < CONNS; i++)
		assert_int_equal(send_partial(t[i].sock, s.max_body, devnull, false), 0);
	/* Over the budget: the whole request is read, then refused with ENOMEM. */
	assert_int_equal(send_partial(t[CONNS].sock, s.max_body, devnull, true), 0);
	assert_int_equal(recv(t[CONNS].sock, &reply, sizeof(reply), 0), sizeof(reply));
	assert_int_equal(reply.hdr.type, UBW_WRITE_READ | UBW_REPLY);
	assert_int_equal(reply.hdr.error, -ENOMEM);

	assert_true(ubd_stat(&d, "partial requests") == CONNS);
	assert_true(ubd_stat(&d, "partial bytes") <= 16 << 20);
	assert_true(ubd_stat(&d, "partial fds") <= 4 * UBW_MAX_FDS);
	assert_true(ubd_stat(&d, "partial refused (budget)") >= CONNS - 1);
	/* Bounded: the budget plus the daemon's own working memory. */
	assert_true(rss_kib(d.pid) - rss_before < 16 * 1024 + 12 * 1024);
	fds_allowed = fds_before + 4 /* manager */ + 3 /* session */ + CONNS + 1 + 4 * UBW_MAX_FDS;
	assert_true(ubd_open_fds(&d) <= fds_allowed);
	assert_bystander_served(&d);

	/* The deadline: the daemon hangs up each unfinished request's connection. */
	for (int i = 0; i < CONNS; i++)
		assert_true(hung_up(t[i].sock, 5000));
	assert_true(ubd_stat(&d, "partial timeouts") >= CONNS);
	assert_int_equal(ubd_stat(&d, "partial requests"), 0);
	assert_int_equal(ubd_stat(&d, "partial bytes"), 0);
	assert_int_equal(ubd_stat(&d, "partial fds"), 0);
	for (int i = 0; i <= CONNS; i++)
		ubt_thread_close(&t[i]);
	ubt_session_close(&s);
	close(devnull);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stat(&d, "quota uids"), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

/* Memory whose pages fault into a userfaultfd nobody serves; NULL if unavailable. */
static uint8_t *stalling_memory(size_t size)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	uint8_t *mem;

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0)
		return NULL;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED ||
	    ioctl(uffd, UFFDIO_REGISTER,
		  &(struct uffdio_register){ .range = { .start = (uintptr_t)mem, .len = size },
					     .mode = UFFDIO_REGISTER_MODE_MISSING }) != 0)
		return NULL;
	return mem; /* uffd stays open, unread, until we exit */
}

#define STALL_SIZE (200u << 10)

struct staller {
	const char *sock;
	struct sync result; /* 1: as expected; 2..: which step failed; 77: no userfaultfd */
	struct rc c;
	const uint8_t *data;
};

/* A call whose payload the daemon's copy worker faults on, forever. */
static void *stalled_call_main(void *arg)
{
	struct staller *st = arg;
	struct cmdbuf w = { .len = 0 };

	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, st->data, STALL_SIZE, NULL, 0);
	rc_bwr(&st->c, w.buf, w.len, NULL, 0, NULL, NULL);
	return NULL;
}

/*
 * A process whose memory stalls the daemon's copies: its HELLO names a probe
 * word in that memory, one thread's call stalls a copy worker, and a second
 * thread's call, queued behind it, must fail as a bad copy does.
 */
static int staller_main(void *arg)
{
	struct staller *st = arg;
	uint8_t *data = stalling_memory(1 << 20);
	struct binder_extended_error ee = { 0 };
	struct ubw_hello_reply reply;
	struct cmdbuf w = { .len = 0 };
	struct rc second;
	pthread_t caller;
	uint32_t cmd = 0;
	int sock;

	if (!data) {
		sync_post(&st->result, 77);
		return 0;
	}
	/* The HELLO probe is answered at once, whatever the probe word's memory does. */
	sock = ubd_connect_raw(st->sock);
	{
		struct ubw_hello h = { .hdr = { UBW_HELLO, 0 },
				       .magic = UBW_MAGIC,
				       .version = UBW_PROTOCOL_VERSION,
				       .probe_addr = (uintptr_t)data,
				       .probe_value = 1 };
		struct pollfd pfd = { .fd = sock, .events = POLLIN };

		if (send(sock, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h) ||
		    poll(&pfd, 1, 1000) != 1 ||
		    recv(sock, &reply, sizeof(reply), 0) != sizeof(reply) || reply.hdr.error != 0) {
			sync_post(&st->result, 2);
			return 0;
		}
	}
	st->data = data + 4096;
	if (rc_open(&st->c, st->sock, 1 << 20) != 0) {
		sync_post(&st->result, 3);
		return 0;
	}
	second = st->c;
	if (ubt_thread_open(&second.t, &st->c.s) != 0 ||
	    pthread_create(&caller, NULL, stalled_call_main, st) != 0) {
		sync_post(&st->result, 4);
		return 0;
	}
	poll(NULL, 0, 100); /* the first call's copy is on a worker */
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, st->data, STALL_SIZE, NULL, 0);
	if (rc_bwr(&second, w.buf, w.len, NULL, 0, NULL, NULL) != 0 ||
	    rc_wait_for(&second, &cmd, NULL) != 0 || cmd != BR_FAILED_REPLY ||
	    rc_ioctl(&second, BINDER_GET_EXTENDED_ERROR, &ee) != 0 || ee.param != -EFAULT) {
		sync_post(&st->result, 5);
		return 0;
	}
	sync_post(&st->result, 1);
	poll(NULL, 0, 60000); /* until killed, the first call still stalled */
	return 0;
}

/* Waits (5 s at most) for a stat within [@lo, @hi]; returns the last value seen. */
static long wait_stat(const struct ubd *d, const char *key, long lo, long hi)
{
	long v = -1;

	for (int i = 0; i < 500; i++) {
		v = ubd_stat(d, key);
		if (v >= lo && v <= hi)
			break;
		poll(NULL, 0, 10);
	}
	return v;
}

/* Kills and reaps the @n stallers of @pids. */
static void kill_stallers(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		reap(pids[i], 5000);
	}
}

/* A staller said 77: no userfaultfd here (kernel or sysctl). Stops all and skips. */
static void skip_without_userfaultfd(struct ubd *d, struct echo_manager *m, const pid_t *pids,
				     int n)
{
	kill_stallers(pids, n);
	echo_stop(m, d->sock);
	ubd_stop(d);
	skip();
}

/* After a stall scenario: the stallers go, no copy stays stalled, nothing is left. */
static void stallers_leave_nothing(struct ubd *d, struct echo_manager *m, const pid_t *pids, int n,
				   int fds_before)
{
	kill_stallers(pids, n);
	assert_int_equal(wait_stat(d, "copies stalled now", 0, 0), 0);
	echo_stop(m, d->sock);
	echo_assert_clean(d, fds_before);
	assert_int_equal(ubd_stop(d), 0);
}

/*
 * Processes whose memory never answers stall copy workers: each stalls only
 * itself (its queued copies fail with EFAULT after the deadline, the stall
 * is counted), while new clients open at once and a bystander's large call
 * is served; once they are gone, nothing is left.
 */
static void stalled_copies_delay_only_their_process(void **state)
{
	enum {
		STALLERS = 4
	};
	const char *const args[] = {
		"--copy-workers", "2", "--copies-per-proc", "1", "--copy-timeout", "500", NULL
	};
	struct staller st[STALLERS];
	pid_t pids[STALLERS];
	struct echo_manager m;
	struct ubd d;
	int fds_before;

	(void)state;
	fds_before = start_daemon(&d, args);
	echo_start(&m, d.sock);
	for (int i = 0; i < STALLERS; i++) {
		st[i].sock = d.sock;
		sync_init(&st[i].result);
		pids[i] = spawn(staller_main, &st[i]);
	}
	for (int i = 0; i < STALLERS; i++) {
		uint32_t r = sync_wait(&st[i].result, 10000);

		if (r == 77)
			skip_without_userfaultfd(&d, &m, pids, STALLERS);
		assert_int_equal(r, 1);
	}
	assert_int_equal(wait_stat(&d, "copy stalls", STALLERS, STALLERS), STALLERS);
	assert_int_equal(ubd_stat(&d, "copies expired"), STALLERS);
	assert_int_equal(ubd_stat(&d, "copies stalled now"), STALLERS);
	/* A new client and a call that needs a copy worker: served within a bound. */
	assert_bystander_served_within(&d, STALL_SIZE, 3000);
	stallers_leave_nothing(&d, &m, pids, STALLERS, fds_before);
}

struct uid_staller {
	const char *sock;
	struct sync *result; /* 1: its call failed as a bad copy; 2..: a step failed; 77 */
};

/* One call from memory that never answers: it stalls a worker, or it waits and expires. */
static int uid_staller_main(void *arg)
{
	struct uid_staller *st = arg;
	uint8_t *data = stalling_memory(1 << 20);
	struct binder_extended_error ee = { 0 };
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;
	struct rc c;

	if (!data) {
		sync_post(st->result, 77);
		return 0;
	}
	if (rc_open(&c, st->sock, 1 << 20) != 0) {
		sync_post(st->result, 3);
		return 0;
	}
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, STALL_SIZE, NULL, 0);
	if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) != 0 ||
	    rc_wait_for(&c, &cmd, NULL) != 0 || cmd != BR_FAILED_REPLY ||
	    rc_ioctl(&c, BINDER_GET_EXTENDED_ERROR, &ee) != 0 || ee.param != -EFAULT) {
		sync_post(st->result, 4);
		return 0;
	}
	sync_post(st->result, 1);
	poll(NULL, 0, 60000); /* until killed */
	return 0;
}

/*
 * Processes of one uid whose memory never answers: however many there are,
 * the uid holds at most --copies-per-uid workers (stalled ones included),
 * and its other copies wait and fail as a bad copy does after the deadline
 * (counted), while another uid's large call is served within a bound; once
 * they are gone, nothing is left.
 */
static void stalled_copies_delay_only_their_uid(void **state)
{
	enum {
		STALLERS = 4,
		PER_UID = 2
	};
	/* Workers to spare (16): only the uid's limit holds its copies back. */
	const char *const args[] = {
		"--copies-per-proc", "1", "--copies-per-uid", "2", "--copy-timeout", "500", NULL
	};
	struct uid_staller st = { 0 };
	struct sync result;
	pid_t pids[STALLERS];
	struct echo_manager m;
	struct ubd d;
	int fds_before;

	(void)state;
	fds_before = start_daemon(&d, args);
	echo_start(&m, d.sock);
	sync_init(&result);
	st.sock = d.sock;
	st.result = &result;
	for (int i = 0; i < STALLERS; i++)
		pids[i] = spawn(uid_staller_main, &st);
	/* Those beyond the uid's workers fail after the deadline; the others stay stalled. */
	for (int i = 0; i < STALLERS - PER_UID; i++) {
		uint32_t r = sync_wait(&result, 10000);

		if (r == 77)
			skip_without_userfaultfd(&d, &m, pids, STALLERS);
		assert_int_equal(r, 1);
	}
	assert_int_equal(sync_wait(&result, 1000), UINT32_MAX);
	assert_int_equal(wait_stat(&d, "copy stalls", PER_UID, PER_UID), PER_UID);
	assert_int_equal(ubd_stat(&d, "copies stalled now"), PER_UID);
	assert_int_equal(ubd_stat(&d, "copies expired"), STALLERS - PER_UID);
	assert_int_equal(ubd_stat(&d, "copies waited for their uid"), STALLERS - PER_UID);
	/* Another uid's call that needs a copy worker: served within a bound. */
	if (geteuid() == 0)
		assert_bystander_served_within(&d, STALL_SIZE, 3000);
	else
		fprintf(stderr, "# not root: no bystander of another uid\n");
	stallers_leave_nothing(&d, &m, pids, STALLERS, fds_before);
}

/* Whether the read part of one write-read of @w on @c returns @code. */
static bool bwr_returns(struct rc *c, const struct cmdbuf *w, uint32_t code)
{
	uint8_t rbuf[256]; /* the driver fills a read only with room for a transaction */
	uint64_t rcons = 0;

	if (rc_bwr(c, w->buf, w->len, rbuf, sizeof(rbuf), NULL, &rcons) != 0)
		return false;
	for (uint64_t at = 0; at + 4 <= rcons; at += 4) {
		uint32_t v;

		memcpy(&v, rbuf + at, 4);
		if (v == code)
			return true;
		if (v != BR_NOOP)
			return false;
	}
	return false;
}

/*
 * The driver's per-uid quotas: a reference beyond the uid's quota is not
 * made (as when its allocation fails: the command is ignored), a death
 * notification beyond it fails with BR_ERROR; both are counted, and all is
 * given back when the processes go.
 */
static void driver_object_quotas(void **state)
{
	const char *const args[] = { "--max-refs-per-uid", "3", "--max-deaths-per-uid", "2", NULL };
	struct echo_manager m;
	struct rc c[4];
	struct ubd d;
	int fds_before;

	(void)state;
	fds_before = start_daemon(&d, args);
	echo_start(&m, d.sock);
	for (int i = 0; i < 4; i++) {
		struct cmdbuf w = { .len = 0 };

		assert_int_equal(rc_open(&c[i], d.sock, 1 << 20), 0);
		cb_u32(&w, BC_INCREFS);
		cb_u32(&w, 0);
		assert_int_equal(rc_bwr(&c[i], w.buf, w.len, NULL, 0, NULL, NULL), 0);
	}
	assert_int_equal(ubd_stat(&d, "ref: active"), 3);
	assert_int_equal(ubd_stat(&d, "driver quota refused refs"), 1);
	for (int i = 0; i < 3; i++) {
		struct cmdbuf w = { .len = 0 };

		cb_u32(&w, BC_REQUEST_DEATH_NOTIFICATION);
		cb_u32(&w, 0);
		cb_u64(&w, (uint64_t)i + 1);
		if (i < 2)
			assert_int_equal(rc_bwr(&c[i], w.buf, w.len, NULL, 0, NULL, NULL), 0);
		else
			assert_true(bwr_returns(&c[i], &w, BR_ERROR));
	}
	assert_int_equal(ubd_stat(&d, "death: active"), 2);
	assert_int_equal(ubd_stat(&d, "driver quota refused death notifications"), 1);
	assert_bystander_served(&d);
	for (int i = 0; i < 4; i++)
		rc_close(&c[i]);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stat(&d, "death: active"), 0);
	assert_int_equal(ubd_stat(&d, "driver quota uids"), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

/* Sends one oneway of @size bytes with @code to handle 0; returns the BR_ code of its outcome. */
static uint32_t oneway_outcome(struct rc *c, size_t size, uint32_t code)
{
	static uint8_t data[8192];
	struct cmdbuf w = { .len = 0 };
	uint8_t buf[256];

	assert_true(size <= sizeof(data));
	cb_txn(&w, BC_TRANSACTION, 0, code, TF_ONE_WAY, data, size, NULL, 0);
	for (const void *wp = w.buf;; wp = NULL) {
		uint64_t rcons = 0;

		if (rc_bwr(c, wp, wp ? w.len : 0, buf, sizeof(buf), NULL, &rcons))
			return 0;
		for (size_t pos = 0; pos + 4 <= rcons; pos += 4) {
			uint32_t cmd;

			memcpy(&cmd, buf + pos, 4);
			if (cmd == BR_TRANSACTION_COMPLETE || cmd == BR_ONEWAY_SPAM_SUSPECT ||
			    cmd == BR_FAILED_REPLY || cmd == BR_DEAD_REPLY)
				return cmd;
			if (cmd != BR_NOOP && cmd != BR_SPAWN_LOOPER)
				return cmd;
		}
	}
}

struct oneway_bystander {
	const char *sock;
	long bound_ms;
};

/* Another uid's oneway to the manager: completed within the bound. */
static int oneway_bystander_main(void *arg)
{
	struct oneway_bystander *b = arg;
	long start = now_ms();
	uint32_t cmd;
	struct rc c;

	if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 2;
	if (rc_open(&c, b->sock, 0) != 0)
		return 4;
	cmd = oneway_outcome(&c, 4096, 1);
	rc_close(&c);
	if (cmd != BR_TRANSACTION_COMPLETE)
		return 1;
	return now_ms() - start < b->bound_ms ? 0 : 3;
}

/*
 * A sprayer with no region of its own sends oneways to a manager that holds
 * them (busy with the first one): each one completes until its uid's
 * pending oneway bytes would pass the quota; the next fails as on a full
 * async space (BR_FAILED_REPLY, ENOSPC in the extended error), and so does
 * another process of the same uid, while another uid's oneway completes.
 * Once the manager frees them, the uid may send again, and nothing is
 * left charged.
 */
static void oneway_bytes_quota_per_uid(void **state)
{
	const char *const args[] = { "--max-oneway-per-uid", "64K", NULL };
	struct binder_extended_error ee = { 0 };
	struct echo_manager m;
	struct rc spray, other;
	struct ubd d;
	int fds_before, sent = 0;
	uint32_t cmd;

	(void)state;
	fds_before = start_daemon(&d, args);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&spray, d.sock, 0), 0); /* no region */
	/* The manager takes this one and holds it: the rest wait behind it, unfreed. */
	assert_int_equal(oneway_outcome(&spray, 8, ECHO_HOLD), BR_TRANSACTION_COMPLETE);
	assert_int_equal(sync_wait(&m.ready, 10000), 2);
	while ((cmd = oneway_outcome(&spray, 4096, 1)) == BR_TRANSACTION_COMPLETE)
		sent++;
	/* 8 + 15 * 4096 bytes fit in 64 KiB; the sixteenth would not. */
	assert_int_equal(cmd, BR_FAILED_REPLY);
	assert_int_equal(sent, 15);
	assert_int_equal(rc_ioctl(&spray, BINDER_GET_EXTENDED_ERROR, &ee), 0);
	assert_int_equal(ee.command, BR_FAILED_REPLY);
	assert_int_equal(ee.param, -ENOSPC);
	assert_int_equal(ubd_stat(&d, "driver quota refused oneway bytes"), 1);
	/* The quota is the uid's: another process of it is refused as well. */
	assert_int_equal(rc_open(&other, d.sock, 1 << 20), 0);
	assert_int_equal(oneway_outcome(&other, 4096, 1), BR_FAILED_REPLY);
	assert_int_equal(ubd_stat(&d, "driver quota refused oneway bytes"), 2);
	if (geteuid() == 0) {
		struct oneway_bystander b = { .sock = d.sock, .bound_ms = 5000 };

		assert_int_equal(test_run_child(oneway_bystander_main, &b, 10000), 0);
	} else {
		fprintf(stderr,
			"# not root: no bystander of another uid while the quota is full\n");
	}

	/* The manager frees them all: the uid sends again. */
	sync_post(&m.go, 1);
	for (int i = 0; i < 500 && ubd_stat(&d, "buffers") > 0; i++)
		poll(NULL, 0, 10);
	assert_int_equal(ubd_stat(&d, "buffers"), 0);
	assert_int_equal(oneway_outcome(&other, 4096, 1), BR_TRANSACTION_COMPLETE);
	rc_close(&other);
	rc_close(&spray);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stat(&d, "driver quota uids"), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

int main(void)
{
	/* Unfinished requests are written raw on thread sockets: the socket
	 * transport's framing (a ring's packets come only as its markers say). */
	setenv("UBINDER_TRANSPORT", "socket", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(session_and_thread_quotas),
		cmocka_unit_test(descriptor_limit_does_not_spin),
		cmocka_unit_test(listener_pauses_without_reserve),
		cmocka_unit_test(unfinished_requests_are_bounded),
		cmocka_unit_test(stalled_copies_delay_only_their_process),
		cmocka_unit_test(stalled_copies_delay_only_their_uid),
		cmocka_unit_test(driver_object_quotas),
		cmocka_unit_test(oneway_bytes_quota_per_uid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
