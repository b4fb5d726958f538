/* SPDX-License-Identifier: MIT */
/*
 * The copy workers with tasks that block until the test lets them go: the
 * per-owner and per-group limits, expiry of an owner's waiting tasks at the deadline, a
 * stalled task replaced in the pool so that other owners' tasks still run,
 * and the per-uid quota table the daemon's limits use.
 */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/uid_quota.h"
#include "daemon/copier.h"
#include "daemon/loop.h"
#include "test-util.h"

struct job {
	struct copier_task task;
	int gate[2]; /* run() blocks until a byte arrives; -1: runs at once */
	int done, expired;
};

static void job_run(struct copier_task *task)
{
	struct job *j = (struct job *)task;
	char byte;

	if (j->gate[0] >= 0)
		(void)!read(j->gate[0], &byte, 1);
}

static void job_done(struct copier_task *task)
{
	((struct job *)task)->done++;
}

static void job_expired(struct copier_task *task)
{
	((struct job *)task)->expired++;
}

static void job_init(struct job *j, uint64_t owner, bool blocking)
{
	memset(j, 0, sizeof(*j));
	j->task.run = job_run;
	j->task.done = job_done;
	j->task.expired = job_expired;
	j->task.owner_key = owner;
	j->gate[0] = j->gate[1] = -1;
	if (blocking)
		assert_int_equal(pipe(j->gate), 0);
}

static void job_release(struct job *j)
{
	if (j->gate[1] >= 0)
		assert_int_equal(write(j->gate[1], "x", 1), 1);
}

static void job_deinit(struct job *j)
{
	if (j->gate[0] >= 0) {
		close(j->gate[0]);
		close(j->gate[1]);
	}
}

/* Runs the loop's handlers (completions, deadline sweeps) for @ms. */
static void spin(struct loop *l, int ms)
{
	for (int left = ms; left > 0; left -= 10) {
		struct epoll_event ev;

		if (epoll_wait(l->epfd, &ev, 1, 10) == 1) {
			struct loop_source *src = ev.data.ptr;

			src->handle(src, ev.events);
		}
	}
}

static void one_owner_waits_and_expires(void **state)
{
	struct loop l;
	struct copier c;
	struct job a, b, other;

	(void)state;
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(copier_init(&c, &l, 4, 1, 0, 200), 0);
	job_init(&a, 7, true);
	job_init(&b, 7, false);
	job_init(&other, 8, false);
	copier_submit(&c, &a.task);
	copier_submit(&c, &b.task); /* waits behind a: one per owner */
	copier_submit(&c, &other.task);
	spin(&l, 100);
	assert_int_equal(other.done, 1); /* another owner is not held up */
	assert_int_equal(b.done + b.expired, 0);
	spin(&l, 300);
	assert_int_equal(b.expired, 1); /* past the deadline: never runs */
	assert_int_equal(b.done, 0);
	assert_int_equal(c.stalls, 1); /* a ran past it */
	assert_int_equal(c.expired, 1);
	job_release(&a);
	spin(&l, 100);
	assert_int_equal(a.done, 1);
	assert_int_equal(c.stalled, 0);
	assert_int_equal(copier_deinit(&c), 0);
	job_deinit(&a);
	loop_deinit(&l);
}

/*
 * Two tasks of one group at once: a third owner of the group waits (and
 * gets the first free place), another group's task does not; the group's
 * stalled tasks still hold its places, so its next task expires.
 */
static void one_group_waits_its_turn(void **state)
{
	struct loop l;
	struct copier c;
	struct job a, b, w, x, late, other, other2;

	(void)state;
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(copier_init(&c, &l, 4, 0, 2, 300), 0);
	job_init(&a, 11, true);
	job_init(&b, 12, true);
	job_init(&w, 13, false);
	job_init(&x, 15, true);
	job_init(&late, 14, false);
	job_init(&other, 21, false);
	job_init(&other2, 22, false);
	a.task.group_key = b.task.group_key = w.task.group_key = 1;
	x.task.group_key = late.task.group_key = 1;
	other.task.group_key = other2.task.group_key = 2;
	copier_submit(&c, &a.task);
	copier_submit(&c, &b.task);
	copier_submit(&c, &w.task); /* the group is full */
	copier_submit(&c, &other.task);
	spin(&l, 100);
	assert_int_equal(other.done, 1);
	assert_int_equal(w.done + w.expired, 0);
	assert_int_equal(c.waited_group, 1);
	assert_int_equal(c.waited_owner, 0);
	job_release(&a);
	spin(&l, 100);
	assert_int_equal(a.done, 1);
	assert_int_equal(w.done, 1); /* a's place went to another owner of the group */

	copier_submit(&c, &x.task); /* with b: full again */
	copier_submit(&c, &late.task);
	spin(&l, 600);
	assert_int_equal(c.stalls, 2); /* b and x: stalled, and still the group's */
	assert_int_equal(late.expired, 1);
	assert_int_equal(late.done, 0);
	copier_submit(&c, &other2.task);
	spin(&l, 100);
	assert_int_equal(other2.done, 1); /* the pool grew past the stalled ones */
	job_release(&b);
	job_release(&x);
	spin(&l, 100);
	assert_int_equal(b.done + x.done, 2);
	assert_int_equal(c.stalled, 0);
	assert_null(c.groups); /* nothing held: nothing kept */
	assert_null(c.owners);
	assert_int_equal(copier_deinit(&c), 0);
	job_deinit(&a);
	job_deinit(&b);
	job_deinit(&x);
	loop_deinit(&l);
}

static void stalled_workers_are_replaced(void **state)
{
	enum {
		N = 3
	};
	struct loop l;
	struct copier c;
	struct job stuck[N], late;

	(void)state;
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(copier_init(&c, &l, 1, 1, 0, 100), 0);
	for (int i = 0; i < N; i++) {
		job_init(&stuck[i], (uint64_t)i + 1, true);
		copier_submit(&c, &stuck[i].task);
	}
	job_init(&late, 99, false);
	copier_submit(&c, &late.task);
	/* One worker; each stall lets the pool grow one more. */
	spin(&l, 800);
	assert_int_equal(late.done, 1);
	assert_int_equal(c.stalls, N);
	for (int i = 0; i < N; i++)
		job_release(&stuck[i]);
	spin(&l, 100);
	for (int i = 0; i < N; i++) {
		assert_int_equal(stuck[i].done, 1);
		job_deinit(&stuck[i]);
	}
	assert_int_equal(c.stalled, 0);
	assert_int_equal(copier_deinit(&c), 0);
	loop_deinit(&l);
}

static void deinit_leaves_a_blocked_worker(void **state)
{
	struct loop l;
	struct copier c;
	struct job j;

	(void)state;
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(copier_init(&c, &l, 2, 0, 0, 0), 0);
	job_init(&j, 1, true);
	copier_submit(&c, &j.task);
	spin(&l, 50);
	assert_int_equal(copier_deinit(&c), 1); /* still blocked after a moment */
	job_release(&j);
	poll(NULL, 0, 50); /* it returns and exits: c must live until then */
	close(c.src.fd);
	job_deinit(&j);
	loop_deinit(&l);
}

static void uid_quotas_count_and_refuse(void **state)
{
	static const char *const names[] = { "a", "b" };
	struct uid_quotas q;

	(void)state;
	uid_quotas_init(&q, 2, names);
	q.limit[0] = 3;
	assert_true(uid_quota_take(&q, 1000, 0, 2));
	assert_false(uid_quota_take(&q, 1000, 0, 2));
	assert_true(uid_quota_take(&q, 1001, 0, 3));	   /* per uid */
	assert_true(uid_quota_take(&q, 1000, 1, 1000000)); /* no limit */
	assert_false(uid_quota_take(&q, 1000, 5, 1));	   /* no such kind */
	assert_false(uid_quota_take(&q, 1000, 0, UINT64_MAX));
	assert_int_equal(q.refused[0], 2);
	assert_int_equal(uid_quota_used(&q, 1000, 0), 2);
	uid_quota_give(&q, 1000, 0, 2);
	uid_quota_give(&q, 1000, 1, 1000000);
	uid_quota_give(&q, 1001, 0, 3);
	assert_null(q.by_uid); /* nothing held: nothing kept */
	uid_quotas_deinit(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_owner_waits_and_expires),
		cmocka_unit_test(one_group_waits_its_turn),
		cmocka_unit_test(stalled_workers_are_replaced),
		cmocka_unit_test(deinit_leaves_a_blocked_worker),
		cmocka_unit_test(uid_quotas_count_and_refuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
