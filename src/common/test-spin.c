/* SPDX-License-Identifier: MIT */
/*
 * The spin policy: a policy of 0 never looks; one CPU never spins; a spin
 * ends when its answer is there, or after its bound; a waiter whose spins
 * keep missing stops spinning and only probes once in a while; a catch
 * makes it spin again; no more threads of a process spin at once than
 * there are other CPUs; UBINDER_SPIN sets the bound.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "common/spin.h"
#include "test-util.h"

struct answer {
	int looks;	 /* times ready() was called */
	int ready_after; /* ready() is true from this look on; -1: never */
};

static bool ready(void *arg)
{
	struct answer *a = arg;

	a->looks++;
	return a->ready_after >= 0 && a->looks > a->ready_after;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool more_than_one_cpu(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
}

static void zero_never_looks(void **state)
{
	struct spin_policy p;
	struct answer a = { 0, 0 };

	(void)state;
	spin_policy_init(&p, 0);
	for (int i = 0; i < 200; i++)
		assert_false(spin_wait(&p, ready, &a));
	assert_int_equal(a.looks, 0);
	assert_int_equal(p.spins, 0);
}

/* Pinned to one CPU: the answer needs this CPU, so no wait spins. */
static void one_cpu_never_spins(void **state)
{
	struct spin_policy p;
	struct answer a = { 0, 0 };
	cpu_set_t saved, one;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	CPU_ZERO(&one);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &saved)) {
			CPU_SET(cpu, &one);
			break;
		}
	}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	spin_policy_init(&p, SPIN_DEFAULT_NS);
	for (int i = 0; i < 200; i++)
		assert_false(spin_wait(&p, ready, &a));
	assert_int_equal(a.looks, 0);
	assert_int_equal(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

static void catch_and_bound(void **state)
{
	struct spin_policy p;
	struct answer a = { 0, 3 };
	uint64_t start;

	(void)state;
	if (!more_than_one_cpu())
		skip();
	spin_policy_init(&p, SPIN_MAX_NS);
	/* An answer on the fourth look is caught on it. */
	assert_true(spin_wait(&p, ready, &a));
	assert_int_equal(a.looks, 4);
	assert_int_equal(p.catches, 1);
	/* No answer: the spin gives up after its bound (1 ms), well before 1 s. */
	a = (struct answer){ 0, -1 };
	start = now_ns();
	assert_false(spin_wait(&p, ready, &a));
	assert_true(now_ns() - start >= SPIN_MAX_NS);
	assert_true(now_ns() - start < 1000000000u);
	assert_true(a.looks >= 1);
	assert_int_equal(p.spins, 2);
}

/* Misses stop the spinning; a probe once in a while; a catch resumes it. */
static void misses_stop_it(void **state)
{
	struct spin_policy p;
	struct answer a = { 0, -1 };
	int spun = 0, misses = 0;

	(void)state;
	if (!more_than_one_cpu())
		skip();
	spin_policy_init(&p, 1000);
	/* Spins until the score is spent, then one probe in 64 waits. */
	for (int i = 0; i < 64 * 10; i++) {
		int before = a.looks;

		assert_false(spin_wait(&p, ready, &a));
		if (a.looks != before)
			spun++;
	}
	assert_true(spun >= 4 && spun <= 4 + 10 + 1);
	assert_int_equal((int)p.spins, spun);
	/* The next probe catches its answer: the following waits spin again. */
	a.ready_after = 0;
	while (!spin_wait(&p, ready, &a))
		assert_true(++misses <= 64);
	for (int i = 0; i < 3; i++) {
		int before = a.looks;

		assert_true(spin_wait(&p, ready, &a));
		assert_int_equal(a.looks, before + 1);
	}
}

/* A spinner that holds on until released (or its bound, 1 ms, is over). */
struct holder {
	struct spin_policy p;
	int spinning, release, done;
};

static bool released(void *arg)
{
	struct holder *h = arg;

	__atomic_store_n(&h->spinning, 1, __ATOMIC_RELEASE);
	return __atomic_load_n(&h->release, __ATOMIC_ACQUIRE);
}

static void *hold(void *arg)
{
	struct holder *h = arg;

	(void)spin_wait(&h->p, released, h);
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * On two CPUs, while one thread spins another does not (it would take the
 * CPU). Conclusive only when the holder was still spinning after the other
 * thread's wait, which a loaded machine may prevent a few times.
 */
static void one_spinner_per_other_cpu(void **state)
{
	struct spin_policy p;
	cpu_set_t saved, two;
	bool conclusive = false;
	int n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	if (CPU_COUNT(&saved) < 2)
		skip();
	CPU_ZERO(&two);
	for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++) {
		if (CPU_ISSET(cpu, &saved)) {
			CPU_SET(cpu, &two);
			n++;
		}
	}
	assert_int_equal(sched_setaffinity(0, sizeof(two), &two), 0);
	spin_policy_init(&p, SPIN_MAX_NS);
	for (int attempt = 0; attempt < 20 && !conclusive; attempt++) {
		struct holder h = { .spinning = 0 };
		struct answer a = { 0, 0 };
		pthread_t t;
		bool spun;

		spin_policy_init(&h.p, SPIN_MAX_NS);
		assert_int_equal(pthread_create(&t, NULL, hold, &h), 0);
		while (!__atomic_load_n(&h.spinning, __ATOMIC_ACQUIRE))
			sched_yield();
		spun = spin_wait(&p, ready, &a);
		if (!__atomic_load_n(&h.done, __ATOMIC_ACQUIRE)) {
			conclusive = true;
			assert_false(spun);
			assert_int_equal(a.looks, 0);
		}
		__atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(saved), &saved), 0);
	if (!conclusive)
		skip();
	/* Alone again: it spins. */
	{
		struct answer a = { 0, 0 };

		assert_true(spin_wait(&p, ready, &a));
	}
}

static void environment_sets_the_bound(void **state)
{
	(void)state;
	unsetenv("UBINDER_SPIN");
	assert_int_equal(spin_env_max_ns(), SPIN_DEFAULT_NS);
	setenv("UBINDER_SPIN", "0", 1);
	assert_int_equal(spin_env_max_ns(), 0);
	setenv("UBINDER_SPIN", "50", 1);
	assert_int_equal(spin_env_max_ns(), 50000);
	setenv("UBINDER_SPIN", "99999999999", 1);
	assert_int_equal(spin_env_max_ns(), SPIN_MAX_NS);
	setenv("UBINDER_SPIN", "fast", 1);
	assert_int_equal(spin_env_max_ns(), SPIN_DEFAULT_NS);
	setenv("UBINDER_SPIN", "-5", 1);
	assert_int_equal(spin_env_max_ns(), SPIN_DEFAULT_NS);
	unsetenv("UBINDER_SPIN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_never_looks),
		cmocka_unit_test(one_cpu_never_spins),
		cmocka_unit_test(catch_and_bound),
		cmocka_unit_test(misses_stop_it),
		cmocka_unit_test(one_spinner_per_other_cpu),
		cmocka_unit_test(environment_sets_the_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
