/* SPDX-License-Identifier: MIT */
/*
 * ubinder-bench-idle: what an idle client process costs the daemon.
 *
 *   ubinder-bench-idle SOCKET DAEMON_PID COUNT [STEP]
 *
 * Forks COUNT client processes, STEP at a time (default 100); each opens a
 * libubinder context on SOCKET (a session, its thread, the mapped region)
 * and then waits, doing nothing, until the bench ends. After each step,
 * once the daemon is steady, prints "clients RSS_KIB FDS" for the daemon
 * (VmRSS and open descriptors from /proc). At the end, prints the daemon's
 * descriptors by kind ("fd KIND PER_CLIENT"), counted against the
 * baseline before the first client.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ubinder/ubinder.h>

#define MAX_KINDS 32

struct kinds {
	char name[MAX_KINDS][64];
	long count[MAX_KINDS];
	int n;
};

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* What a descriptor is, without the numbers that tell two apart. */
static void kind_of(const char *target, char *kind, size_t size)
{
	size_t n = 0;

	for (const char *p = target; *p && n + 1 < size; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == 0 || kind[n - 1] != '#')
				kind[n++] = '#';
			continue;
		}
		kind[n++] = *p;
	}
	kind[n] = '\0';
}

/* Counts the daemon's descriptors by kind into @k; returns the total. */
static long count_fds(pid_t pid, struct kinds *k)
{
	char dir[64], path[320], target[256], kind[64];
	struct dirent *e;
	long total = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	if (k)
		memset(k, 0, sizeof(*k));
	while ((e = readdir(d)) != NULL) {
		ssize_t n;
		int i;

		if (e->d_name[0] == '.')
			continue;
		total++;
		if (!k)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		kind_of(target, kind, sizeof(kind));
		for (i = 0; i < k->n && strcmp(k->name[i], kind) != 0; i++)
			;
		if (i == k->n && k->n < MAX_KINDS)
			snprintf(k->name[k->n++], sizeof(k->name[0]), "%s", kind);
		if (i < MAX_KINDS)
			k->count[i]++;
	}
	closedir(d);
	return total;
}

static long kind_count(const struct kinds *k, const char *name)
{
	for (int i = 0; i < k->n; i++)
		if (strcmp(k->name[i], name) == 0)
			return k->count[i];
	return 0;
}

/* One idle client: a context opened, then nothing until @stop_fd closes. */
static int client(const char *socket, int ready_fd, int stop_fd)
{
	ubinder_context *ctx;
	char byte = 1;
	int err = ubinder_context_open(socket, &ctx);

	if (err) {
		fprintf(stderr, "ubinder-bench-idle: client: %s\n", ubinder_strerror(err));
		return 1;
	}
	if (write(ready_fd, &byte, 1) != 1)
		return 1;
	while (read(stop_fd, &byte, 1) < 0 && errno == EINTR)
		;
	ubinder_context_close(ctx);
	return 0;
}

/* Samples until two readings 200 ms apart agree (the daemon is steady). */
static void steady(pid_t daemon, long *rss, long *fds)
{
	long r = rss_kib(daemon), f = count_fds(daemon, NULL);

	for (int i = 0; i < 25; i++) {
		usleep(200 * 1000);
		*rss = rss_kib(daemon);
		*fds = count_fds(daemon, NULL);
		if (*rss == r && *fds == f)
			return;
		r = *rss;
		f = *fds;
	}
}

int main(int argc, char **argv)
{
	int ready[2], stop[2];
	struct kinds before, after;
	long count, step, rss, fds;
	pid_t daemon, *pids;

	if (argc < 4 || argc > 5 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: ubinder-bench-idle SOCKET DAEMON_PID COUNT [STEP]\n");
		return argc == 2 ? 0 : 2;
	}
	daemon = (pid_t)atoi(argv[2]);
	count = atol(argv[3]);
	step = argc == 5 ? atol(argv[4]) : 100;
	pids = calloc((size_t)count, sizeof(*pids));
	if (!pids || count <= 0 || step <= 0 || pipe(ready) < 0 || pipe(stop) < 0)
		return 2;
	steady(daemon, &rss, &fds);
	count_fds(daemon, &before);
	printf("%d %ld %ld\n", 0, rss, fds);
	for (long started = 0; started < count;) {
		long batch = count - started < step ? count - started : step;

		for (long i = 0; i < batch; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				close(ready[0]);
				close(stop[1]);
				_exit(client(argv[1], ready[1], stop[0]));
			}
			if (pid < 0) {
				perror("fork");
				count = started;
				break;
			}
			pids[started++] = pid;
		}
		for (long i = 0; i < batch; i++) {
			char byte;

			if (read(ready[0], &byte, 1) != 1) {
				fprintf(stderr, "ubinder-bench-idle: a client failed\n");
				return 1;
			}
		}
		steady(daemon, &rss, &fds);
		printf("%ld %ld %ld\n", started, rss, fds);
		fflush(stdout);
	}
	count_fds(daemon, &after);
	for (int i = 0; i < after.n; i++) {
		long extra = after.count[i] - kind_count(&before, after.name[i]);

		if (extra)
			printf("fd %s %.2f\n", after.name[i], (double)extra / (double)count);
	}
	close(stop[1]);
	for (long i = 0; i < count; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return 0;
}
