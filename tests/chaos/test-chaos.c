/* SPDX-License-Identifier: MIT */
/*
 * Chaos, bounded: the real daemon, the real service manager, the example
 * kvstore service and a stream of kvstore clients, SIGKILLed and
 * SIGSTOPped/SIGCONTed at random (seeded) mid-call for
 * $UBINDER_CHAOS_SECONDS seconds (default 45), each killed process
 * restarted. Throughout, a bystander client calls a bystander service that
 * chaos never touches, and its worst call latency is bounded. Afterwards
 * the daemon must be back where it started: no process, thread, node, ref,
 * buffer, transaction or installed page left, its descriptors as before and
 * its RSS within a bound of the start; and it must exit cleanly.
 *
 * $UBINDER_CHAOS_SEED replays a run (the seed is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib-test.h"
#include "test-util.h"

#define CLIENT_SLOTS	   4
/* The bystander's slowest call (the machine may be loaded: generous, but real). */
#define BYSTANDER_BOUND_MS 5000
/* The daemon's RSS after the run may exceed its RSS before by this much. */
#define RSS_SLACK_KB	   (32 * 1024)
#define BYSTANDER_NAME	   "chaos.bystander"
#define BYSTANDER_CODE	   1

/* A positive number from the environment, else @fallback. */
static int env_number(const char *name, int fallback)
{
	const char *s = getenv(name);
	int v = s ? atoi(s) : 0;

	return v > 0 ? v : fallback;
}

static int chaos_seconds(void)
{
	return env_number("UBINDER_CHAOS_SECONDS", 45);
}

/* --- the bystander: a service and a client that chaos never touches ------------------- */

struct bystander {
	/*
	 * ready: 1 when serving; stop_client, stop_service: posted to end each.
	 * The client stops first: a service that stopped under a call in
	 * flight would fail it with BR_DEAD_REPLY (the kernel's answer too).
	 */
	struct sync ready, stop_client, stop_service;
	int result[2]; /* the client's figures: calls, failures, first error, worst (us) */
	pid_t pid;
};

static int bystander_handle(ubinder_binder *self, const struct ubinder_call *call,
			    ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	int32_t x;
	int err;

	(void)self;
	(void)userdata;
	if (call->code != BYSTANDER_CODE || !reply)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_parcel_read_int32(data, &x);
	return err ? err : ubinder_parcel_write_int32(reply, x + 1);
}

static int bystander_service(void *arg)
{
	struct bystander *b = arg;
	ubinder_context *ctx = NULL;
	ubinder_binder *service = NULL;

	/* libubinder says why, should a bystander call ever fail (silent otherwise). */
	setenv("UBINDER_DEBUG", "1", 1);
	alarm((unsigned)chaos_seconds() + 120);
	/* The manager may not serve yet: a context that found it dead is opened again. */
	for (int tries = 0;; tries++) {
		int err;

		CHECK_OK(ubinder_context_open(NULL, &ctx));
		CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.IChaosBystander",
					    bystander_handle, NULL, NULL, &service));
		CHECK_OK(ubinder_context_start_thread_pool(ctx));
		err = ubinder_sm_add_service(ctx, BYSTANDER_NAME, service);
		if (!err)
			break;
		ubinder_binder_unref(service);
		ubinder_context_close(ctx);
		CHECK_OK(tries < 200 ? 0 : err);
		poll(NULL, 0, 50);
	}
	sync_post(&b->ready, 1);
	sync_wait(&b->stop_service, -1);
	ubinder_binder_unref(service);
	ubinder_context_close(ctx);
	return 0;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/*
 * Calls the bystander service until told to stop; reports its calls, the
 * calls that failed and the first failure's status, and the worst latency.
 * A failed call does not end it: the test asks the daemon why it failed
 * (the per-process BR_DEAD_REPLY causes) while the client still lives.
 */
static int bystander_client(void *arg)
{
	struct bystander *b = arg;
	struct pollfd stop = { .fd = b->stop_client.fds[0], .events = POLLIN };
	ubinder_context *ctx;
	ubinder_binder *service = NULL;
	int32_t calls = 0, failures = 0, first_error = 0, worst_us = 0;

	/* libubinder says why, should a bystander call ever fail (silent otherwise). */
	setenv("UBINDER_DEBUG", "1", 1);
	alarm((unsigned)chaos_seconds() + 120);
	ctx = client_open(false);
	CHECK(ctx);
	CHECK_OK(ubinder_sm_wait_for_service(ctx, BYSTANDER_NAME, 10000, &service));
	sync_post(&b->ready, 1);
	while (poll(&stop, 1, 2) == 0) {
		ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;
		long start = now_us(), took;
		int32_t y = -1;

		int err;

		CHECK(data);
		CHECK_OK(ubinder_parcel_write_int32(data, calls));
		err = ubinder_binder_transact(service, BYSTANDER_CODE, data, 0, &reply);
		if (!err)
			err = ubinder_parcel_read_int32(reply, &y);
		if (!err && y != calls + 1)
			err = UBINDER_ERR_BAD_VALUE;
		if (err) {
			fprintf(stderr, "# chaos: bystander call %d failed: %s\n", calls,
				ubinder_status_name(err));
			if (!failures++)
				first_error = err;
		}
		took = now_us() - start;
		if (took > worst_us)
			worst_us = (int32_t)took;
		calls++;
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
	}
	CHECK(write(b->result[1], &calls, sizeof(calls)) == sizeof(calls));
	CHECK(write(b->result[1], &failures, sizeof(failures)) == sizeof(failures));
	CHECK(write(b->result[1], &first_error, sizeof(first_error)) == sizeof(first_error));
	CHECK(write(b->result[1], &worst_us, sizeof(worst_us)) == sizeof(worst_us));
	ubinder_binder_unref(service);
	ubinder_context_close(ctx);
	return 0;
}

/* --- the chaos targets: real programs, restarted when they die -------------------------- */

enum role {
	SM,
	SERVICE,
	CLIENT
};

struct target {
	enum role role;
	pid_t pid;	  /* 0: not running */
	long stopped_til; /* SIGSTOPped until then (ms), 0 if running */
	long started_ms;
};

struct chaos {
	struct ubd d;
	const char *bin[3];
	struct target t[2 + CLIENT_SLOTS];
	pid_t bystander_service, bystander_client; /* 0: not running */
	unsigned int seed;
	long kills[3], stops, restarts, client_ok, client_failed;
	bool verbose;
};

static pid_t exec_target(struct chaos *c, enum role role)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		alarm((unsigned)chaos_seconds() + 120); /* no child outlives a hung test */
		dup2(null, STDOUT_FILENO);
		if (!c->verbose)
			dup2(null, STDERR_FILENO);
		if (role == SM)
			execl(c->bin[SM], c->bin[SM], "--socket", c->d.sock, (char *)NULL);
		else
			execl(c->bin[role], c->bin[role], (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void start_target(struct chaos *c, struct target *t)
{
	t->pid = exec_target(c, t->role);
	t->stopped_til = 0;
	t->started_ms = now_ms();
}

/* SIGKILL and reap (a stopped process dies too). */
static void kill_target(struct target *t)
{
	if (t->pid <= 0)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->pid = 0;
	t->stopped_til = 0;
}

/*
 * Reaps targets that exited and restarts them. A new service manager knows
 * no service: the kvstore service is restarted with it, so that it registers
 * again (the bystander keeps the handle it has).
 */
static void supervise(struct chaos *c)
{
	bool sm_restarted = false;

	for (size_t i = 0; i < sizeof(c->t) / sizeof(c->t[0]); i++) {
		struct target *t = &c->t[i];
		int status;

		if (t->pid > 0 && waitpid(t->pid, &status, WNOHANG) == t->pid) {
			if (t->role == CLIENT) {
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					c->client_ok++;
				else
					c->client_failed++;
			}
			t->pid = 0;
		}
		if (t->pid == 0) {
			if (t->role != CLIENT)
				c->restarts++;
			sm_restarted |= t->role == SM;
			start_target(c, t);
		}
	}
	if (sm_restarted) {
		kill_target(&c->t[SERVICE]);
		start_target(c, &c->t[SERVICE]);
	}
}

static void chaos_step(struct chaos *c)
{
	size_t n = sizeof(c->t) / sizeof(c->t[0]);
	struct target *t = &c->t[(size_t)rand() % n];
	int dice = rand() % 100;
	long now = now_ms();

	/* Stopped targets go on when their time is up. */
	for (size_t i = 0; i < n; i++) {
		if (c->t[i].stopped_til && now >= c->t[i].stopped_til) {
			kill(c->t[i].pid, SIGCONT);
			c->t[i].stopped_til = 0;
		}
	}
	/* The manager and the service are hit less often than the clients. */
	if (t->role == SM && dice >= 15)
		return;
	if (t->role == SERVICE && dice >= 40)
		return;
	if (t->pid <= 0)
		return;
	if (dice % 3 == 0) {
		if (!t->stopped_til) {
			kill(t->pid, SIGSTOP);
			t->stopped_til = now + 20 + rand() % 400;
			c->stops++;
		}
	} else {
		kill_target(t);
		c->kills[t->role]++;
	}
}

/* --- the daemon's idle state ------------------------------------------------------------ */

struct baseline {
	long procs, threads, buffers, lru_pages, pages_active, pages_lru, pages_free, nodes, refs,
		deaths, transactions, partial;
	int fds;
	long rss_kb;
};

/* The number after "@key" at the start of a line of @text; -1 if absent. */
static long line_number(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = text; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, key, klen) == 0)
			return strtol(line + klen, NULL, 10);
	}
	return -1;
}

static long daemon_rss_kb(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return line_number(buf, "VmRSS:");
}

static int read_baseline(const struct ubd *d, struct baseline *b)
{
	char *stats = ubd_admin(d, UBW_ADMIN_STATS, 0, NULL);
	const char *pages;

	if (!stats)
		return -1;
	b->procs = line_number(stats, "procs: ");
	b->threads = line_number(stats, "threads: ");
	b->buffers = line_number(stats, "buffers: ");
	b->lru_pages = line_number(stats, "lru pages: ");
	b->nodes = line_number(stats, "node: active ");
	b->refs = line_number(stats, "ref: active ");
	b->deaths = line_number(stats, "death: active ");
	b->transactions = line_number(stats, "transaction: active ");
	b->partial = line_number(stats, "partial requests: ");
	pages = strstr(stats, "\npages: ");
	b->pages_active = b->pages_lru = b->pages_free = -1;
	if (pages)
		sscanf(pages, "\npages: %ld:%ld:%ld", &b->pages_active, &b->pages_lru,
		       &b->pages_free);
	free(stats);
	b->fds = ubd_open_fds(d);
	b->rss_kb = daemon_rss_kb(d->pid);
	return 0;
}

/* Waits (30 s at most: the host may be loaded) for the daemon to forget every process. */
static long wait_idle(const struct ubd *d)
{
	long procs = -1;

	for (int i = 0; i < 6 && procs != 0; i++)
		procs = ubd_wait_idle(d); /* 5 s each */
	return procs;
}

/* Prints the nonzero "dead reply CAUSE: N" lines of a dump, after @label. */
static void print_dead_replies(const char *label, const char *text)
{
	printf("# chaos: %s BR_DEAD_REPLY causes:", label);
	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		const char *at, *colon;
		int len;

		line += *line == '\n';
		at = line + strspn(line, " ");
		len = (int)strcspn(at, "\n");
		colon = memchr(at, ':', (size_t)len);
		if (strncmp(at, "dead reply ", 11) == 0 && colon && strtol(colon + 1, NULL, 10))
			printf(" %.*s", len - 11, at + 11);
	}
	printf("\n");
}

/* --- the test ------------------------------------------------------------------------- */

static struct chaos chaos;

/* SIGKILLs and reaps a bystander process, if it runs. */
static void kill_bystander(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

/*
 * Whatever the test's outcome: every process it started is killed and
 * reaped, the daemon last (meson waits for every holder of its pipes).
 */
static int chaos_teardown(void **state)
{
	struct chaos *c = &chaos;

	(void)state;
	for (size_t i = 0; i < sizeof(c->t) / sizeof(c->t[0]); i++)
		kill_target(&c->t[i]);
	kill_bystander(&c->bystander_client);
	kill_bystander(&c->bystander_service);
	if (c->d.pid > 0) {
		kill(c->d.pid, SIGKILL);
		waitpid(c->d.pid, NULL, 0);
		c->d.pid = 0;
		ubd_stop(&c->d); /* removes its directory */
	}
	return 0;
}

static void chaos_returns_to_baseline(void **state)
{
	struct chaos *c = &chaos;
	/* How much the daemon's RSS may grow (sanitizers keep freed memory for a while). */
	long rss_slack_kb = env_number("UBINDER_CHAOS_RSS_SLACK_MB", 16) * 1024L;
	struct bystander b = { 0 };
	struct baseline before, after;
	const char *seed_text = getenv("UBINDER_CHAOS_SEED");
	int seconds = chaos_seconds(), status;
	int32_t calls = -1, failures = -1, first_error = 0, worst_us = -1;
	char *dump;
	long end;

	(void)state;
	c->bin[SM] = getenv("UBINDER_SERVICEMANAGER");
	c->bin[SERVICE] = getenv("KVSTORE_SERVICE");
	c->bin[CLIENT] = getenv("KVSTORE_CLIENT");
	assert_true(c->bin[SM] && c->bin[SERVICE] && c->bin[CLIENT]);
	c->verbose = getenv("UBINDER_CHAOS_VERBOSE") != NULL;
	c->seed = seed_text ? (unsigned)strtoul(seed_text, NULL, 0)
			    : (unsigned)(time(NULL) ^ (getpid() << 8));
	srand(c->seed);
	printf("# chaos: seed %u (UBINDER_CHAOS_SEED=%u replays it), %d s\n", c->seed, c->seed,
	       seconds);

	assert_int_equal(ubd_start(&c->d, NULL), 0);
	setenv("UBINDER_SOCKET", c->d.sock, 1);
	before.fds = ubd_settled_fds(&c->d);
	assert_int_equal(read_baseline(&c->d, &before), 0);
	before.fds = ubd_settled_fds(&c->d);

	/* The manager first, then the bystander, then the rest. */
	c->t[0].role = SM;
	c->t[1].role = SERVICE;
	for (size_t i = 2; i < sizeof(c->t) / sizeof(c->t[0]); i++)
		c->t[i].role = CLIENT;
	start_target(c, &c->t[SM]);
	sync_init(&b.ready);
	sync_init(&b.stop_client);
	sync_init(&b.stop_service);
	assert_int_equal(pipe2(b.result, O_CLOEXEC), 0);
	c->bystander_service = lspawn(bystander_service, &b);
	assert_int_equal(sync_wait(&b.ready, 20000), 1);
	c->bystander_client = b.pid = lspawn(bystander_client, &b);
	assert_int_equal(sync_wait(&b.ready, 20000), 1);
	c->restarts = 0;
	supervise(c);
	c->restarts = 0;

	end = now_ms() + seconds * 1000L;
	while (now_ms() < end) {
		poll(NULL, 0, 20 + rand() % 80);
		chaos_step(c);
		supervise(c);
		/* The daemon lives, and the bystander is served. */
		if (waitpid(c->d.pid, &status, WNOHANG) == c->d.pid)
			c->d.pid = 0;
		if (waitpid(b.pid, &status, WNOHANG) == b.pid)
			c->bystander_client = 0;
		assert_true(c->d.pid > 0 && c->bystander_client > 0);
	}

	/* Why the bystander's calls failed, if any did, while its process is known. */
	dump = ubd_admin(&c->d, UBW_ADMIN_PROC, b.pid, NULL);
	if (dump)
		print_dead_replies("bystander client's", dump);
	free(dump);

	/* Everything stops; the bystander reports. */
	for (size_t i = 0; i < sizeof(c->t) / sizeof(c->t[0]); i++)
		kill_target(&c->t[i]);
	sync_post(&b.stop_client, 1);
	status = reap(b.pid, 20000);
	c->bystander_client = 0;
	assert_int_equal(status, 0);
	sync_post(&b.stop_service, 1);
	status = reap(c->bystander_service, 20000);
	c->bystander_service = 0;
	assert_int_equal(status, 0);
	assert_int_equal(read(b.result[0], &calls, sizeof(calls)), sizeof(calls));
	assert_int_equal(read(b.result[0], &failures, sizeof(failures)), sizeof(failures));
	assert_int_equal(read(b.result[0], &first_error, sizeof(first_error)), sizeof(first_error));
	assert_int_equal(read(b.result[0], &worst_us, sizeof(worst_us)), sizeof(worst_us));

	assert_int_equal(wait_idle(&c->d), 0);
	after.fds = ubd_settled_fds(&c->d);
	assert_int_equal(read_baseline(&c->d, &after), 0);
	after.fds = ubd_settled_fds(&c->d);
	printf("# chaos: %ld kills (%ld clients, %ld services, %ld managers), %ld stops, %ld "
	       "restarts; client runs: %ld completed, %ld failed (a peer was killed)\n",
	       c->kills[CLIENT] + c->kills[SERVICE] + c->kills[SM], c->kills[CLIENT],
	       c->kills[SERVICE], c->kills[SM], c->stops, c->restarts, c->client_ok,
	       c->client_failed);
	printf("# chaos: bystander: %d calls, %d failed (first: %s), worst %d.%03d ms (bound %d "
	       "ms)\n",
	       calls, failures, failures ? ubinder_status_name(first_error) : "none",
	       worst_us / 1000, worst_us % 1000, BYSTANDER_BOUND_MS);
	dump = ubd_admin(&c->d, UBW_ADMIN_STATS, 0, NULL);
	if (dump)
		print_dead_replies("all", dump);
	free(dump);
	printf("# chaos: daemon before -> after: fds %d -> %d, RSS %ld -> %ld kB (bound +%ld), "
	       "procs %ld, "
	       "threads %ld, nodes %ld, refs %ld, deaths %ld, buffers %ld, transactions %ld, "
	       "partial requests %ld, pages %ld:%ld:%ld, lru pages %ld\n",
	       before.fds, after.fds, before.rss_kb, after.rss_kb, rss_slack_kb, after.procs,
	       after.threads, after.nodes, after.refs, after.deaths, after.buffers,
	       after.transactions, after.partial, after.pages_active, after.pages_lru,
	       after.pages_free, after.lru_pages);

	/* The run did something: clients were cut short and clients got through. */
	assert_true(c->kills[CLIENT] > 0 && c->client_ok > 0);
	assert_true(calls > 0);
	assert_int_equal(failures, 0);
	assert_true(worst_us / 1000 < BYSTANDER_BOUND_MS);
	assert_int_equal(after.procs, before.procs);
	assert_int_equal(after.threads, before.threads);
	assert_int_equal(after.nodes, before.nodes);
	assert_int_equal(after.refs, before.refs);
	assert_int_equal(after.deaths, before.deaths);
	assert_int_equal(after.buffers, before.buffers);
	assert_int_equal(after.transactions, before.transactions);
	assert_int_equal(after.partial, before.partial);
	assert_int_equal(after.pages_active, before.pages_active);
	assert_int_equal(after.pages_lru, before.pages_lru);
	assert_int_equal(after.lru_pages, before.lru_pages);
	assert_int_equal(after.fds, before.fds);
	assert_true(after.rss_kb > 0 && after.rss_kb <= before.rss_kb + rss_slack_kb);

	assert_int_equal(ubd_stop(&c->d), 0);
	close(b.result[0]);
	close(b.result[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(chaos_returns_to_baseline, chaos_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
