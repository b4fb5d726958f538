/* SPDX-License-Identifier: MIT */
/*
 * The seccomp path end to end: unmodified programs written against the
 * kernel API (a static glibc one, a static musl one, a Go one) call the
 * service manager through `ubinder-run --seccomp` and a real ubinderd; a
 * hostile target gets the kernel's errors and leaves nothing behind; when
 * the daemon dies, the programs under it die too.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "wire/packet.h"
#include "wire/wire.h"

static pid_t manager;
static int baseline_fds;

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Starts the service manager on @d. */
static pid_t start_manager(const struct ubd *d)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(env("SERVICEMANAGER"), "ubinder-servicemanager", "-s", d->sock, (char *)NULL);
		_exit(127);
	}
	usleep(300 * 1000);
	return pid;
}

/*
 * Runs PROGRAM ARGS... under `ubinder-run --seccomp` against @d; its stdout
 * (and stderr) into @out. Returns the exit status, -1 if it timed out.
 */
static int run_seccomp(const struct ubd *d, char *out, size_t size, int timeout_ms,
		       const char *program, ...)
{
	const char *argv[16] = { env("UBINDER_RUN"), "-s", d->dir, "--seccomp", program };
	int n = 5, pipefd[2], status = -1;
	ssize_t got = 0, r;
	va_list ap;
	pid_t pid;

	va_start(ap, program);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		alarm(60);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		while ((r = read(pipefd[0], out + got, size - 1 - (size_t)got)) > 0)
			got += r;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10 * 1000);
		status = -1;
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	while ((r = read(pipefd[0], out + got, size - 1 - (size_t)got)) > 0)
		got += r;
	out[got] = '\0';
	close(pipefd[0]);
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int setup(void **state)
{
	if (ubd_group_setup(state))
		return -1;
	manager = start_manager(&D);
	baseline_fds = ubd_settled_fds(&D);
	return 0;
}

static int teardown(void **state)
{
	kill(manager, SIGTERM);
	reap(manager, 5000);
	return ubd_group_teardown(state);
}

static void ping_with(const char *variable)
{
	const char *program = env(variable);
	char out[4096];

	if (!program || access(program, X_OK) != 0) {
		printf("# %s: not built (its compiler is missing: scripts/deps.sh)\n", variable);
		skip();
	}
	int status = run_seccomp(&D, out, sizeof(out), 30000, program, "200", NULL);

	/* A failure says how the program ended and what it printed. */
	if (status != 0 || !strstr(out, "ping ok 200"))
		fail_msg("%s: status %d (-1: timed out), output:\n%s", variable, status, out);
}

static void glibc_static_program(void **state)
{
	(void)state;
	ping_with("PING_GLIBC");
}

static void musl_static_program(void **state)
{
	(void)state;
	ping_with("PING_MUSL");
}

static void go_program(void **state)
{
	(void)state;
	ping_with("PING_GO");
}

static void hostile_target_gets_kernel_errors(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(run_seccomp(&D, out, sizeof(out), 30000, env("HOSTILE"), NULL), 0);
	assert_non_null(strstr(out, "hostile done"));
	/* A bystander is served after it. */
	ping_with("PING_GLIBC");
}

/* A target that dies in a blocked read, and one killed while it runs. */
static void targets_that_die_leak_nothing(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(
		run_seccomp(&D, out, sizeof(out), 1500, env("PING_GLIBC"), "1", "block", NULL), -1);
	assert_non_null(strstr(out, "ping ok 1"));
}

/*
 * Sends a UBW_SECCOMP of @len bytes (magic @magic) with @nfds copies of @fd;
 * returns the reply's error, or 1 when the daemon hung up without one.
 */
static int send_listener(uint32_t magic, size_t len, int fd, int nfds)
{
	struct ubw_seccomp req = { .hdr = { UBW_SECCOMP, 0 },
				   .magic = magic,
				   .version = UBW_PROTOCOL_VERSION };
	struct iovec iov = { &req, len };
	struct ubw_header reply;
	int sock = ubd_connect_raw(D.sock), fds[2] = { fd, fd }, err;

	assert_true(sock >= 0);
	assert_int_equal(ubw_send_packet(sock, &iov, 1, fds, (size_t)nfds, 0), (ssize_t)len);
	err = recv(sock, &reply, sizeof(reply), 0) == sizeof(reply) ? reply.error : 1;
	close(sock);
	return err;
}

/* A bad UBW_SECCOMP gets its error, keeps nothing, and harms no one. */
static void bad_listeners_are_refused(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(send_listener(UBW_MAGIC, sizeof(struct ubw_seccomp), -1, 0), -EINVAL);
	assert_int_equal(send_listener(UBW_MAGIC, sizeof(struct ubw_seccomp), p[0], 1), -EINVAL);
	assert_int_equal(send_listener(UBW_MAGIC, sizeof(struct ubw_seccomp), p[0], 2), -EINVAL);
	assert_int_equal(send_listener(0x12345678, sizeof(struct ubw_seccomp), p[0], 1), -EPROTO);
	/* Truncated: no reply, the connection is closed. */
	assert_int_equal(send_listener(UBW_MAGIC, sizeof(struct ubw_seccomp) - 4, p[0], 1), 1);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ubd_wait_fds(&D, baseline_fds), baseline_fds);
	assert_int_equal(ubd_stat(&D, "seccomp supervisions"), 0);
	ping_with("PING_GLIBC");
}

/* Everything above left nothing behind (run last). */
static void nothing_leaks(void **state)
{
	(void)state;
	for (int i = 0; i < 200 && ubd_stat(&D, "seccomp supervisions") != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(ubd_stat(&D, "seccomp supervisions"), 0);
	assert_int_equal(ubd_stat(&D, "seccomp binder files"), 0);
	assert_true(ubd_stat(&D, "seccomp notifications served") > 0);
	/* What the service manager holds is all that remains. */
	assert_int_equal(ubd_wait_fds(&D, baseline_fds), baseline_fds);
}

/*
 * Conformance programs that fork, exec, dup, close, die with threads blocked
 * and kill their children, each a context manager of its own daemon: once
 * they are gone, nothing of theirs is left in the daemon.
 */
static void forks_execs_and_deaths_leak_nothing(void **state)
{
	static const char *const names[] = { "fork-exec", "threads", "death", "dead" };
	const char *dir = env("CONFORMANCE_DIR");
	struct ubd e = { 0 };
	char out[16384], prog[512];
	int base;

	(void)state;
	if (!dir) {
		printf("# no CONFORMANCE_DIR\n");
		skip();
	}
	assert_int_equal(ubd_start(&e, NULL), 0);
	base = ubd_settled_fds(&e);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(prog, sizeof(prog), "%s/%s%s", dir, names[i],
			 env("CONFORMANCE_SUFFIX") ?: "");
		assert_int_equal(run_seccomp(&e, out, sizeof(out), 60000, prog, NULL), 0);
		assert_non_null(strstr(out, "done"));
	}
	for (int i = 0; i < 200 && ubd_stat(&e, "seccomp supervisions") != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(ubd_stat(&e, "seccomp supervisions"), 0);
	assert_int_equal(ubd_stat(&e, "seccomp binder files"), 0);
	assert_int_equal(ubd_wait_idle(&e), 0);
	assert_int_equal(ubd_wait_fds(&e, base), base);
	assert_int_equal(ubd_stop(&e), 0);
}

/* The daemon dies: the program under the filter dies with it (no ENOSYS limbo). */
static void daemon_death_kills_the_target(void **state)
{
	struct ubd e = { 0 };
	char out[4096];
	pid_t sm;
	int status;

	(void)state;
	assert_int_equal(ubd_start(&e, NULL), 0);
	sm = start_manager(&e);
	{
		const char *argv[] = { env("UBINDER_RUN"), "-s", e.dir,	  "--seccomp",
				       env("PING_GLIBC"),  "1",	 "block", NULL };
		int pipefd[2];
		pid_t pid;
		ssize_t n = 0, r;

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		if (pid == 0) {
			dup2(pipefd[1], 1);
			dup2(pipefd[1], 2);
			alarm(60);
			execv(argv[0], (char **)argv);
			_exit(127);
		}
		close(pipefd[1]);
		for (int i = 0; i < 300 && !strstr(out, "ping ok"); i++) {
			r = read(pipefd[0], out + n, sizeof(out) - 1 - (size_t)n);
			if (r > 0)
				n += r;
			out[n] = '\0';
		}
		assert_non_null(strstr(out, "ping ok 1"));
		kill(e.pid, SIGKILL);
		waitpid(e.pid, NULL, 0);
		e.pid = 0;
		status = reap(pid, 5000);
		/* reap() says -1 for a kill of the launcher itself; it exits 128 + SIGKILL. */
		assert_int_equal(status, 128 + SIGKILL);
		close(pipefd[0]);
	}
	kill(sm, SIGKILL);
	reap(sm, 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(glibc_static_program),
		cmocka_unit_test(musl_static_program),
		cmocka_unit_test(go_program),
		cmocka_unit_test(hostile_target_gets_kernel_errors),
		cmocka_unit_test(targets_that_die_leak_nothing),
		cmocka_unit_test(bad_listeners_are_refused),
		cmocka_unit_test(nothing_leaks),
		cmocka_unit_test(daemon_death_kills_the_target),
		cmocka_unit_test(forks_execs_and_deaths_leak_nothing),
	};

	if (!env("UBINDER_RUN") || !env("SERVICEMANAGER") || !env("PING_GLIBC")) {
		fprintf(stderr, "run through meson test\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
