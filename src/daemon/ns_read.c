/* SPDX-License-Identifier: MIT */
/*
 * Reading how a peer process sees pids and uids (driver.h: struct ns_view),
 * once, when it opens a device: its pid in every pid namespace from ours down
 * to its own (/proc/PID/status NSpid), the identity of those namespaces
 * (walking up with NS_GET_PARENT), and its user namespace's uid_map.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "common/log.h"
#include "daemon/ns_read.h"
#include "daemon/proc_info.h"

static int read_nspid(pid_t pid, pid_t *nspid, int max)
{
	char text[4096], *p;
	int n = 0;

	if (proc_info_read(pid, "status", text, sizeof(text)) <= 0)
		return -1;
	p = strstr(text, "\nNSpid:");
	if (!p)
		return -1;
	p += 7;
	while (n < max) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		nspid[n++] = (pid_t)v;
		p = end;
		if (*p == '\n')
			break;
	}
	return n;
}

/* Inodes of the pid namespaces from @pid's own up to (and including) ours. */
static int read_pidns_chain(pid_t pid, uint64_t *chain, int max)
{
	char path[64];
	int fd, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n < max) {
		struct stat st;
		int parent;

		if (fstat(fd, &st) < 0)
			break;
		chain[n++] = st.st_ino;
		/* EPERM once the parent is outside our own namespace: we reached ours. */
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static int read_uid_map(pid_t pid, struct uid_map_range *map, int max)
{
	char text[1024], *line, *save = NULL;
	int n = 0;

	if (proc_info_read(pid, "uid_map", text, sizeof(text)) <= 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long inside, outside, count;

		if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) != 3)
			continue;
		map[n].inside = (uint32_t)inside;
		map[n].outside = (uint32_t)outside;
		map[n].count = (uint32_t)count;
		n++;
	}
	/* The initial namespace maps everything to itself: no translation. */
	if (n == 1 && map[0].inside == 0 && map[0].outside == 0 && map[0].count == 4294967295u)
		return 0;
	return n;
}

void ns_view_read(pid_t pid, struct ns_view *v)
{
	uint64_t chain[NS_DEPTH_MAX];
	pid_t nspid[NS_DEPTH_MAX];
	int levels, depth;

	memset(v, 0, sizeof(*v));
	v->nuid_map = read_uid_map(pid, v->uid_map, UID_MAP_MAX);
	levels = read_nspid(pid, nspid, NS_DEPTH_MAX);
	if (levels <= 1)
		return; /* our own pid namespace (or no information): no translation */
	depth = read_pidns_chain(pid, chain, NS_DEPTH_MAX);
	if (depth != levels) {
		log_notice("pid %d: pid namespaces not understood (%d pids, %d levels)", pid,
			   levels, depth);
		return;
	}
	/* chain[] runs from the process's namespace up; NSpid from ours down. */
	for (int k = 0; k < levels; k++) {
		v->pidns[k] = chain[levels - 1 - k];
		v->nspid[k] = nspid[k];
	}
	v->levels = levels;
}
