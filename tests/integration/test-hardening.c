/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the daemon's trust boundaries, each with the defence that stops
 * it: counts that lie about the body, a squatted socket directory, reading
 * the daemon's descriptors or memory, scribbling on one's own region, and
 * freezing another uid's process. After each, a bystander must still be
 * served within a bound, and the stats must show nothing left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

#define CODE_STOP	   0x5709
#define BYSTANDER_BOUND_MS 5000

/* A context manager that answers every call with the bytes it got, until CODE_STOP. */
static int echo_manager_main(void *arg)
{
	struct sync *ready = arg;
	struct binder_transaction_data tr;
	struct cmdbuf w;
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open_manager(&c, D.sock, 1 << 20, NULL) == 0);
	sync_post(ready, 1);
	for (;;) {
		CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
		if (cmd != BR_TRANSACTION)
			continue;
		w.len = 0;
		cb_txn(&w, BC_REPLY, 0, tr.code, 0, (const void *)(uintptr_t)tr.data.ptr.buffer,
		       tr.data_size < 1024 ? tr.data_size : 1024, NULL, 0);
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
		if (tr.code == CODE_STOP)
			break;
	}
	rc_close(&c);
	return 0;
}

/* One call to the manager; 0 if the reply echoes the call. */
static int bystander_call(void *arg)
{
	uint32_t code = (uint32_t)(uintptr_t)arg, cmd = 0;
	static const char msg[] = "still served";
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct rc c;

	CHECK(rc_open(&c, D.sock, 1 << 20) == 0);
	cb_txn(&w, BC_TRANSACTION, 0, code, 0, msg, sizeof(msg), NULL, 0);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
	CHECK(cmd == BR_REPLY && tr.data_size == sizeof(msg));
	CHECK(memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, msg, sizeof(msg)) == 0);
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	rc_close(&c);
	return 0;
}

/* The echo manager in a child, registered when this returns. */
static pid_t echo_manager_start(struct sync *ready)
{
	pid_t pid;

	sync_init(ready);
	pid = spawn(echo_manager_main, ready);
	assert_int_equal(sync_wait(ready, BYSTANDER_BOUND_MS), 1);
	return pid;
}

/* Stops it with a call of CODE_STOP and reaps it. */
static void echo_manager_stop(pid_t pid, struct sync *ready)
{
	assert_int_equal(
		reap(spawn(bystander_call, (void *)(uintptr_t)CODE_STOP), BYSTANDER_BOUND_MS), 0);
	assert_int_equal(reap(pid, BYSTANDER_BOUND_MS), 0);
	close(ready->fds[0]);
	close(ready->fds[1]);
}

/*
 * After an attack: a bystander's call through a fresh manager completes
 * within the bound, then the daemon holds nothing and has the descriptors
 * it had before.
 */
static void assert_bystander_served_and_nothing_leaked(int fds_before)
{
	struct sync ready;
	pid_t manager;

	manager = echo_manager_start(&ready);
	assert_int_equal(reap(spawn(bystander_call, (void *)(uintptr_t)1), BYSTANDER_BOUND_MS), 0);
	echo_manager_stop(manager, &ready);
	assert_int_equal(ubd_wait_idle(&D), 0);
	assert_int_equal(ubd_stat(&D, "buffers"), 0);
	assert_int_equal(ubd_stat(&D, "transaction: active"), 0);
	assert_int_equal(ubd_stat(&D, "node: active"), 0);
	assert_int_equal(ubd_stat(&D, "ref: active"), 0);
	assert_int_equal(ubd_stat(&D, "thread: active"), 0);
	assert_int_equal(ubd_wait_fds(&D, fds_before), fds_before);
}

/* A number of kB from /proc/PID/status, e.g. "VmPeak". */
static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	}
	fclose(f);
	return kb;
}

/* Sends @len bytes of @req on a new thread connection; the daemon must hang up within 5 s. */
static void thread_request_expect_hangup(const void *req, size_t len)
{
	struct pollfd pfd = { .events = POLLIN };
	struct ubt_session s;
	struct ubt_thread t;
	uint8_t buf[256];
	ssize_t n = 1;

	assert_int_equal(ubt_session_open(&s, D.sock, false, true, &ubt_libc), 0);
	assert_int_equal(ubt_thread_open(&t, &s), 0);
	pfd.fd = t.sock;
	assert_int_equal(send(t.sock, req, len, MSG_NOSIGNAL), (ssize_t)len);
	while (n > 0 && poll(&pfd, 1, 5000) == 1)
		n = recv(t.sock, buf, sizeof(buf), 0);
	assert_true(n <= 0); /* a hang-up, not a timeout */
	ubt_thread_close(&t);
	ubt_session_close(&s);
}

/*
 * UBW_WRITE_READ bodies whose segment count could never fit in them: the
 * daemon refuses them as malformed without sizing anything by the count (its
 * peak of virtual memory stays where it was; 10^8 segments once cost 2.4 GB).
 */
static void lying_segment_counts(void **state)
{
	static const uint32_t lies[] = { 0xffffffffu, 100000000u, 5000000u };
	int fds_before = ubd_settled_fds(&D);
	long peak_before = proc_status_kb(D.pid, "VmPeak");

	(void)state;
	assert_true(peak_before > 0);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		struct {
			struct ubw_write_read wr;
			uint64_t body[4];
		} m = { .wr = { .hdr = { UBW_WRITE_READ, 0 },
				.write_size = 8,
				.body_size = sizeof(m.body),
				.write_len = 8,
				.nsegments = lies[i] } };

		thread_request_expect_hangup(&m, sizeof(m));
	}
	/* The same lie in a request that arrives in several packets. */
	{
		struct ubw_write_read wr = { .hdr = { UBW_WRITE_READ, 0 },
					     .body_size = 64 * 1024,
					     .nsegments = 0xffffffffu };
		struct ubw_header more = { UBW_WRITE_READ_MORE, 0 };
		struct pollfd pfd = { .events = POLLIN };
		static uint8_t chunk[32 * 1024];
		struct iovec iov[2] = { { &more, sizeof(more) }, { chunk, sizeof(chunk) } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
		struct ubt_session s;
		struct ubt_thread t;
		ssize_t n = 1;

		assert_int_equal(ubt_session_open(&s, D.sock, false, true, &ubt_libc), 0);
		assert_int_equal(ubt_thread_open(&t, &s), 0);
		pfd.fd = t.sock;
		iov[0] = (struct iovec){ &wr, sizeof(wr) };
		assert_true(sendmsg(t.sock, &msg, MSG_NOSIGNAL) > 0);
		iov[0] = (struct iovec){ &more, sizeof(more) };
		assert_true(sendmsg(t.sock, &msg, MSG_NOSIGNAL) > 0);
		while (n > 0 && poll(&pfd, 1, 5000) == 1)
			n = recv(t.sock, chunk, 256, 0);
		assert_true(n <= 0);
		ubt_thread_close(&t);
		ubt_session_close(&s);
	}
	assert_true(proc_status_kb(D.pid, "VmPeak") - peak_before < 256 * 1024);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

struct squatter {
	char path[100];
	uid_t listen_uid; /* the uid that calls listen() */
	struct sync ready, done;
};

/* Listens at @path as listen_uid until told to stop: a socket clients must not trust. */
static int squatter_main(void *arg)
{
	struct squatter *q = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->path);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(chmod(q->path, 0666) == 0);
	if (q->listen_uid != geteuid())
		CHECK(setresgid(q->listen_uid, q->listen_uid, q->listen_uid) == 0 &&
		      setresuid(q->listen_uid, q->listen_uid, q->listen_uid) == 0);
	CHECK(listen(fd, 8) == 0);
	sync_post(&q->ready, 1);
	/* Whoever connects is hung up on, until the test is done. */
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = q->done.fds[0], .events = POLLIN } };

		CHECK(poll(p, 2, 10000) > 0);
		if (p[1].revents)
			break;
		close(accept(fd, NULL, NULL));
	}
	close(fd);
	return 0;
}

/* A client's session open on a squatter's socket in @dir; returns its error. */
static int open_on_squatter(const char *dir, uid_t listen_uid)
{
	struct squatter q = { .listen_uid = listen_uid };
	struct ubt_session s;
	pid_t pid;
	int err;

	snprintf(q.path, sizeof(q.path), "%s/binder", dir);
	sync_init(&q.ready);
	sync_init(&q.done);
	pid = spawn(squatter_main, &q);
	assert_int_equal(sync_wait(&q.ready, 5000), 1);
	err = ubt_session_open(&s, q.path, false, true, &ubt_libc);
	if (err == 0)
		ubt_session_close(&s);
	sync_post(&q.done, 1);
	assert_int_equal(reap(pid, 5000), 0);
	unlink(q.path);
	for (int i = 0; i < 2; i++) {
		close(q.ready.fds[i]);
		close(q.done.fds[i]);
	}
	return err;
}

/*
 * Clients check where the daemon's socket is and who listens on it before
 * they trust it: a directory others may write, a symlinked directory, one
 * another uid owns, and a listener of another uid in a good directory are
 * each refused (-EACCES for the place, -EPERM for the listener).
 */
static void clients_refuse_a_squatted_socket(void **state)
{
	char base[] = "/tmp/ubinder-squat-XXXXXX";
	char dir[96], link[96], link_sock[128];
	int fds_before = ubd_settled_fds(&D);
	struct ubt_session s;
	int err;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/open", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(open_on_squatter(dir, geteuid()), -EACCES);
	assert_int_equal(chmod(dir, 0700), 0);
	/* The control: trusted, so the client talks to it (and finds no daemon). */
	err = open_on_squatter(dir, geteuid());
	assert_true(err != 0 && err != -EACCES && err != -EPERM);
	/* The daemon's own directory, reached through a symlink. */
	snprintf(link, sizeof(link), "%s/link", base);
	assert_int_equal(symlink(D.dir, link), 0);
	snprintf(link_sock, sizeof(link_sock), "%s/binder", link);
	assert_int_equal(ubt_session_open(&s, link_sock, false, true, &ubt_libc), -EACCES);
	assert_int_equal(unlink(link), 0);
	if (geteuid() == 0) {
		assert_int_equal(open_on_squatter(dir, 65534), -EPERM);
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_equal(chmod(dir, 0755), 0);
		assert_int_equal(open_on_squatter(dir, 0), -EACCES);
	} else {
		printf("# skipped the other-uid cases: they need root to act as uid 65534\n");
	}
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir(base), 0);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

/* --- the daemon's descriptors and memory ------------------------------------ */

struct region_holder {
	const char *sock;
	struct sync ready, done;
};

/* A client of uid 65534 with a mapped region, until told to stop. */
static int region_holder_main(void *arg)
{
	struct region_holder *h = arg;
	struct rc c;

	CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0);
	CHECK(rc_open(&c, h->sock, 1 << 20) == 0);
	sync_post(&h->ready, 1);
	sync_wait(&h->done, 10000);
	rc_close(&c);
	return 0;
}

#define REACHED_FD     1 /* opened one of the daemon's descriptors read-write */
#define REACHED_MEMORY 2 /* opened /proc/<daemon>/mem */
#define REACHED_PTRACE 4 /* attached with ptrace */

/* What a process of uid 65534 reaches of the daemon @pid: REACHED_* bits as the exit status. */
static int same_uid_attacker_main(void *arg)
{
	pid_t pid = (pid_t)(uintptr_t)arg;
	char path[64];
	int reached = 0, fd;

	CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0);
	for (int n = 0; n < 256; n++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, n);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			reached |= REACHED_FD;
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		reached |= REACHED_MEMORY;
		close(fd);
	}
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == 0) {
		reached |= REACHED_PTRACE;
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return reached;
}

/* What a process of the daemon's uid reaches while another one has a region mapped. */
static int reach_of_same_uid_attacker(const char *const *daemon_args)
{
	struct region_holder h;
	struct ubd d;
	pid_t holder;
	int reached;

	assert_int_equal(ubd_start_as(&d, daemon_args, 65534), 0);
	h.sock = d.sock;
	sync_init(&h.ready);
	sync_init(&h.done);
	holder = spawn(region_holder_main, &h);
	assert_int_equal(sync_wait(&h.ready, 5000), 1);
	reached = reap(spawn(same_uid_attacker_main, (void *)(uintptr_t)d.pid), 10000);
	sync_post(&h.done, 1);
	assert_int_equal(reap(holder, 5000), 0);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stop(&d), 0);
	for (int i = 0; i < 2; i++) {
		close(h.ready.fds[i]);
		close(h.done.fds[i]);
	}
	unsetenv("UBINDER_DAEMON_UID");
	return reached;
}

/*
 * The daemon holds every process's region read-write. A process of its uid
 * must not get at them through /proc/<daemon>/fd, nor at the daemon's
 * memory (/proc/<daemon>/mem, ptrace). --dumpable, the debugging switch,
 * shows that the descriptors are there to be taken otherwise.
 */
static void same_uid_process_cannot_reach_the_daemon(void **state)
{
	int fds_before = ubd_settled_fds(&D);

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to run the daemon and the attacker as uid 65534 */
	assert_int_equal(reach_of_same_uid_attacker(NULL), 0);
	/* (Yama's ptrace scope, where set, still stops the other two.) */
	assert_true(reach_of_same_uid_attacker((const char *[]){ "--dumpable", NULL }) &
		    REACHED_FD);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

/* --- a client scribbling on its own region ---------------------------------- */

#define SCRIBBLE_HANDLE 0x7777

struct scribble {
	struct sync ready, freed, go;
	pid_t manager;
};

/* A view of our whole region we may write (the trick any client of the
 * daemon's uid can play), in *@view; 0 or 1 (CHECK). */
static int writable_view(const struct rc *c, uint8_t **view)
{
	char path[96];
	int ro, rw;
	void *map;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)c->map,
		 (unsigned long)c->map + c->map_size);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0 && fchmod(ro, 0600) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
	rw = open(path, O_RDWR | O_CLOEXEC);
	CHECK(rw >= 0);
	map = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	CHECK(map != MAP_FAILED);
	close(rw);
	close(ro);
	*view = map;
	return 0;
}

/*
 * The manager: receives an object, rewrites the buffer in its region (the
 * object's type and handle, the offsets, the data), forwards the buffer in
 * its reply and frees it.
 */
static int scribbling_manager_main(void *arg)
{
	struct scribble *sc = arg;
	struct binder_transaction_data tr;
	struct flat_binder_object obj;
	struct cmdbuf w = { .len = 0 };
	const uint8_t *buf;
	uint8_t *view;
	binder_size_t offset;
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open_manager(&c, D.sock, 1 << 20, NULL) == 0);
	sync_post(&sc->ready, 1);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0 && cmd == BR_TRANSACTION);
	buf = (const uint8_t *)(uintptr_t)tr.data.ptr.buffer;
	memcpy(&offset, (const void *)(uintptr_t)tr.data.ptr.offsets, sizeof(offset));
	memcpy(&obj, buf + offset, sizeof(obj));
	CHECK(obj.hdr.type == BINDER_TYPE_HANDLE && tr.offsets_size == sizeof(offset));
	CHECK(writable_view(&c, &view) == 0);
	obj.handle = SCRIBBLE_HANDLE;
	memcpy(view + (buf - (const uint8_t *)c.map) + offset, &obj, sizeof(obj));
	memset(view + (buf - (const uint8_t *)c.map) + sizeof(obj), 'S',
	       tr.data_size - sizeof(obj));
	offset = 3;
	memcpy(view + (tr.data.ptr.offsets - (uintptr_t)c.map), &offset, sizeof(offset));
	/* The scribbles are in the region the daemon handed out. */
	CHECK(buf[tr.data_size - 1] == 'S');
	munmap(view, c.map_size);
	cb_txn(&w, BC_REPLY, 0, 0, 0, buf, tr.data_size, NULL, 0);
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	sync_post(&sc->freed, 1);
	sync_wait(&sc->go, 10000);
	rc_close(&c);
	return 0;
}

/* Reads until BR_REPLY, skipping the node work the sent object brings; fills @tr. */
static int wait_for_reply(struct rc *c, struct binder_transaction_data *tr)
{
	uint8_t buf[512];

	for (;;) {
		uint64_t got = 0;
		size_t pos = 0;

		if (rc_bwr(c, NULL, 0, buf, sizeof(buf), NULL, &got) != 0)
			return -1;
		while (pos + 4 <= got) {
			uint32_t code;

			memcpy(&code, buf + pos, 4);
			pos += 4 + _IOC_SIZE(code);
			if (code == BR_REPLY) {
				memcpy(tr, buf + pos - sizeof(*tr), sizeof(*tr));
				return 0;
			}
			if (code != BR_NOOP && code != BR_TRANSACTION_COMPLETE &&
			    code != BR_INCREFS && code != BR_ACQUIRE && code != BR_SPAWN_LOOPER)
				return -1;
		}
	}
}

/*
 * A client that scribbles on its own region changes nothing the daemon
 * releases: BC_FREE_BUFFER releases the reference the buffer delivered
 * (from the daemon's own record), not the handle or offsets now written
 * there. A reply forwarding the buffer carries the scribbled bytes, as data
 * is the sender's to choose, and no object, as the reply declares none.
 */
static void own_region_scribbles_change_nothing_released(void **state)
{
	static const uint8_t filler[24] = "the object's neighbours";
	int fds_before = ubd_settled_fds(&D);
	struct flat_binder_object obj = { .hdr.type = BINDER_TYPE_BINDER,
					  .binder = 0x1000,
					  .cookie = 0x2000 };
	binder_size_t offset = 0;
	struct binder_transaction_data tr;
	struct scribble sc;
	uint8_t data[sizeof(obj) + sizeof(filler)];
	struct cmdbuf w = { .len = 0 };
	char *text;
	struct rc c;

	(void)state;
	if (geteuid() != 0)
		skip(); /* /proc/self/map_files, the way to the region's file, needs root */
	sync_init(&sc.ready);
	sync_init(&sc.freed);
	sync_init(&sc.go);
	sc.manager = spawn(scribbling_manager_main, &sc);
	assert_int_equal(sync_wait(&sc.ready, 5000), 1);
	memcpy(data, &obj, sizeof(obj));
	memcpy(data + sizeof(obj), filler, sizeof(filler));
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	cb_txn(&w, BC_TRANSACTION, 0, 1, TF_ACCEPT_FDS, data, sizeof(data), &offset,
	       sizeof(offset));
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(wait_for_reply(&c, &tr), 0);
	assert_int_equal(tr.data_size, sizeof(data));
	assert_int_equal(tr.offsets_size, 0);
	assert_int_equal(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[sizeof(data) - 1], 'S');
	assert_int_equal(sync_wait(&sc.freed, 5000), 1);
	/* The manager holds no reference: the delivered one was released exactly. */
	text = ubd_admin(&D, UBW_ADMIN_PROC, sc.manager, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "proc "));
	assert_null(strstr(text, "  ref "));
	free(text);
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	rc_close(&c);
	sync_post(&sc.go, 1);
	assert_int_equal(reap(sc.manager, 5000), 0);
	for (int i = 0; i < 2; i++) {
		close(sc.ready.fds[i]);
		close(sc.freed.fds[i]);
		close(sc.go.fds[i]);
	}
	assert_bystander_served_and_nothing_leaked(fds_before);
}

/* --- BINDER_FREEZE across uids ------------------------------------------------ */

struct freezer {
	const char *sock;
	pid_t target;	  /* a process of another uid (root) */
	int expect_other; /* BINDER_FREEZE's result on it */
};

static int freeze_ioctl(struct rc *c, pid_t pid, bool enable)
{
	struct binder_freeze_info info = { .pid = (uint32_t)pid, .enable = enable };

	return rc_ioctl(c, BINDER_FREEZE, &info);
}

/* As uid 65534: freezes the other uid's process (expecting expect_other), then itself. */
static int freezer_main(void *arg)
{
	struct freezer *f = arg;
	struct rc c;

	CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0);
	CHECK(rc_open(&c, f->sock, 1 << 20) == 0);
	CHECK(freeze_ioctl(&c, f->target, true) == f->expect_other);
	if (f->expect_other == 0)
		CHECK(freeze_ioctl(&c, f->target, false) == 0);
	CHECK(freeze_ioctl(&c, getpid(), true) == 0);
	CHECK(freeze_ioctl(&c, getpid(), false) == 0);
	rc_close(&c);
	return 0;
}

/* With @d's directory open to uid 65534: what its BINDER_FREEZE of a root process gets. */
static void freeze_from_another_uid(const struct ubd *d, int expect)
{
	struct freezer f = { .sock = d->sock, .target = getpid(), .expect_other = expect };
	struct rc c;

	assert_int_equal(chmod(d->dir, 0755), 0);
	assert_int_equal(rc_open(&c, d->sock, 1 << 20), 0);
	assert_int_equal(reap(spawn(freezer_main, &f), 5000), 0);
	/* Root may freeze (and thaw) anyone. */
	assert_int_equal(freeze_ioctl(&c, getpid(), true), 0);
	assert_int_equal(freeze_ioctl(&c, getpid(), false), 0);
	rc_close(&c);
	assert_int_equal(chmod(d->dir, 0700), 0);
}

/*
 * By default only root and the target's own uid may freeze a process: uid
 * 65534 freezing a root process gets EPERM (the kernel has no check; Android
 * gates BINDER_FREEZE with SELinux). --freeze-policy any is the kernel's
 * behaviour.
 */
static void freeze_of_another_uids_process(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct ubd any;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to act as uid 65534 */
	freeze_from_another_uid(&D, -EPERM);
	assert_int_equal(ubd_start(&any, (const char *[]){ "--freeze-policy", "any", NULL }), 0);
	freeze_from_another_uid(&any, 0);
	assert_int_equal(ubd_wait_idle(&any), 0);
	assert_int_equal(ubd_stop(&any), 0);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

/* --- fd array counts ------------------------------------------------------------ */

/* A BC_TRANSACTION_SG to the manager: @data with objects at @offsets; returns the BR_ that ends it. */
static uint32_t send_objects(const void *data, size_t data_size, const binder_size_t *offsets,
			     size_t n, uint64_t buffers_size)
{
	struct binder_transaction_data_sg sg = { .buffers_size = buffers_size };
	struct cmdbuf w = { .len = 0 };
	struct rc c;
	uint32_t cmd = 0;

	sg.transaction_data.code = 1;
	sg.transaction_data.data_size = data_size;
	sg.transaction_data.offsets_size = n * sizeof(binder_size_t);
	sg.transaction_data.data.ptr.buffer = (uintptr_t)data;
	sg.transaction_data.data.ptr.offsets = (uintptr_t)offsets;
	if (rc_open(&c, D.sock, 1 << 20) != 0)
		return 0;
	cb_u32(&w, BC_TRANSACTION_SG);
	cb_bytes(&w, &sg, sizeof(sg));
	if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) != 0 || rc_wait_for(&c, &cmd, NULL) != 0)
		cmd = 0;
	rc_close(&c);
	return cmd;
}

/*
 * fd arrays whose counts add up past 2^64: they name a parent buffer that
 * claims to be 2^64 - 1 bytes long (so each count "fits" it), and the sum of
 * their counts wraps to 1. The daemon sized its array of descriptor numbers
 * by that sum, then read the first array, (2^62 - 1) * 4 bytes of the
 * sender's choice, into it. Now the transaction fails as the kernel fails a
 * parent buffer larger than the scatter-gather space.
 */
static void fd_array_counts_that_wrap(void **state)
{
	static uint32_t numbers[1024];
	int fds_before = ubd_settled_fds(&D);
	struct {
		struct binder_buffer_object parent;
		struct binder_fd_array_object fda[5];
	} objs;
	binder_size_t offsets[6] = { 0 };
	struct sync ready;
	pid_t manager;

	(void)state;
	memset(&objs, 0, sizeof(objs));
	objs.parent.hdr.type = BINDER_TYPE_PTR;
	objs.parent.buffer = (uintptr_t)numbers;
	objs.parent.length = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		objs.fda[i].hdr.type = BINDER_TYPE_FDA;
		objs.fda[i].parent = 0;
		objs.fda[i].num_fds = (1ull << 62) - 1; /* the most that "fits" */
		offsets[1 + i] = sizeof(objs.parent) + (size_t)i * sizeof(objs.fda[0]);
	}
	objs.fda[4].num_fds = 5; /* the sum: 2^64 + 1 */
	manager = echo_manager_start(&ready);
	assert_int_equal(send_objects(&objs, sizeof(objs), offsets, 6, 8), BR_FAILED_REPLY);
	echo_manager_stop(manager, &ready);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

/* --- many segments ---------------------------------------------------------------- */

#define FLOOD_OBJECTS  20000
#define FLOOD_SEGMENTS 400000 /* empty ones, ahead of the two that matter */

/* A client's open, thread and BINDER_VERSION: 0 when the daemon answered. */
static int version_client(void *arg)
{
	struct rc c;

	(void)arg;
	CHECK(rc_open(&c, D.sock, 0) == 0);
	rc_close(&c);
	return 0;
}

/* Sends UBW_WRITE_READ @wr with its body in as many packets as it takes. */
static void send_request(int sock, const struct ubw_write_read *wr, const uint8_t *body)
{
	struct ubw_header more = { UBW_WRITE_READ_MORE, 0 };
	size_t off = 0, head = sizeof(*wr);
	struct iovec iov[2] = { { (void *)wr, sizeof(*wr) } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	while (off < wr->body_size) {
		size_t n = wr->body_size - off < UBW_MAX_MESSAGE - head ? wr->body_size - off
									: UBW_MAX_MESSAGE - head;

		iov[1] = (struct iovec){ (void *)(body + off), n };
		assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)(head + n));
		off += n;
		iov[0] = (struct iovec){ &more, sizeof(more) };
		head = sizeof(more);
	}
}

/*
 * A request of 400,000 inline segments and a transaction of 20,000 objects
 * that the daemon looks up among them: each lookup scanned every segment,
 * and the whole daemon stood still for 18 s (measured). Lookups are now
 * O(log n), so a bystander's open is served within the bound while the
 * request is handled, and the request gets its error.
 */
static void many_segments_cost_only_their_sender(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct flat_binder_object *objs = calloc(FLOOD_OBJECTS, sizeof(*objs));
	binder_size_t *offsets = calloc(FLOOD_OBJECTS, sizeof(*offsets));
	size_t write_len = 4 + sizeof(struct binder_transaction_data), len;
	struct binder_transaction_data tr = { .code = 1 };
	struct ubw_segment seg;
	uint32_t cmd = BC_TRANSACTION;
	struct ubw_write_read wr;
	struct ubt_session s;
	struct ubt_thread t;
	struct sync ready;
	uint8_t *body;
	pid_t manager;

	(void)state;
	assert_non_null(objs);
	assert_non_null(offsets);
	for (size_t i = 0; i < FLOOD_OBJECTS; i++) {
		objs[i].hdr.type = BINDER_TYPE_HANDLE;
		offsets[i] = i * sizeof(*objs);
	}
	tr.data_size = FLOOD_OBJECTS * sizeof(*objs);
	tr.offsets_size = FLOOD_OBJECTS * sizeof(*offsets);
	tr.data.ptr.buffer = (uintptr_t)objs;
	tr.data.ptr.offsets = (uintptr_t)offsets;
	body = calloc(1, 8u << 20);
	assert_non_null(body);
	memcpy(body, &cmd, 4);
	memcpy(body + 4, &tr, sizeof(tr));
	len = UBW_ALIGN_UP(write_len);
	for (size_t i = 0; i < FLOOD_SEGMENTS; i++, len += sizeof(seg)) {
		seg = (struct ubw_segment){ 0x10000 + i * 8, 0 };
		memcpy(body + len, &seg, sizeof(seg));
	}
	seg = (struct ubw_segment){ (uintptr_t)objs, tr.data_size };
	memcpy(body + len, &seg, sizeof(seg));
	memcpy(body + len + sizeof(seg), objs, tr.data_size);
	len += sizeof(seg) + UBW_ALIGN_UP(tr.data_size);
	seg = (struct ubw_segment){ (uintptr_t)offsets, tr.offsets_size };
	memcpy(body + len, &seg, sizeof(seg));
	memcpy(body + len + sizeof(seg), offsets, tr.offsets_size);
	len += sizeof(seg) + UBW_ALIGN_UP(tr.offsets_size);
	wr = (struct ubw_write_read){ .hdr = { UBW_WRITE_READ, 0 },
				      .write_size = write_len,
				      .body_size = len,
				      .write_len = (uint32_t)write_len,
				      .nsegments = FLOOD_SEGMENTS + 2 };

	manager = echo_manager_start(&ready);
	assert_int_equal(ubt_session_open(&s, D.sock, false, true, &ubt_libc), 0);
	assert_int_equal(ubt_thread_open(&t, &s), 0);
	send_request(t.sock, &wr, body);
	/* Bystanders while the daemon reads the last packets and handles the request. */
	for (int i = 0; i < 4; i++) {
		poll(NULL, 0, 100);
		assert_int_equal(reap(spawn(version_client, NULL), 2000), 0);
	}
	/* The sender's own answer comes too (the call fails: it holds no handle 0 to send). */
	{
		uint8_t reply[512];
		struct pollfd pfd = { .fd = t.sock, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, BYSTANDER_BOUND_MS), 1);
		assert_true(recv(t.sock, reply, sizeof(reply), 0) >=
			    (ssize_t)sizeof(struct ubw_write_read_reply));
	}
	ubt_thread_close(&t);
	ubt_session_close(&s);
	free(body);
	free(objs);
	free(offsets);
	echo_manager_stop(manager, &ready);
	assert_bystander_served_and_nothing_leaked(fds_before);
}

int main(void)
{
	/* These tests write raw packets on thread sockets: the socket transport's
	 * framing. A ring's packets come only as its markers say (the ring's own
	 * hostile tests are tests/integration/test-ring*.c). */
	setenv("UBINDER_TRANSPORT", "socket", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lying_segment_counts),
		cmocka_unit_test(clients_refuse_a_squatted_socket),
		cmocka_unit_test(same_uid_process_cannot_reach_the_daemon),
		cmocka_unit_test(own_region_scribbles_change_nothing_released),
		cmocka_unit_test(freeze_of_another_uids_process),
		cmocka_unit_test(fd_array_counts_that_wrap),
		cmocka_unit_test(many_segments_cost_only_their_sender),
	};

	return cmocka_run_group_tests(tests, ubd_group_setup, ubd_group_teardown);
}
