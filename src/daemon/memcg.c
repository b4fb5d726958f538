/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/memcg.h"

/* Limits at or above this mean none (v1 writes PAGE_COUNTER_MAX pages). */
#define NO_LIMIT ((uint64_t)1 << 60)

/* Whether the comma-separated @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/*
 * The mount of a cgroup hierarchy (@fstype "cgroup" with the controller
 * @option in its super options, or "cgroup2"): its root inside the hierarchy
 * and its mount point.
 */
static bool find_mount(const char *fstype, const char *option, char *root, char *point, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char r[512], mp[512], type[64], super[512];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", r, mp) != 2 ||
		    sscanf(dash, " - %63s %*s %511s", type, super) != 2)
			continue;
		/* Escaped names (\040 for a space) are not ours to decode: skip them. */
		if (strcmp(type, fstype) != 0 || (option && !has_word(super, option)) ||
		    strchr(r, '\\') || strchr(mp, '\\') || strlen(r) >= size || strlen(mp) >= size)
			continue;
		snprintf(root, size, "%s", r);
		snprintf(point, size, "%s", mp);
		found = true;
	}
	fclose(f);
	return found;
}

int memcg_find_dir(bool v2, char *dir, size_t size)
{
	char line[1024], root[512], point[512];
	const char *path = NULL;
	FILE *f;

	dir[0] = '\0';
	if (!find_mount(v2 ? "cgroup2" : "cgroup", v2 ? NULL : "memory", root, point, sizeof(root)))
		return -1;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	while (!path && fgets(line, sizeof(line), f)) {
		/* "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
		char *controllers = strchr(line, ':');
		char *p = controllers ? strchr(controllers + 1, ':') : NULL;

		if (!p)
			continue;
		*controllers++ = '\0';
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		if (v2 ? strcmp(line, "0") == 0 && controllers[0] == '\0'
		       : has_word(controllers, "memory"))
			path = p;
	}
	fclose(f);
	if (!path)
		return -1;
	/* A mount of a subtree shows the paths below its root. */
	if (strcmp(root, "/") != 0) {
		size_t n = strlen(root);

		if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
			return -1;
		path += n;
	}
	if (strcmp(path, "/") == 0)
		path = "";
	if ((size_t)snprintf(dir, size, "%s%s", point, path) >= size) {
		dir[0] = '\0';
		return -1;
	}
	return path[0] != '\0';
}

/* The directory below the root, else "". */
static void find_dir(bool v2, char *dir, size_t size)
{
	if (memcg_find_dir(v2, dir, size) != 1)
		dir[0] = '\0';
}

static int open_in(const char *dir, const char *name)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

void memcg_init(struct memcg *m)
{
	memset(m, 0, sizeof(*m));
	m->limit_fd = m->usage_fd = m->stat_fd = -1;
	find_dir(false, m->v1_dir, sizeof(m->v1_dir));
	find_dir(true, m->v2_dir, sizeof(m->v2_dir));
	if (m->v1_dir[0]) {
		m->limit_fd = open_in(m->v1_dir, "memory.limit_in_bytes");
		m->usage_fd = open_in(m->v1_dir, "memory.usage_in_bytes");
		m->stat_fd = open_in(m->v1_dir, "memory.stat");
		m->version = 1;
	} else if (m->v2_dir[0]) {
		m->limit_fd = open_in(m->v2_dir, "memory.max");
		m->usage_fd = open_in(m->v2_dir, "memory.current");
		m->stat_fd = open_in(m->v2_dir, "memory.stat");
		m->version = 2;
	}
	if (m->limit_fd < 0 || m->usage_fd < 0 || m->stat_fd < 0) {
		memcg_deinit(m);
		m->version = 0;
	}
}

void memcg_deinit(struct memcg *m)
{
	int *fds[] = { &m->limit_fd, &m->usage_fd, &m->stat_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* A number file ("max" is UINT64_MAX); false when unreadable. */
static bool read_number(int fd, uint64_t *v)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return false;
	text[n] = '\0';
	if (strncmp(text, "max", 3) == 0) {
		*v = UINT64_MAX;
		return true;
	}
	return sscanf(text, "%" SCNu64, v) == 1;
}

/* The value of @key in memory.stat's text, 0 when absent. */
static uint64_t stat_value(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

/* File cache the kernel can drop without writing or unmapping anything. */
static uint64_t clean_file_cache(const struct memcg *m)
{
	static const char *const keys[2][4] = {
		{ "total_inactive_file", "total_active_file", "total_mapped_file", "total_dirty" },
		{ "inactive_file", "active_file", "file_mapped", "file_dirty" },
	};
	const char *const *k = keys[m->version - 1];
	static char text[16384];
	ssize_t n = pread(m->stat_fd, text, sizeof(text) - 1, 0);
	uint64_t file, busy;

	if (n <= 0)
		return 0;
	text[n] = '\0';
	file = stat_value(text, k[0]) + stat_value(text, k[1]);
	busy = stat_value(text, k[2]) + stat_value(text, k[3]);
	return file > busy ? file - busy : 0;
}

size_t memcg_headroom(struct memcg *m, size_t wanted)
{
	uint64_t limit, usage, margin, room;

	if (!m->version || !read_number(m->limit_fd, &limit) || limit >= NO_LIMIT ||
	    !read_number(m->usage_fd, &usage))
		return SIZE_MAX;
	margin = limit / 32;
	room = limit > usage ? limit - usage : 0;
	if (room < margin + wanted)
		room += clean_file_cache(m);
	room = room > margin ? room - margin : 0;
	return room > SIZE_MAX ? SIZE_MAX : (size_t)room;
}
