/* SPDX-License-Identifier: MIT */
/*
 * The daemon's memory cgroup: where it is, and how much more memory it can
 * be charged before its limit.
 *
 * Region pages are shmem charged to the daemon's cgroup, and without swap
 * the kernel cannot reclaim them: a cgroup at its limit whose daemon
 * installs more pages ends in the OOM killer, and the daemon, which maps
 * every region, is its likeliest victim. So before installing fresh pages
 * the daemon asks for its headroom: the limit, less what is charged, plus
 * the file cache the kernel can drop at once (not mapped, not dirty). The
 * reading is of the daemon's own cgroup only (a tighter ancestor is not
 * seen) and races with the other processes of the cgroup: it keeps the
 * daemon from pushing its cgroup over, it does not reserve memory.
 *
 * Both hierarchies: cgroup v1 (the memory controller's mount) and v2 (the
 * unified mount, where the memory controller is enabled for the cgroup).
 * The v2 directory also gives the cgroup's own PSI file, with or without
 * the memory controller.
 *
 * Owns: the descriptors of the limit and usage files.
 * May call: the system.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct memcg {
	char v1_dir[256]; /* the v1 memory cgroup's directory; "" when none or the root */
	char v2_dir[256]; /* the v2 cgroup's directory; "" when none or the root */
	int version;	  /* whose limit is read: 1, 2, or 0 when neither has memory files */
	int limit_fd;	  /* memory.limit_in_bytes or memory.max; -1 */
	int usage_fd;	  /* memory.usage_in_bytes or memory.current; -1 */
	int stat_fd;	  /* memory.stat; -1 */
};

/* Finds the cgroups from /proc/self/cgroup and /proc/self/mountinfo. Never
 * fails: what cannot be found stays empty. */
void memcg_init(struct memcg *m);
void memcg_deinit(struct memcg *m);

/*
 * This process's cgroup directory in the v1 memory hierarchy, or (@v2) the
 * unified one; the mount point itself for the root cgroup. Returns 1 below
 * the root, 0 at the root, -1 when not mounted or not found ("").
 */
int memcg_find_dir(bool v2, char *dir, size_t size);

/*
 * Bytes that may still be charged to the cgroup before its limit, keeping a
 * margin of 1/32 of the limit for the kernel's own allocations; SIZE_MAX
 * when there is no limit (or it cannot be read). The file cache is read
 * (memory.stat, the slow part) only when the free part is below @wanted.
 */
size_t memcg_headroom(struct memcg *m, size_t wanted);
