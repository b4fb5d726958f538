/* SPDX-License-Identifier: MIT */
/*
 * The daemon in a memory cgroup under real pressure: a page-cache thrasher
 * in a limited cgroup makes the kernel reclaim, the kernel's notification
 * (the v1 cgroup's memory.pressure_level, or a PSI trigger on a v2 cgroup)
 * reaches the daemon, and its LRU drains; a burst that would pass the
 * cgroup's limit succeeds once lru pages are given back, or fails the call
 * with BR_FAILED_REPLY, and the kernel's OOM killer never runs. Outbox
 * pages a client freed go with the LRU's drain.
 *
 * Each test makes its own cgroups below this process's ("ubinder-test-PID-N")
 * and removes them, with every process in them, before it ends. Where they
 * cannot be made (no hierarchy mounted, not root, a read-only cgroupfs), the
 * test is skipped and says why.
 *
 * The drain time is measured independently of the daemon: the test arms
 * the same notification for itself, and polls the daemon's stats from the
 * moment the kernel told it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/outbox_pages.h"
#include "daemon/memcg.h"
#include "echo.h"
#include "harness.h"
#include "test-util.h"
#include "wire/packet.h"

#define MIB	       ((size_t)1 << 20)
#define PAGE	       4096u
#define BIG_CALL       (7 * MIB / 2)	     /* fits the echo manager's 4 MiB region */
#define DRAIN_BOUND_MS 1000		     /* kernel notification to empty LRU */
#define NOTIFY_WAIT_MS 30000		     /* thrashing until the kernel notifies */
#define PSI_TRIGGER    "some 100000 2000000" /* as the daemon's */
#define THRASH_DIR     "/var/tmp"

enum {
	V1,
	V2,
	HIERARCHIES
};

/* A cgroup of each hierarchy made for one test ("" where not made). */
struct box {
	char dir[HIERARCHIES][300];
	char home[HIERARCHIES][300]; /* this process's cgroup before */
	int limited;		     /* the hierarchy of its memory limit: V1 or V2 */
};

/* The boxes a test made and has not removed yet: its teardown removes them
 * (so boxes are static: a failed test's stack is gone by then). */
static struct box *made[4];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[400];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	ok = ok ? 0 : -errno;
	close(fd);
	return ok;
}

/* A number from a cgroup file: the file's first number, or the one after "KEY ". */
static long long read_number(const char *dir, const char *name, const char *key)
{
	char path[400], text[8192];
	long long v = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	if (!key)
		return strtoll(text, NULL, 10);
	for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ')
			v = strtoll(line + strlen(key) + 1, NULL, 10);
	return v;
}

/*
 * Makes the cgroups @want asks for, below this process's ([V1]: with a
 * memory limit of @limit bytes unless 0; [V2]: for its PSI file). Returns
 * NULL, or why it cannot.
 */
static const char *box_make(struct box *b, const bool want[HIERARCHIES], size_t limit)
{
	static unsigned int serial;
	char name[64], text[32];

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		if (!made[i]) {
			made[i] = b;
			break;
		}
	snprintf(name, sizeof(name), "ubinder-test-%d-%u", (int)getpid(), ++serial);
	for (int h = 0; h < HIERARCHIES; h++) {
		if (!want[h])
			continue;
		if (memcg_find_dir(h == V2, b->home[h], sizeof(b->home[h])) < 0)
			return h == V1 ? "no cgroup v1 memory hierarchy is mounted"
				       : "no cgroup v2 hierarchy is mounted";
		snprintf(b->dir[h], sizeof(b->dir[h]), "%s/%s", b->home[h], name);
		if (mkdir(b->dir[h], 0755) < 0) {
			b->dir[h][0] = '\0';
			return errno == EACCES || errno == EPERM
				       ? "cannot make a cgroup (not root?)"
				       : "cannot make a cgroup";
		}
	}
	snprintf(text, sizeof(text), "%zu", limit);
	if (want[V1] && limit && write_file(b->dir[V1], "memory.limit_in_bytes", text) < 0)
		return "cannot set a v1 memory limit";
	return NULL;
}

/* Whether the space-separated @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/*
 * A box with a memory limit of @limit bytes: a v1 memory cgroup, else a v2
 * cgroup where the memory controller is enabled for this process's
 * children. Returns NULL, or why neither can be made.
 */
static const char *box_make_limited(struct box *b, size_t limit)
{
	const bool v1[HIERARCHIES] = { [V1] = true }, v2[HIERARCHIES] = { [V2] = true };
	char home[300], text[32], path[400], line[256] = "";
	const char *why = box_make(b, v1, limit);
	bool enabled;
	FILE *f;

	b->limited = V1;
	if (!why || memcg_find_dir(false, home, sizeof(home)) >= 0)
		return why;
	/* No v1 memory hierarchy: the unified one, if it offers the controller. */
	if (memcg_find_dir(true, home, sizeof(home)) < 0)
		return "neither a v1 memory hierarchy nor a v2 one is mounted";
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", home);
	f = fopen(path, "re");
	enabled = f && fgets(line, sizeof(line), f) && has_word(line, "memory");
	if (f)
		fclose(f);
	if (!enabled)
		return "no v1 memory hierarchy, and the v2 memory controller is not enabled "
		       "for this process's children";
	why = box_make(b, v2, 0);
	b->limited = V2;
	snprintf(text, sizeof(text), "%zu", limit);
	if (!why && write_file(b->dir[V2], "memory.max", text) < 0)
		why = "cannot set a v2 memory limit";
	return why;
}

/* What the box's memory cgroup is charged now, in bytes. */
static long long box_usage(const struct box *b)
{
	return b->limited == V1 ? read_number(b->dir[V1], "memory.usage_in_bytes", NULL)
				: read_number(b->dir[V2], "memory.current", NULL);
}

/* Moves @pid (0: this process) into the box's cgroups, or (@home) back out. */
static void box_move(const struct box *b, pid_t pid, bool home)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", pid ? (int)pid : (int)getpid());
	for (int h = 0; h < HIERARCHIES; h++)
		if (b->dir[h][0])
			assert_int_equal(
				write_file(home ? b->home[h] : b->dir[h], "cgroup.procs", text), 0);
}

/* Kills what is left in the box (our children only), and removes it. */
static void box_remove(struct box *b)
{
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		if (made[i] == b)
			made[i] = NULL;
	box_move(b, 0, true);
	for (int h = 0; h < HIERARCHIES; h++) {
		long deadline = now_ms() + 5000;

		if (!b->dir[h][0])
			continue;
		while (rmdir(b->dir[h]) < 0 && errno == EBUSY && now_ms() < deadline) {
			char path[400];
			FILE *f;
			int pid;

			snprintf(path, sizeof(path), "%s/cgroup.procs", b->dir[h]);
			f = fopen(path, "re");
			while (f && fscanf(f, "%d", &pid) == 1)
				if (kill(pid, SIGKILL) == 0)
					waitpid(pid, NULL, WNOHANG);
			if (f)
				fclose(f);
			usleep(10 * 1000);
		}
		assert_int_equal(access(b->dir[h], F_OK), -1);
		b->dir[h][0] = '\0';
	}
}

/* OOM kills the kernel did in the box's memory cgroup. */
static long long box_oom_kills(const struct box *b)
{
	return b->limited == V1 ? read_number(b->dir[V1], "memory.oom_control", "oom_kill")
				: read_number(b->dir[V2], "memory.events", "oom_kill");
}

/*
 * Children that make the kernel reclaim: each reads a file of its own over
 * and over, until killed; together the files are larger than their
 * cgroup's limit. Several readers stall more often than one (PSI "some"
 * counts the time any of them waits).
 */
#define THRASHERS 3

struct thrasher {
	const struct box *box;
	char file[THRASHERS][128];
	size_t size; /* of each file */
	int current; /* the file of the child being forked */
	pid_t pid[THRASHERS];
};

static int thrasher_main(void *arg)
{
	struct thrasher *t = arg;
	static char chunk[1 << 16];
	int fd;

	box_move(t->box, 0, false);
	fd = open(t->file[t->current], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	memset(chunk, 0x5a, sizeof(chunk));
	for (size_t done = 0; done < t->size; done += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			return 1;
	for (;;)
		for (off_t off = 0; off < (off_t)t->size; off += sizeof(chunk))
			if (pread(fd, chunk, sizeof(chunk), off) < 0)
				return 1;
}

/* NULL, or why no thrasher can run: its files must be on a disk (a tmpfs
 * file is shmem, which the kernel cannot reclaim without swap). */
static const char *thrasher_start(struct thrasher *t, const struct box *b, size_t total)
{
	struct statfs sf;

	if (statfs(THRASH_DIR, &sf) < 0 || sf.f_type == TMPFS_MAGIC)
		return THRASH_DIR " is not on a disk: no page cache to thrash";
	t->box = b;
	t->size = total / THRASHERS;
	for (t->current = 0; t->current < THRASHERS; t->current++) {
		snprintf(t->file[t->current], sizeof(t->file[0]),
			 THRASH_DIR "/ubinder-thrash-%d-%d", (int)getpid(), t->current);
		t->pid[t->current] = spawn(thrasher_main, t);
	}
	return NULL;
}

static void thrasher_stop(struct thrasher *t)
{
	for (int i = 0; i < THRASHERS; i++) {
		if (t->pid[i] > 0) {
			kill(t->pid[i], SIGKILL);
			reap(t->pid[i], 5000);
			unlink(t->file[i]);
		}
		t->pid[i] = 0;
	}
}

/* This process's own copy of the v1 cgroup's reclaim notification. */
static int memcg_notification(const struct box *b)
{
	char path[400], line[64];
	int efd = eventfd(0, EFD_CLOEXEC), level;

	assert_true(efd >= 0);
	snprintf(path, sizeof(path), "%s/memory.pressure_level", b->dir[V1]);
	level = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(level >= 0);
	snprintf(line, sizeof(line), "%d %d low,local", efd, level);
	assert_int_equal(write_file(b->dir[V1], "cgroup.event_control", line), 0);
	close(level);
	return efd;
}

/* This process's own PSI trigger on the v2 cgroup, as the daemon's. */
static int psi_trigger(const struct box *b)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/memory.pressure", b->dir[V2]);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(write(fd, PSI_TRIGGER, sizeof(PSI_TRIGGER)) > 0);
	return fd;
}

/* A count from the stats line that starts with @line, after " @key ". */
static long stats_count(const struct ubd *d, const char *line_key, const char *key_name)
{
	char *text = ubd_admin(d, UBW_ADMIN_STATS, 0, NULL);
	char key[32];
	const char *line, *at;
	long v = -1;

	assert_non_null(text);
	line = strstr(text, line_key);
	snprintf(key, sizeof(key), " %s ", key_name);
	if (line && (at = strstr(line, key)) != NULL)
		v = strtol(at + strlen(key), NULL, 10);
	free(text);
	return v;
}

/* A count from the `pressure events:` line, e.g. "psi". */
static long pressure_events(const struct ubd *d, const char *source)
{
	return stats_count(d, "\npressure events:", source);
}

/* A count from the `reclaimed:` line, e.g. "cgroup limit". */
static long reclaimed(const struct ubd *d, const char *cause)
{
	return stats_count(d, "\nreclaimed:", cause);
}

/*
 * Waits for the kernel's notification on @fd (@events: POLLIN or POLLPRI),
 * then for the daemon's LRU to empty; returns the milliseconds in between.
 * @started: when the pressure began.
 */
static long notified_to_drained(const struct ubd *d, int fd, short events, long started)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long notified, drained;

	assert_int_equal(poll(&pfd, 1, NOTIFY_WAIT_MS), 1);
	notified = now_ms();
	while (ubd_stat(d, "lru pages") > 0 && now_ms() - notified < 10 * DRAIN_BOUND_MS)
		usleep(1000);
	drained = now_ms();
	if (ubd_stat(d, "lru pages") != 0 || drained - notified >= DRAIN_BOUND_MS) {
		char *text = ubd_admin(d, UBW_ADMIN_STATS, 0, NULL);

		printf("# the daemon's stats:\n%s", text ? text : "(none)\n");
		free(text);
	}
	assert_int_equal(ubd_stat(d, "lru pages"), 0);
	printf("# pressure to kernel notification: %ld ms; notification to empty LRU: %ld ms "
	       "(the daemon's own drain: %ld us)\n",
	       notified - started, drained - notified, ubd_stat(d, "pressure last drain us"));
	return drained - notified;
}

/* The daemon and an echo manager in the box; this process outside it. */
static void start_in_box(struct ubd *d, struct echo_manager *m, const struct box *b,
			 const char *const *args)
{
	box_move(b, 0, false);
	assert_int_equal(ubd_start(d, args), 0);
	echo_start(m, d->sock);
	box_move(b, 0, true);
}

static void stop(struct ubd *d, struct echo_manager *m)
{
	echo_stop(m, d->sock);
	assert_int_equal(ubd_wait_idle(d), 0);
	assert_int_equal(ubd_stop(d), 0);
}

/* Unused pages of a big call, in the manager's region. */
static void fill_lru(const struct ubd *d, const char *sock)
{
	assert_int_equal(echo_call(sock, BIG_CALL, 1, NULL), BR_REPLY);
	assert_true(ubd_stat(d, "lru pages") >= (long)(BIG_CALL / PAGE));
}

/* A client (this process) with an outbox of 64 pages, 32 of them written and
 * freed (FREE in the page states it shares with the daemon). */
static uint8_t *freed_outbox_pages(struct rc *c, const struct ubd *d)
{
	uint8_t *box;

	assert_int_equal(rc_open(c, d->sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c->t, 64 * PAGE, UBT_OUTBOX_PAGE_STATES, (void **)&box), 0);
	((_Atomic uint8_t *)box)[0] = OUTBOX_PAGE_USED;
	for (size_t i = 1; i <= 32; i++) {
		memset(box + i * PAGE, 1, PAGE);
		((_Atomic uint8_t *)box)[i] = OUTBOX_PAGE_FREE;
	}
	assert_int_equal(ubd_proc_stat(d, getpid(), "outbox resident pages"), 33);
	return box;
}

static void memcg_notification_drains_lru(void **state)
{
	static const char *const args[] = { "--lru-decay", "0", NULL };
	const bool want[HIERARCHIES] = { [V1] = true };
	struct thrasher t = { .current = 0 };
	struct echo_manager m;
	static struct box b;
	const char *why;
	struct ubd d;
	long started;
	uint8_t *box;
	struct rc c;
	int efd;

	(void)state;
	why = box_make(&b, want, 48 * MIB);
	if (why) {
		printf("# skipped: %s\n", why);
		box_remove(&b);
		skip();
	}
	start_in_box(&d, &m, &b, args);
	fill_lru(&d, d.sock);
	box = freed_outbox_pages(&c, &d);
	efd = memcg_notification(&b);
	started = now_ms();
	why = thrasher_start(&t, &b, 64 * MIB);
	if (why) {
		printf("# skipped: %s\n", why);
		munmap(box, 64 * PAGE);
		rc_close(&c);
		stop(&d, &m);
		box_remove(&b);
		skip();
	}
	assert_true(notified_to_drained(&d, efd, POLLIN, started) < DRAIN_BOUND_MS);
	thrasher_stop(&t);
	assert_true(pressure_events(&d, "memcg") >= 1);
	/* The drain took the freed outbox pages too, and only them. */
	assert_int_equal(ubd_proc_stat(&d, getpid(), "outbox resident pages"), 1);
	assert_int_equal(stats_count(&d, "\noutbox reclaimed:", "pressure"), 32);
	munmap(box, 64 * PAGE);
	rc_close(&c);
	assert_int_equal(box_oom_kills(&b), 0);
	close(efd);
	stop(&d, &m);
	box_remove(&b);
}

static void psi_trigger_drains_lru(void **state)
{
	static const char *const args[] = { "--lru-decay", "0", NULL };
	const bool daemon_want[HIERARCHIES] = { [V1] = true, [V2] = true };
	const bool thrash_want[HIERARCHIES] = { [V1] = true };
	struct thrasher t = { .current = 0 };
	struct echo_manager m;
	static struct box daemon_box, thrash_box;
	const char *why;
	struct ubd d;
	long started;
	int trigger;

	(void)state;
	memset(&thrash_box, 0, sizeof(thrash_box));
	/* The daemon and the thrasher share a v2 cgroup (its PSI file); the
	 * thrasher's limited v1 memory cgroup is a sibling of the daemon's, so
	 * that no v1 notification reaches the daemon and PSI alone must tell it. */
	why = box_make(&daemon_box, daemon_want, 0);
	if (!why)
		why = box_make(&thrash_box, thrash_want, 32 * MIB);
	if (why) {
		printf("# skipped: %s\n", why);
		box_remove(&daemon_box);
		box_remove(&thrash_box);
		skip();
	}
	snprintf(thrash_box.dir[V2], sizeof(thrash_box.dir[V2]), "%s", daemon_box.dir[V2]);
	snprintf(thrash_box.home[V2], sizeof(thrash_box.home[V2]), "%s", daemon_box.home[V2]);
	start_in_box(&d, &m, &daemon_box, args);
	fill_lru(&d, d.sock);
	trigger = psi_trigger(&daemon_box);
	started = now_ms();
	why = thrasher_start(&t, &thrash_box, 48 * MIB);
	assert_null(why);
	assert_true(notified_to_drained(&d, trigger, POLLPRI, started) < DRAIN_BOUND_MS);
	thrasher_stop(&t);
	assert_true(pressure_events(&d, "psi") >= 1);
	assert_int_equal(pressure_events(&d, "memcg"), 0);
	close(trigger);
	stop(&d, &m);
	thrash_box.dir[V2][0] = '\0';
	box_remove(&thrash_box);
	box_remove(&daemon_box);
}

/* A child that holds @size bytes of anonymous memory in the box until killed. */
struct hog {
	const struct box *box;
	size_t size;
	struct sync ready;
};

static int hog_main(void *arg)
{
	struct hog *h = arg;
	void *p;

	box_move(h->box, 0, false);
	p = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	if (p == MAP_FAILED)
		return 1;
	sync_post(&h->ready, 1);
	for (;;)
		pause();
}

/* Starts a hog leaving @free bytes below the box's limit; returns its pid. */
static pid_t hog_start(struct hog *h, const struct box *b, size_t limit, size_t free)
{
	long long usage = box_usage(b);
	pid_t pid;

	assert_true(usage > 0 && (size_t)usage + free < limit);
	h->box = b;
	h->size = (limit - (size_t)usage - free) & ~(size_t)(PAGE - 1);
	sync_init(&h->ready);
	pid = spawn(hog_main, h);
	assert_int_equal(sync_wait(&h->ready, 10000), 1);
	return pid;
}

static void burst_over_the_limit(void **state)
{
	static const char *const args[] = { "--lru-decay", "0",	       "-c", "binder",
					    "-c",	   "hwbinder", NULL };
	const size_t limit = 32 * MIB;
	struct binder_extended_error ee = { 0 };
	struct echo_manager m, other;
	char other_sock[160];
	struct hog h1, h2;
	pid_t hog1, hog2;
	static struct box b;
	const char *why;
	struct ubd d;

	(void)state;
	why = box_make_limited(&b, limit);
	if (why) {
		printf("# skipped: %s\n", why);
		box_remove(&b);
		skip();
	}
	printf("# a %zu MiB limit in cgroup v%d\n", limit / MIB, b.limited + 1);
	start_in_box(&d, &m, &b, args);
	snprintf(other_sock, sizeof(other_sock), "%s/hwbinder", d.dir);
	box_move(&b, 0, false);
	echo_start(&other, other_sock);
	box_move(&b, 0, true);
	/* Unused pages in one manager's region; the cgroup nearly full. */
	fill_lru(&d, d.sock);
	hog1 = hog_start(&h1, &b, limit, 3 * MIB);

	/* A big call to the other manager fits only once those pages are given back. */
	assert_int_equal(echo_call(other_sock, BIG_CALL, 1, NULL), BR_REPLY);
	printf("# reclaimed for the cgroup limit: %ld pages, under pressure: %ld pages\n",
	       reclaimed(&d, "cgroup limit"), reclaimed(&d, "pressure"));
	assert_true(ubd_stat(&d, "install limit failures") == 0);
	assert_int_equal(box_oom_kills(&b), 0);

	/* Nothing unused left to give, and no room: the call fails, nothing dies. */
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	hog2 = hog_start(&h2, &b, limit, 2 * MIB);
	assert_int_equal(echo_call(d.sock, BIG_CALL, 1, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.param, -ENOMEM);
	assert_true(ubd_stat(&d, "install limit failures") >= 1);
	assert_int_equal(box_oom_kills(&b), 0);
	assert_int_equal(kill(hog1, 0), 0);
	assert_int_equal(kill(hog2, 0), 0);
	kill(hog1, SIGKILL);
	kill(hog2, SIGKILL);
	reap(hog1, 5000);
	reap(hog2, 5000);

	/* With the hogs gone, the same call succeeds, and the daemon is clean. */
	assert_int_equal(echo_call(d.sock, BIG_CALL, 1, NULL), BR_REPLY);
	echo_stop(&other, other_sock);
	stop(&d, &m);
	box_remove(&b);
}

/*
 * Waits (15 s at most) until the system's memory PSI has been quiet for a
 * whole trigger window: the stall a thrasher caused outlives it for a while,
 * and would drain the LRU of a daemon that the next test starts.
 */
static void wait_for_quiet_system(void)
{
	struct pollfd pfd = { .events = POLLPRI };
	long deadline = now_ms() + 15000;

	pfd.fd = open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (pfd.fd < 0)
		return;
	if (write(pfd.fd, PSI_TRIGGER, sizeof(PSI_TRIGGER)) > 0)
		while (poll(&pfd, 1, 2500) == 1 && now_ms() < deadline)
			;
	close(pfd.fd);
}

/* After a failed test too: no cgroup, process or thrasher file is left
 * behind, and the pressure is over. */
static int remove_leftovers(void **state)
{
	char file[128];

	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		if (made[i])
			box_remove(made[i]);
	for (int i = 0; i < THRASHERS; i++) {
		snprintf(file, sizeof(file), THRASH_DIR "/ubinder-thrash-%d-%d", (int)getpid(), i);
		unlink(file);
	}
	wait_for_quiet_system();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(memcg_notification_drains_lru, remove_leftovers),
		cmocka_unit_test_teardown(psi_trigger_drains_lru, remove_leftovers),
		cmocka_unit_test_teardown(burst_over_the_limit, remove_leftovers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
