/* SPDX-License-Identifier: MIT */
/*
 * Regions of huge pages in a real daemon (ubinderd --huge-pages 2M): a
 * 1 MiB call into the echo manager's 4 MiB region takes one 2 MiB page,
 * which the daemon's mapping holds as a huge page (ShmemPmdMapped of the
 * region's mapping in /proc/DAEMON/smaps, read independently of the
 * daemon); the region's resident memory (st_blocks, measured by the
 * daemon) is exactly the pages live buffers touch, rounded to whole huge
 * pages; reclaim gives back whole huge pages and never one a live buffer
 * touches. Where the kernel refuses, the daemon says why and serves with
 * base pages.
 *
 * The kernel's shmem policy (/sys/kernel/mm/transparent_hugepage/
 * shmem_enabled) is set to "advise" (only mappings advised MADV_HUGEPAGE,
 * the daemon's, are affected) and restored afterwards, under a lock file so
 * that two runs on one machine do not restore each other's setting. Skipped
 * with the reason when it cannot be written (not root, no THP in sysfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "harness.h"
#include "region/huge_probe.h"
#include "test-util.h"
#include "wire/packet.h"

#define MIB	      ((size_t)1 << 20)
#define HUGE	      (2 * MIB)
#define BASE_PAGE     4096u
#define PER_HUGE      (HUGE / BASE_PAGE)
#define SHMEM_ENABLED "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define THP_LOCK      "/tmp/ubinder-test-thp.lock"

static char saved_policy[32]; /* the selected word before the test; "" none */
static int lock_fd = -1;

static int read_policy(char *word, size_t len)
{
	return region_huge_policy_word(SHMEM_ENABLED, word, len);
}

static int write_policy(const char *word)
{
	int fd = open(SHMEM_ENABLED, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, word, strlen(word));
	close(fd);
	return n == (ssize_t)strlen(word) ? 0 : -errno;
}

static void restore_policy(void)
{
	if (saved_policy[0] && write_policy(saved_policy) < 0)
		fprintf(stderr, "# cannot restore %s to %s\n", SHMEM_ENABLED, saved_policy);
	saved_policy[0] = '\0';
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	lock_fd = -1;
}

static int group_setup(void **state)
{
	char now[32];

	(void)state;
	if (geteuid() != 0) {
		printf("# skipped: not root, cannot set %s\n", SHMEM_ENABLED);
		return 0;
	}
	lock_fd = open(THP_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
		printf("# skipped: cannot lock %s: %s\n", THP_LOCK, strerror(errno));
		return 0;
	}
	if (read_policy(saved_policy, sizeof(saved_policy)) < 0) {
		printf("# skipped: no %s (a kernel without transparent huge pages)\n",
		       SHMEM_ENABLED);
		saved_policy[0] = '\0';
		return 0;
	}
	atexit(restore_policy);
	if (write_policy("advise") < 0 || read_policy(now, sizeof(now)) < 0 ||
	    strcmp(now, "advise") != 0) {
		printf("# skipped: %s cannot be set to advise (read-only sysfs?)\n", SHMEM_ENABLED);
		restore_policy();
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	restore_policy();
	return 0;
}

static bool thp_settable(void)
{
	return saved_policy[0] != '\0';
}

/* kB of the daemon's mapping of @pid's region that are mapped by PMDs (huge). */
static long region_pmd_kb(pid_t daemon, pid_t pid)
{
	char path[64], line[512], name[64];
	long kb = -1;
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", daemon);
	snprintf(name, sizeof(name), "memfd:ubinder:binder:%d ", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = strstr(line, name) != NULL;
		else if (in && sscanf(line, "ShmemPmdMapped: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/* The manager's region holds what its allocator says, all in base pages. */
static long manager_resident(const struct ubd *d, const struct echo_manager *m)
{
	long resident = ubd_proc_stat(d, m->pid, "resident pages");
	char *text = ubd_admin(d, UBW_ADMIN_PROC, m->pid, NULL);
	long active = -1, lru = -1, free_pages = -1;
	const char *at;

	assert_non_null(text);
	at = strstr(text, "\n  pages: ");
	assert_non_null(at);
	assert_int_equal(sscanf(at, "\n  pages: %ld:%ld:%ld", &active, &lru, &free_pages), 3);
	free(text);
	assert_int_equal(active + lru + free_pages, (long)(4 * MIB / BASE_PAGE));
	assert_int_equal(resident, active + lru);
	return resident;
}

static void a_1mib_call_takes_one_huge_page(void **state)
{
	static const char *const args[] = { "--huge-pages", "2M", "--lru-decay", "0", NULL };
	struct held_call h = { .size = MIB };
	struct echo_manager m;
	struct ubd d;
	pid_t caller;
	long t0, pmd;

	(void)state;
	if (!thp_settable())
		skip();
	assert_int_equal(ubd_start(&d, args), 0);
	if (ubd_stat(&d, "huge pages") != 2048) { /* "2048 KiB", or "refused: ..." */
		char *text = ubd_admin(&d, UBW_ADMIN_STATS, 0, NULL);
		const char *at = text ? strstr(text, "\nhuge pages: ") : NULL;

		/* With the policy at advise, only memory too fragmented for a
		 * 2 MiB page refuses. */
		printf("# skipped: %.*s\n", at ? (int)strcspn(at + 1, "\n") : 0, at ? at + 1 : "");
		free(text);
		assert_int_equal(ubd_stop(&d), 0);
		skip();
	}
	echo_start(&m, d.sock);
	assert_int_equal(ubd_proc_stat(&d, m.pid, "page size"), (long)HUGE);

	t0 = now_us();
	assert_int_equal(echo_call(d.sock, MIB, 1, NULL), BR_REPLY);
	printf("# first 1 MiB call (a fresh huge page): %ld us\n", now_us() - t0);
	t0 = now_us();
	assert_int_equal(echo_call(d.sock, MIB, 1, NULL), BR_REPLY);
	printf("# second 1 MiB call (the lru huge page): %ld us\n", now_us() - t0);
	/* The caller's 1 MiB region is not a whole huge page: base pages. */
	assert_true(ubd_stat(&d, "base page regions beside them") >= 1);
	assert_true(ubd_stat(&d, "huge page regions") >= 1);

	/* Freed, the buffer's page is lru: one whole huge page, and huge. */
	assert_int_equal(manager_resident(&d, &m), (long)PER_HUGE);
	assert_int_equal(ubd_proc_stat(&d, m.pid, "pages high watermark"), (long)PER_HUGE);
	pmd = region_pmd_kb(d.pid, m.pid);
	printf("# the manager's region in the daemon: %ld kB mapped huge\n", pmd);
	assert_int_equal(pmd, 2048);

	/* Reclaim: the whole page goes, nothing of it is left mapped. */
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(manager_resident(&d, &m), 0);
	assert_int_equal(region_pmd_kb(d.pid, m.pid), 0);
	assert_int_equal(ubd_stat(&d, "lru pages"), 0);

	/* A held 1 MiB call: its huge page is active, reclaim leaves it. */
	h.sock = d.sock;
	caller = spawn(held_call_main, &h);
	assert_int_equal(sync_wait(&m.ready, 5000), 2);
	assert_int_equal(manager_resident(&d, &m), (long)PER_HUGE);
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(manager_resident(&d, &m), (long)PER_HUGE);
	assert_int_equal(region_pmd_kb(d.pid, m.pid), 2048);
	sync_post(&m.go, 1);
	assert_int_equal(reap(caller, 10000), 0);
	free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
	assert_int_equal(manager_resident(&d, &m), 0);
	assert_true(ubd_stat(&d, "pages reclaimed") >= 2 * (long)PER_HUGE);

	echo_stop(&m, d.sock);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stat(&d, "installed pages"), 0);
	assert_int_equal(ubd_stop(&d), 0);
}

static void a_refusal_is_reported_and_base_pages_serve(void **state)
{
	static const char *const args[] = { "--huge-pages", "2M", NULL };
	struct echo_manager m;
	struct ubd d;
	char *text;

	(void)state;
	if (!thp_settable())
		skip();
	assert_int_equal(write_policy("never"), 0);
	assert_int_equal(ubd_start(&d, args), 0);
	text = ubd_admin(&d, UBW_ADMIN_STATS, 0, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nhuge pages: refused: the kernel gives shmem 4 KiB pages "
				     "(shmem_enabled=never)\n"));
	free(text);
	echo_start(&m, d.sock);
	assert_int_equal(ubd_proc_stat(&d, m.pid, "page size"), (long)BASE_PAGE);
	assert_int_equal(echo_call(d.sock, MIB, 1, NULL), BR_REPLY);
	assert_int_equal(ubd_stat(&d, "huge page regions"), 0);
	echo_stop(&m, d.sock);
	assert_int_equal(ubd_wait_idle(&d), 0);
	assert_int_equal(ubd_stop(&d), 0);
	assert_int_equal(write_policy("advise"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_1mib_call_takes_one_huge_page),
		cmocka_unit_test(a_refusal_is_reported_and_base_pages_serve),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
