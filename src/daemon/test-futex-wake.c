/* SPDX-License-Identifier: MIT */
/*
 * futex_wake_two: both waiters are woken by one call, whichever side of 0
 * the second word's value is on; a second word scribbled to the other side
 * loses only its own wake-up, and is left as it was. Waiters are threads
 * blocked in FUTEX_WAIT on a MAP_SHARED mapping (a shared futex, as the
 * rings'), seen blocked through /proc before the wake.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "daemon/futex_wake.h"
#include "test-util.h"

struct waiter {
	uint32_t *word;
	pthread_t thread;
	pid_t tid;
	int result; /* 0: woken, or the errno of FUTEX_WAIT */
	bool started;
};

static void *wait_on(void *arg)
{
	struct waiter *w = arg;
	struct timespec limit = { 10, 0 };
	uint32_t value = __atomic_load_n(w->word, __ATOMIC_SEQ_CST);

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->started, true, __ATOMIC_SEQ_CST);
	w->result = syscall(SYS_futex, w->word, FUTEX_WAIT, value, &limit, NULL, 0) < 0 ? errno : 0;
	return NULL;
}

/* Whether the thread is blocked in the futex system call. */
static bool blocked_in_futex(pid_t tid)
{
	char path[64], line[64] = "", want[16];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	snprintf(want, sizeof(want), "%ld ", (long)SYS_futex);
	return strncmp(line, want, strlen(want)) == 0;
}

static void start_waiting(struct waiter *w, uint32_t *word)
{
	*w = (struct waiter){ .word = word, .result = -1 };
	assert_int_equal(pthread_create(&w->thread, NULL, wait_on, w), 0);
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&w->started, __ATOMIC_SEQ_CST) && blocked_in_futex(w->tid))
			return;
		usleep(1000);
	}
	fail_msg("the waiter never blocked in FUTEX_WAIT");
}

static void *shared_words(void)
{
	void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(map != MAP_FAILED);
	return map;
}

static void wake_both(uint32_t b_value)
{
	uint32_t *words = shared_words();
	struct waiter a, b;

	words[0] = 7;
	words[16] = b_value;
	start_waiting(&a, &words[0]);
	start_waiting(&b, &words[16]);
	assert_int_equal(futex_wake_two(&words[0], &words[16], b_value), 2);
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	assert_int_equal(a.result, 0);
	assert_int_equal(b.result, 0);
	assert_int_equal(words[16], b_value); /* "add 0": left as it was */
	munmap(words, 4096);
}

static void test_positive(void **state)
{
	(void)state;
	wake_both(5);
	wake_both(0);
	wake_both(0x7fffffffu);
}

static void test_negative(void **state)
{
	(void)state;
	wake_both(0x80000000u);
	wake_both(0xffffffffu);
	wake_both(0x80000005u);
}

/* The second word was scribbled to the other side of 0: only its waiter
 * misses the wake-up; the first is woken all the same. */
static void test_scribbled_second(void **state)
{
	uint32_t *words = shared_words();
	struct waiter a, b;

	(void)state;
	words[0] = 1;
	words[16] = 0x90000000u; /* the caller stored 3 */
	start_waiting(&a, &words[0]);
	start_waiting(&b, &words[16]);
	assert_int_equal(futex_wake_two(&words[0], &words[16], 3), 1);
	pthread_join(a.thread, NULL);
	assert_int_equal(a.result, 0);
	assert_true(blocked_in_futex(b.tid));
	assert_int_equal(futex_wake_one(&words[16]), 1);
	pthread_join(b.thread, NULL);
	assert_int_equal(b.result, 0);
	assert_int_equal(words[16], 0x90000000u);
	munmap(words, 4096);
}

/* Linux 6.7 or later, with io_uring allowed (kernel.io_uring_disabled 0). */
static bool kernel_has_futex_requests(void)
{
	struct utsname u;
	int major = 0, minor = 0, disabled = 0;
	FILE *f;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (f) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = 1;
		fclose(f);
	}
	return (major > 6 || (major == 6 && minor >= 7)) && disabled == 0;
}

/*
 * futex_batch_wake: eight waiters on eight words of a shared mapping, all
 * woken by one call; a bad address among them (a request that fails) costs
 * only its own wake-up. Skipped where io_uring has no futex requests.
 */
static void test_batch(void **state)
{
	const char *why = NULL;
	struct futex_batch *b = futex_batch_new(&why);
	uint32_t *words = shared_words(), *targets[9];
	struct waiter w[8];
	unsigned failed;

	(void)state;
	if (!b) {
		print_message("# no batch: %s\n", why);
		/* Built with liburing on Linux 6.7 or later with io_uring on, the
		 * daemon must batch. */
		if (strcmp(why, "pairs (built without liburing)") != 0 &&
		    kernel_has_futex_requests())
			fail_msg("io_uring should take futex wake requests here: %s", why);
		skip();
	}
	for (int i = 0; i < 8; i++) {
		words[16 * i] = (uint32_t)i * 0x20000001u; /* both sides of 0 */
		start_waiting(&w[i], &words[16 * i]);
		targets[i] = &words[16 * i];
	}
	targets[8] = targets[7];
	targets[7] = (uint32_t *)(uintptr_t)4096; /* not mapped: that request fails */
	assert_int_equal(futex_batch_wake(b, targets, 9, &failed), 9);
	assert_int_equal(failed, 1); /* the unmapped word's, woken alone */
	for (int i = 0; i < 8; i++) {
		pthread_join(w[i].thread, NULL);
		assert_int_equal(w[i].result, 0);
		assert_int_equal(words[16 * i], (uint32_t)i * 0x20000001u);
	}
	/* The ring is reusable: nobody waits now, nothing is woken, no error. */
	assert_int_equal(futex_batch_wake(b, targets, 2, &failed), 2);
	assert_int_equal(failed, 0);
	futex_batch_free(b);
	futex_batch_free(NULL);
	munmap(words, 4096);
}

/* Nobody waits: nothing woken, nothing changed. */
static void test_no_waiters(void **state)
{
	uint32_t *words = shared_words();

	(void)state;
	words[0] = 1;
	words[16] = 2;
	assert_int_equal(futex_wake_two(&words[0], &words[16], 2), 0);
	assert_int_equal(futex_wake_one(&words[0]), 0);
	assert_int_equal(words[0], 1);
	assert_int_equal(words[16], 2);
	munmap(words, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_scribbled_second),
		cmocka_unit_test(test_no_waiters),
		cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
