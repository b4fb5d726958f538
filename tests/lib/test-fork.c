/* SPDX-License-Identifier: MIT */
/*
 * fork() with an open context, through the real daemon: a client forks
 * while one of its threads waits in a call. In the child every call on the
 * inherited context fails with UBINDER_ERR_INVALID_OPERATION and one line
 * says why; the child opens a context of its own and its calls succeed.
 * The parent's waiting call completes, its other calls keep working, and
 * the daemon sees no process of the child's once it exits.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib-test.h"

#define SERVICE "test.fork"

/* A call that waits in the service until TS_UNBLOCK (at most 10 s). */
struct blocked {
	ubinder_binder *b;
	int err;
	int32_t unblocked;
};

static void *blocked_call(void *arg)
{
	struct blocked *bc = arg;
	ubinder_parcel *reply = NULL;

	bc->err = ts_call_i32(bc->b, TS_BLOCK, NULL, 0, &reply);
	if (!bc->err)
		bc->err = ubinder_parcel_read_int32(reply, &bc->unblocked);
	ubinder_parcel_free(reply);
	return NULL;
}

/* The child: every use of the parent's context fails; a new one works. */
static int forked_child(ubinder_context *parent_ctx, ubinder_binder *parent_b)
{
	ubinder_context *own = NULL;
	ubinder_binder *b = NULL, *local = NULL;
	ubinder_parcel *data = ts_request(), *reply = NULL;
	int32_t x = 42, back = 0;

	CHECK(ubinder_binder_ping(parent_b) == UBINDER_ERR_INVALID_OPERATION);
	CHECK(ubinder_binder_transact(parent_b, TS_ECHO, data, 0, &reply) ==
	      UBINDER_ERR_INVALID_OPERATION);
	CHECK(reply == NULL);
	CHECK(ubinder_sm_check_service(parent_ctx, SERVICE, &b) == UBINDER_ERR_INVALID_OPERATION);
	CHECK(ubinder_binder_new(parent_ctx, "x", NULL, NULL, NULL, &local) ==
	      UBINDER_ERR_INVALID_OPERATION);
	CHECK(ubinder_context_process(parent_ctx) == UBINDER_ERR_INVALID_OPERATION);
	CHECK(ubinder_context_flush(parent_ctx) == UBINDER_ERR_INVALID_OPERATION);
	CHECK(ubinder_context_get_fd(parent_ctx) < 0);
	CHECK(ubinder_binder_link_to_death(parent_b, (ubinder_death_fn)(void (*)(void))abort,
					   NULL) == UBINDER_ERR_INVALID_OPERATION);
	/* Dropping what was inherited sends nothing and breaks nothing. */
	ubinder_binder_unref(ubinder_binder_ref(parent_b));
	ubinder_parcel_free(data);

	/* A context of its own: a process of its own for the daemon. */
	CHECK_OK(ubinder_context_open(NULL, &own));
	CHECK_OK(ubinder_sm_check_service(own, SERVICE, &b));
	CHECK_OK(ubinder_binder_ping(b));
	CHECK_OK(ts_call_i32(b, TS_STATUS, &(int32_t){ 0 }, 0, NULL));
	data = ts_request();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_int32(data, x));
	CHECK_OK(ubinder_parcel_write_string16_utf8(data, "child"));
	CHECK_OK(ubinder_binder_transact(b, TS_ECHO, data, 0, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &back));
	CHECK(back == x);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	ubinder_binder_unref(b);
	/* Closing the parent's context in the child leaves the parent's alone. */
	ubinder_context_close(parent_ctx);
	ubinder_context_close(own);
	return 0;
}

/* Reads what the child wrote on stderr (@fd), at most @size - 1 bytes. */
static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

static int count_lines_with(const char *text, const char *what)
{
	int n = 0;

	for (const char *at = text; (at = strstr(at, what)) != NULL; at += strlen(what))
		n++;
	return n;
}

static int client_forks(void *arg)
{
	ubinder_context *ctx = client_open(true);
	struct blocked bc = { 0 };
	ubinder_binder *b = NULL;
	pthread_t thread;
	char err_text[1024];
	int errpipe[2];
	pid_t child;
	int status;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, SERVICE, &b));
	CHECK_OK(ubinder_binder_ping(b));
	bc.b = b;
	CHECK(pthread_create(&thread, NULL, blocked_call, &bc) == 0);
	/* Most likely inside its call by then; either way the fork races it. */
	poll(NULL, 0, 100);
	CHECK(pipe(errpipe) == 0);

	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		close(errpipe[1]);
		_exit(forked_child(ctx, b));
	}
	close(errpipe[1]);
	/* The parent works while the child lives. */
	for (int i = 0; i < 50; i++)
		CHECK_OK(ubinder_binder_ping(b));
	read_all(errpipe[0], err_text, sizeof(err_text));
	close(errpipe[0]);
	status = reap(child, 20000);
	if (status != 0) {
		fprintf(stderr, "the forked child failed (%d):\n%s", status, err_text);
		return 1;
	}
	/* One line, once, whatever the child called. */
	CHECK(count_lines_with(err_text, "cannot be used in its forked child") == 1);

	/* The waiting call is answered on its connection, as if nothing happened. */
	CHECK_OK(ts_call_i32(b, TS_UNBLOCK, NULL, UBINDER_FLAG_ONEWAY, NULL));
	CHECK(pthread_join(thread, NULL) == 0);
	CHECK_OK(bc.err);
	CHECK(bc.unblocked == 1);
	for (int i = 0; i < 20; i++)
		CHECK_OK(ubinder_binder_ping(b));
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void fork_with_open_context(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, SERVICE, false, 4), 0);
	assert_int_equal(reap(lspawn(client_forks, NULL), 40000), 0);
	assert_int_equal(service_stop(&s), 0);
	/* The parent and the child each were a process; only the manager is left. */
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
	assert_int_equal(env_wait_stat(&lib_env, "ref: active", 0, 5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_with_open_context),
	};

	return cmocka_run_group_tests(tests, lib_env_setup, lib_env_teardown);
}
