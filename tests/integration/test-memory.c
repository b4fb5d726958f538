/* SPDX-License-Identifier: MIT */
/*
 * Buffer memory of a real daemon: after every kind of reclaim, the pages
 * resident in each region (measured by the daemon from the memfd's
 * st_blocks, not from the allocator) are exactly the pages that live
 * buffers touch (computed here from the buffer records of the state dump);
 * the --max-installed-pages cap fails a call as a failed page allocation;
 * idle decay gives unused pages back on its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* A count from the `reclaimed:` line of the stats, e.g. "decay". */
static long reclaimed(const struct ubd *d, const char *cause)
{
	char *text = ubd_admin(d, UBW_ADMIN_STATS, 0, NULL);
	char key[40];
	const char *line, *at;
	long v = -1;

	assert_non_null(text);
	line = strstr(text, "\nreclaimed:");
	snprintf(key, sizeof(key), " %s ", cause);
	if (line && (at = strstr(line, key)) != NULL)
		v = strtol(at + strlen(key), NULL, 10);
	free(text);
	return v;
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

static void residency_after_shrink_and_decay(void **state)
{
	static const char *const args[] = { "--lru-decay", "1", NULL };
	struct held_call h = { .size = 5 * PAGE + 100 };
	struct echo_manager m;
	struct ubd d;
	pid_t caller;
	long t0;

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

	/* Idle decay: after 1 s unused (released by 1.25 s), nothing is left. */
	burst(d.sock);
	t0 = now_ms();
	while (ubd_stat(&d, "lru pages") > 0 && now_ms() - t0 < 4000)
		usleep(50 * 1000);
	printf("# lru drained by decay %ld ms after the burst\n", now_ms() - t0);
	assert_int_equal(ubd_stat(&d, "lru pages"), 0);
	assert_true(reclaimed(&d, "decay") > 0);
	assert_int_equal(check_residency(&d, true), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(residency_after_shrink_and_decay),
		cmocka_unit_test(installed_cap_fails_the_call),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
