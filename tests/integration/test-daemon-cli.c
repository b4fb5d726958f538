/* SPDX-License-Identifier: MIT */
/*
 * ubinderd's command line and lifecycle: --help and --version, usage errors,
 * one clear line and a non-zero exit for every startup failure, a second
 * daemon on the same socket refused, several contexts, clean shutdown on
 * SIGTERM and SIGINT (exit 0, sockets removed), a socket directory another
 * uid could fill refused, sockets passed by a service manager (socket
 * activation).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-util.h"

/* Runs ubinderd with @args; returns its exit status and the first line it printed. */
static int run_daemon(const char *const *args, char *line, size_t size)
{
	const char *bin = getenv("UBINDERD");
	const char *argv[16] = { bin };
	int out[2], status, n = 1;
	ssize_t len;
	pid_t pid;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	if (pipe(out) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(out[1], 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	len = read(out[0], line, size - 1);
	line[len > 0 ? len : 0] = '\0';
	close(out[0]);
	status = reap(pid, 10000);
	return status;
}

static void help_and_version(void **state)
{
	char line[4096];

	(void)state;
	assert_int_equal(run_daemon((const char *[]){ "--help", NULL }, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "Usage: ubinderd"));
	assert_non_null(strstr(line, "--max-region"));
	assert_int_equal(run_daemon((const char *[]){ "--version", NULL }, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "ubinderd "));
}

static void usage_errors_exit_2(void **state)
{
	static const char *const bad[][3] = {
		{ "--bogus", NULL, NULL },	   { "--max-region", "12", NULL },
		{ "--max-region", "9G", NULL },	   { "--max-region", "lots", NULL },
		{ "--context", "a/b", NULL },	   { "--context", "", NULL },
		{ "--log-level", "chatty", NULL }, { "--copy-workers", "0", NULL },
		{ "--max-threads", "0", NULL },	   { "extra-argument", NULL, NULL },
		{ "--huge-pages", "3M", NULL },	   { "--huge-pages", "4M", NULL },
		{ "--huge-pages", "4K", NULL },	   { "--huge-pages", "big", NULL },
	};
	char line[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run_daemon(bad[i], line, sizeof(line)), 2);
		assert_true(strlen(line) > 0);
	}
	/* The same context twice. */
	assert_int_equal(
		run_daemon((const char *[]){ "-c", "x", "-c", "x", NULL }, line, sizeof(line)), 2);
}

static void startup_failures_exit_1(void **state)
{
	char dir[] = "/tmp/ubinder-cli-XXXXXX";
	char path[512], file[256], line[4096];
	struct ubd d;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* The socket's directory is a file. */
	snprintf(file, sizeof(file), "%s/file", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/binder", file);
	assert_int_equal(run_daemon((const char *[]){ "--socket", path, NULL }, line, sizeof(line)),
			 1);
	assert_non_null(strstr(line, "ubinderd:"));
	assert_null(strchr(strchr(line, '\n') ? strchr(line, '\n') + 1 : "", '\n'));
	/* A path too long for a Unix socket. */
	memset(path, 'a', 200);
	path[0] = '/';
	path[200] = '\0';
	assert_int_equal(run_daemon((const char *[]){ "--socket", path, NULL }, line, sizeof(line)),
			 2);
	/* A second daemon on a served socket is refused; the first keeps working. */
	assert_int_equal(ubd_start(&d, NULL), 0);
	assert_int_equal(
		run_daemon((const char *[]){ "--socket", d.sock, NULL }, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "already serving"));
	assert_int_equal(ubd_stat(&d, "procs"), 0);
	assert_int_equal(ubd_stop(&d), 0);
	unlink(file);
	rmdir(dir);
}

/*
 * A socket directory another uid could fill: a symlink (the squatter's way
 * to point the daemon at its own directory), one writable by others, one
 * another uid owns. The daemon refuses each with one line naming the path
 * and the problem, and binds nothing there.
 */
static void squatted_socket_directory_refused(void **state)
{
	char base[] = "/tmp/ubinder-cli-XXXXXX";
	char open_dir[64], target[64], link[64], other[64], path[128], line[4096];
	const struct {
		const char *dir, *problem;
	} cases[] = {
		{ open_dir, "writable by others (mode 0777)" },
		{ link, "is a symlink" },
		{ other, "owned by uid 65534" },
	};
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(open_dir, sizeof(open_dir), "%s/open", base);
	snprintf(target, sizeof(target), "%s/target", base);
	snprintf(link, sizeof(link), "%s/link", base);
	snprintf(other, sizeof(other), "%s/other", base);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].dir == other && (geteuid() != 0 || chown(other, 65534, 65534) < 0)) {
			printf("# skipped the other-owner case: chown to 65534 needs root\n");
			continue;
		}
		snprintf(path, sizeof(path), "%s/binder", cases[i].dir);
		assert_int_equal(
			run_daemon((const char *[]){ "--socket", path, NULL }, line, sizeof(line)),
			1);
		assert_non_null(strstr(line, "refusing to serve in"));
		assert_non_null(strstr(line, cases[i].dir));
		assert_non_null(strstr(line, cases[i].problem));
		assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
		assert_int_equal(lstat(path, &st), -1);
	}
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(target), 0);
	assert_int_equal(rmdir(open_dir), 0);
	assert_int_equal(rmdir(other), 0);
	assert_int_equal(rmdir(base), 0);
}

static void several_contexts_and_clean_shutdown(void **state)
{
	char hw[160], vnd[160];
	struct stat st;
	struct ubd d;
	struct rc c;

	(void)state;
	assert_int_equal(ubd_start(&d, (const char *[]){ "-c", "binder", "-c", "hwbinder", "-c",
							 "vndbinder", NULL }),
			 0);
	snprintf(hw, sizeof(hw), "%s/hwbinder", d.dir);
	snprintf(vnd, sizeof(vnd), "%s/vndbinder", d.dir);
	/* ubd_start saw the first context's socket; the others follow it. */
	for (int i = 0; i < 200 && (stat(hw, &st) < 0 || stat(vnd, &st) < 0); i++)
		poll(NULL, 0, 10);
	assert_int_equal(stat(hw, &st), 0);
	assert_int_equal(stat(vnd, &st), 0);
	/* Each context has its own context manager. */
	assert_int_equal(rc_open(&c, hw, 1 << 20), 0);
	assert_int_equal(rc_ioctl(&c, BINDER_SET_CONTEXT_MGR, NULL), 0);
	{
		struct rc c2;

		assert_int_equal(rc_open(&c2, vnd, 1 << 20), 0);
		assert_int_equal(rc_ioctl(&c2, BINDER_SET_CONTEXT_MGR, NULL), 0);
		rc_close(&c2);
	}
	rc_close(&c);
	/* SIGINT is a clean stop too: exit 0, every socket gone. */
	kill(d.pid, SIGINT);
	assert_int_equal(reap(d.pid, 5000), 0);
	d.pid = 0;
	assert_int_equal(stat(hw, &st), -1);
	assert_int_equal(stat(vnd, &st), -1);
	assert_int_equal(stat(d.sock, &st), -1);
	unlink(hw);
	unlink(vnd);
	ubd_stop(&d);
}

/* A listening AF_UNIX socket of @type at @path, as a service manager makes it. */
static int listening_socket(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/*
 * Starts ubinderd with @args as a service manager would for socket
 * activation: @fds passed from descriptor 3 on, named @names. Its output
 * goes to @out. Returns its pid.
 */
static pid_t spawn_activated(const int *fds, int n, const char *names, const char *const *args,
			     int out)
{
	const char *bin = getenv("UBINDERD");
	const char *argv[16] = { bin };
	pid_t pid;
	int argc = 1;

	for (int i = 0; args[i] && argc < 15; i++)
		argv[argc++] = args[i];
	pid = fork();
	if (pid == 0) {
		char text[16];

		for (int i = 0; i < n; i++)
			dup2(fds[i], 100 + i); /* clear of the targets */
		for (int i = 0; i < n; i++)
			dup2(100 + i, 3 + i);
		dup2(out, 1);
		dup2(out, 2);
		snprintf(text, sizeof(text), "%d", (int)getpid());
		setenv("LISTEN_PID", text, 1);
		snprintf(text, sizeof(text), "%d", n);
		setenv("LISTEN_FDS", text, 1);
		setenv("LISTEN_FDNAMES", names, 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* The first line ubinderd printed on @out (read end) and its exit status. */
static int exit_and_line(pid_t pid, int out, char *line, size_t size)
{
	ssize_t len = read(out, line, size - 1);

	line[len > 0 ? len : 0] = '\0';
	return reap(pid, 10000);
}

/*
 * Socket activation: ubinderd serves the sockets passed with LISTEN_FDS
 * (matched to contexts by LISTEN_FDNAMES), creates no directory or socket of
 * its own, and leaves the passed sockets in place when it stops. Passed
 * sockets of the wrong kind, or that do not match the contexts, are refused.
 */
static void socket_activation(void **state)
{
	static const char *const two[] = {
		"-c", "binder", "-c", "hwbinder", "--socket", NULL, NULL
	};
	char dir[] = "/tmp/ubinder-act-XXXXXX";
	char binder[64], hw[64], unused[64], unused_sock[80], line[4096];
	const char *args[7];
	int fds[2], out[2];
	struct stat st;
	struct rc c;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(binder, sizeof(binder), "%s/binder", dir);
	snprintf(hw, sizeof(hw), "%s/hwbinder", dir);
	snprintf(unused, sizeof(unused), "%s/unused", dir);
	snprintf(unused_sock, sizeof(unused_sock), "%s/binder", unused);
	memcpy(args, two, sizeof(args));
	args[5] = unused_sock; /* what it would make itself: it must not */
	fds[0] = listening_socket(binder, SOCK_SEQPACKET);
	fds[1] = listening_socket(hw, SOCK_SEQPACKET);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = spawn_activated((const int[]){ fds[1], fds[0] }, 2, "hwbinder:binder", args, out[1]);
	assert_int_equal(rc_open(&c, binder, 1 << 20), 0);
	assert_int_equal(rc_ioctl(&c, BINDER_SET_CONTEXT_MGR, NULL), 0);
	{
		struct rc c2;

		/* Another context: its own context manager. */
		assert_int_equal(rc_open(&c2, hw, 1 << 20), 0);
		assert_int_equal(rc_ioctl(&c2, BINDER_SET_CONTEXT_MGR, NULL), 0);
		rc_close(&c2);
	}
	rc_close(&c);
	assert_int_equal(lstat(unused, &st), -1);
	kill(pid, SIGTERM);
	assert_int_equal(reap(pid, 5000), 0);
	assert_int_equal(stat(binder, &st), 0); /* the service manager's, not removed */
	assert_int_equal(stat(hw, &st), 0);
	close(out[0]);
	close(out[1]);

	/* A context without its socket. */
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = spawn_activated(fds, 2, "binder:vndbinder", args, out[1]);
	close(out[1]);
	assert_int_equal(exit_and_line(pid, out[0], line, sizeof(line)), 1);
	assert_non_null(strstr(line, "no socket passed for context hwbinder"));
	close(out[0]);
	/* A stream socket where a SOCK_SEQPACKET one belongs. */
	close(fds[1]);
	unlink(hw);
	fds[1] = listening_socket(hw, SOCK_STREAM);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = spawn_activated(&fds[1], 1, "binder", (const char *[]){ NULL }, out[1]);
	close(out[1]);
	assert_int_equal(exit_and_line(pid, out[0], line, sizeof(line)), 1);
	assert_non_null(strstr(line, "not a listening AF_UNIX SOCK_SEQPACKET socket"));
	close(out[0]);
	close(fds[0]);
	close(fds[1]);
	unlink(binder);
	unlink(hw);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_and_version),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(startup_failures_exit_1),
		cmocka_unit_test(squatted_socket_directory_refused),
		cmocka_unit_test(socket_activation),
		cmocka_unit_test(several_contexts_and_clean_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
