/* SPDX-License-Identifier: MIT */
/*
 * Buffer memory of a real daemon: after every kind of reclaim, the pages
 * resident in each region (measured by the daemon from the memfd's
 * st_blocks, not from the allocator) are exactly the pages that live
 * buffers touch (computed here from the buffer records of the state dump);
 * the --max-installed-pages cap fails a call as a failed page allocation;
 * idle decay gives unused pages back on its own. Outbox pages a client freed
 * (page states shared with the daemon) are given back by shrink and decay,
 * measured with mincore on the daemon's mapping, and the ones in use never.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/outbox_pages.h"
#include "echo.h"
#include "harness.h"
#include "test-util.h"
#include "wire/packet.h"

#define PAGE	  4096u
#define MAX_PAGES 1024 /* of one region in these tests (4 MiB) */
#define MAX_PROCS 8

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A count from the line @line ("\nreclaimed:") of the admin answer to @op
 * (@arg), e.g. cause "decay"; -1 if absent. */
static long reclaimed_in(const struct ubd *d, uint32_t op, int64_t arg, const char *line_key,
			 const char *cause)
{
	char *text = ubd_admin(d, op, arg, NULL);
	char key[40];
	const char *line, *at;
	long v = -1;

	assert_non_null(text);
	line = strstr(text, line_key);
	snprintf(key, sizeof(key), " %s ", cause);
	if (line && (at = strstr(line, key)) != NULL)
		v = strtol(at + strlen(key), NULL, 10);
	free(text);
	return v;
}

/* A count from the `reclaimed:` line of the stats, e.g. "decay". */
static long reclaimed(const struct ubd *d, const char *cause)
{
	return reclaimed_in(d, UBW_ADMIN_STATS, 0, "\nreclaimed:", cause);
}

struct proc_pages {
	long pid;
	size_t touched;	  /* pages some live buffer touches */
	long resident;	  /* measured by the daemon */
	long active, lru; /* the allocator's view */
};

/* Parses the state dump into one record per process. */
static size_t read_state(const struct ubd *d, struct proc_pages *out)
{
	char *text = ubd_admin(d, UBW_ADMIN_STATE, 0, NULL);
	static bool page_used[MAX_PROCS][MAX_PAGES];
	size_t n = 0;
	char *save = NULL;

	assert_non_null(text);
	memset(page_used, 0, sizeof(page_used));
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct proc_pages *p = n ? &out[n - 1] : NULL;
		size_t off, ds, os, es, size;
		long pid, a, l, f, r;

		if (sscanf(line, "proc %ld", &pid) == 1) {
			assert_true(n < MAX_PROCS);
			out[n++] = (struct proc_pages){ .pid = pid, .resident = -1 };
		} else if (p && sscanf(line, "  buffer: %zu size %zu:%zu:%zu", &off, &ds, &os,
				       &es) == 4) {
			/* As range_alloc_buffer_size: parts rounded up to 8, at least 8. */
			size = ((ds + 7) & ~7ul) + ((os + 7) & ~7ul) + ((es + 7) & ~7ul);
			size = size ? size : 8;
			for (size_t pg = off / PAGE; pg <= (off + size - 1) / PAGE; pg++) {
				assert_true(pg < MAX_PAGES);
				if (!page_used[n - 1][pg])
					p->touched++;
				page_used[n - 1][pg] = true;
			}
		} else if (p && sscanf(line, "  pages: %ld:%ld:%ld", &a, &l, &f) == 3) {
			p->active = a;
			p->lru = l;
		} else if (p && sscanf(line, "  resident pages: %ld", &r) == 1) {
			p->resident = r;
		}
	}
	free(text);
	return n;
}

/*
 * Every region holds what the allocator says it holds; with @exact (after a
 * reclaim of everything unused), only the pages of live buffers. Returns the
 * resident pages of all regions.
 */
static long check_residency(const struct ubd *d, bool exact)
{
	struct proc_pages p[MAX_PROCS];
	size_t n = read_state(d, p);
	long total = 0;

	for (size_t i = 0; i < n; i++) {
		printf("# proc %ld: resident %ld, active %ld, lru %ld, live-buffer pages %zu\n",
		       p[i].pid, p[i].resident, p[i].active, p[i].lru, p[i].touched);
		assert_int_equal(p[i].resident, p[i].active + p[i].lru);
		assert_int_equal(p[i].active, (long)p[i].touched);
		if (exact)
			assert_int_equal(p[i].resident, (long)p[i].touched);
		total += p[i].resident;
	}
	return total;
}

/* Calls of 1 to 12 pages: the LRU fills. */
static void burst(const char *sock)
{
	for (size_t i = 1; i <= 12; i++)
		assert_int_equal(echo_call(sock, i * PAGE - 64, 1, NULL), BR_REPLY);
}

struct held_call {
	const char *sock;
	size_t size;
};

static int held_call_main(void *arg)
{
	struct held_call *h = arg;

	return echo_call(h->sock, h->size, ECHO_HOLD, NULL) == BR_REPLY ? 0 : 1;
}

/* How many of @pid's timerfds are armed with a period of @period_ms (their
 * /proc fdinfo's it_interval): the decay timer's, for --lru-decay 1. */
static int timers_with_period(pid_t pid, long period_ms)
{
	char path[64], line[128];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		FILE *f;
		bool timerfd = false;
		long sec, nsec;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "clockid:", 8) == 0)
				timerfd = true;
			if (timerfd && sscanf(line, "it_interval: (%ld, %ld)", &sec, &nsec) == 2 &&
			    sec * 1000 + nsec / 1000000 == period_ms)
				n++;
		}
		fclose(f);
	}
	return n;
}

static void residency_after_shrink_and_decay(void **state)
{
	static const char *const args[] = { "--lru-decay", "1", NULL };
	struct held_call h = { .size = 5 * PAGE + 100 };
	struct echo_manager m;
	struct ubd d;
	pid_t caller;
	long t0, pressure_before;

	(void)state;
	assert_int_equal(ubd_start(&d, args), 0);
	h.sock = d.sock;
	echo_start(&m, d.sock);
	burst(d.sock);
	assert_true(ubd_stat(&d, "lru pages") > 0);
	check_residency(&d, false);

	/* A call the manager holds: its buffer stays live through the shrink. */
	caller = spawn(held_call_main, &h);
	assert_int_equal(sync_wait(&m.ready, 5000), 2);
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(ubd_stat(&d, "lru pages"), 0);
	/* 5 pages and 100 bytes start on a page boundary: 6 pages held. */
	assert_true(check_residency(&d, true) >= 6);
	assert_true(reclaimed(&d, "admin") > 0);
	sync_post(&m.go, 1);
	assert_int_equal(reap(caller, 10000), 0);

	/* Idle decay: after 1 s unused (released by 1.25 s), nothing is left.
	 * Memory pressure on the machine (another test's thrasher: the daemon
	 * watches PSI) may release them first; then decay is not shown. */
	pressure_before = reclaimed(&d, "pressure");
	burst(d.sock);
	/* The LRU holds pages: the decay timer ticks every quarter of 1 s. */
	assert_int_equal(timers_with_period(d.pid, 250), 1);
	t0 = now_ms();
	while (ubd_stat(&d, "lru pages") > 0 && now_ms() - t0 < 4000)
		usleep(50 * 1000);
	printf("# lru drained %ld ms after the burst (reclaimed by decay %ld, by pressure %ld)\n",
	       now_ms() - t0, reclaimed(&d, "decay"), reclaimed(&d, "pressure"));
	assert_int_equal(ubd_stat(&d, "lru pages"), 0);
	if (reclaimed(&d, "pressure") > pressure_before)
		printf("# memory pressure released the pages first: decay not shown this run\n");
	else
		assert_true(reclaimed(&d, "decay") > 0);
	assert_int_equal(check_residency(&d, true), 0);
	/* The first tick that finds the LRU empty disarms it: idle, no timer. */
	usleep(2 * 250 * 1000 + 100 * 1000);
	assert_int_equal(timers_with_period(d.pid, 250), 0);
	echo_stop(&m, d.sock);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

static void installed_cap_fails_the_call(void **state)
{
	static const char *const args[] = { "--max-installed-pages", "8", "--lru-decay", "0",
					    NULL };
	struct binder_extended_error ee = { 0 };
	struct echo_manager m;
	struct ubd d;

	(void)state;
	assert_int_equal(ubd_start(&d, args), 0);
	echo_start(&m, d.sock);
	/* Fits: 3 pages in the manager's region, one for the reply. */
	assert_int_equal(echo_call(d.sock, 3 * PAGE - 64, 1, NULL), BR_REPLY);
	assert_true(ubd_stat(&d, "lru pages") > 0);
	/* Six pages reuse the three lru ones and install three more: still fits. */
	assert_int_equal(echo_call(d.sock, 6 * PAGE - 64, 1, NULL), BR_REPLY);
	assert_true(ubd_stat(&d, "installed pages") <= 8);
	check_residency(&d, false);
	/* Twelve pages cannot fit at all: the call fails as a failed allocation. */
	assert_int_equal(echo_call(d.sock, 12 * PAGE, 1, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.command, BR_FAILED_REPLY);
	assert_int_equal(ee.param, -ENOMEM);
	assert_true(ubd_stat(&d, "install budget failures") >= 1);
	assert_true(ubd_stat(&d, "installed pages") <= 8);
	check_residency(&d, false);
	/* The daemon keeps serving. */
	assert_int_equal(echo_call(d.sock, 100, 1, NULL), BR_REPLY);
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(check_residency(&d, true), 0);
	echo_stop(&m, d.sock);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

/* "  outbox reclaimed: pressure N budget N decay N admin N ..." of @pid: @cause's N. */
static long outbox_reclaimed(const struct ubd *d, pid_t pid, const char *cause)
{
	return reclaimed_in(d, UBW_ADMIN_PROC, pid, "\n  outbox reclaimed:", cause);
}

/* The outbox's "used:free:holes" of @pid, and its resident pages. */
static long outbox_resident(const struct ubd *d, pid_t pid, long *used, long *free_pages,
			    long *holes)
{
	char *text = ubd_admin(d, UBW_ADMIN_PROC, pid, NULL);
	const char *at;

	assert_non_null(text);
	at = strstr(text, "\n  outbox pages: ");
	assert_non_null(at);
	assert_int_equal(sscanf(at, "\n  outbox pages: %ld:%ld:%ld", used, free_pages, holes), 3);
	free(text);
	return ubd_proc_stat(d, pid, "outbox resident pages");
}

static void outbox_pages_freed_are_given_back(void **state)
{
	static const char *const args[] = { "--lru-decay", "1", NULL };
	enum {
		PAGES = 64,
		PARCEL = 20,
		KEPT = 4
	}; /* 80 KiB: above the inline limit */
	long used, free_pages, holes, copies, t0;
	struct echo_manager m;
	_Atomic uint8_t *st;
	uint8_t *box;
	struct rc c;
	struct ubd d;
	pid_t me = getpid();

	(void)state;
	assert_int_equal(ubd_start(&d, args), 0);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, PAGES * PAGE, UBT_OUTBOX_PAGE_STATES, (void **)&box), 0);
	assert_int_equal(outbox_state_pages(PAGES, PAGE), 1);
	st = (_Atomic uint8_t *)box;
	st[0] = OUTBOX_PAGE_USED;
	/* A parcel of 20 pages built in pages 1..20, sent from there. */
	for (size_t i = 1; i <= PARCEL; i++) {
		st[i] = OUTBOX_PAGE_USED;
		memset(box + i * PAGE, (int)i, PAGE);
	}
	copies = ubd_stat(&d, "copies local");
	assert_int_equal(echo_call_on(&c, box + PAGE, PARCEL * PAGE, 0), BR_REPLY);
	assert_true(ubd_stat(&d, "copies local") > copies);
	/* A page the client claims in a state of its own is not the daemon's to take. */
	st[PARCEL + 1] = 0x7f;
	box[(PARCEL + 1) * PAGE] = 1;
	assert_int_equal(outbox_resident(&d, me, &used, &free_pages, &holes), PARCEL + 2);

	/* The parcel freed but its last 4 pages: those stay, the others go. */
	for (size_t i = 1; i <= PARCEL - KEPT; i++)
		st[i] = OUTBOX_PAGE_FREE;
	assert_int_equal(outbox_resident(&d, me, &used, &free_pages, &holes), PARCEL + 2);
	assert_int_equal(used, KEPT + 1);
	assert_int_equal(free_pages, PARCEL - KEPT);
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(outbox_resident(&d, me, &used, &free_pages, &holes), 1 + KEPT + 1);
	assert_int_equal(free_pages, 0);
	assert_int_equal(outbox_reclaimed(&d, me, "admin"), PARCEL - KEPT);
	for (size_t i = 1; i <= PARCEL - KEPT; i++)
		assert_int_equal(st[i], OUTBOX_PAGE_HOLE);
	for (size_t i = PARCEL - KEPT + 1; i <= PARCEL; i++)
		assert_int_equal(box[i * PAGE + PAGE - 1], (uint8_t)i); /* untouched */

	/* A page taken again from HOLE carries a call as before. */
	st[1] = OUTBOX_PAGE_USED;
	memset(box + PAGE, 0x5a, PAGE);
	assert_int_equal(echo_call_on(&c, box + PAGE, PAGE, 0), BR_REPLY);
	st[1] = OUTBOX_PAGE_FREE;

	/* Idle decay: FREE at two scans a decay time apart (1 s), then gone. */
	for (size_t i = PARCEL - KEPT + 1; i <= PARCEL; i++)
		st[i] = OUTBOX_PAGE_FREE;
	t0 = now_ms();
	while (outbox_resident(&d, me, &used, &free_pages, &holes) > 2 && now_ms() - t0 < 5000)
		usleep(50 * 1000);
	printf("# outbox pages decayed %ld ms after their free\n", now_ms() - t0);
	assert_int_equal(outbox_resident(&d, me, &used, &free_pages, &holes), 2);
	assert_int_equal(free_pages, 0);
	assert_int_equal(outbox_reclaimed(&d, me, "decay"), KEPT + 1);

	munmap(box, PAGES * PAGE);
	rc_close(&c);
	echo_stop(&m, d.sock);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(residency_after_shrink_and_decay),
		cmocka_unit_test(installed_cap_fails_the_call),
		cmocka_unit_test(outbox_pages_freed_are_given_back),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
