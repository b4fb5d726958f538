/* SPDX-License-Identifier: MIT */
/*
 * The region layer against real memfds and a real second process: sealing and
 * read-only sharing, installing and releasing pages, measured residency, fault
 * injection, and every misuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "region/huge_probe.h"
#include "region/page.h"
#include "region/region.h"

#define UNPRIVILEGED_UID 65534 /* nobody */

static void bad_sizes_are_refused(void **state)
{
	struct region r;

	(void)state;
	assert_int_equal(region_init(&r, 0, "t"), -EINVAL);
	assert_int_equal(r.memfd, -1);
	assert_int_equal(region_init(&r, PAGE_SIZE + 8, "t"), -EINVAL);
	assert_int_equal(region_init(&r, 12, "t"), -EINVAL);
	assert_int_equal(region_init(&r, REGION_SIZE_MAX + PAGE_SIZE, "t"), -EINVAL);
	region_deinit(&r); /* harmless on a failed init */
}

static void sizes_from_one_page_to_one_gib(void **state)
{
	size_t sizes[] = { PAGE_SIZE, 2 * PAGE_SIZE, 4 << 20, (size_t)1 << 30 };
	struct region r;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t resident = 99;

		assert_int_equal(region_init(&r, sizes[i], "t"), 0);
		assert_int_equal(region_pages(&r), sizes[i] / PAGE_SIZE);
		/* A new region is all holes: lazily installed pages. */
		assert_int_equal(region_resident_pages(&r, &resident), 0);
		assert_int_equal(resident, 0);
		region_deinit(&r);
		assert_int_equal(r.memfd, -1);
	}
}

static void region_is_sealed_and_mode_0400(void **state)
{
	struct region r;
	struct stat st;
	int seals;

	(void)state;
	assert_int_equal(region_init(&r, 4 * PAGE_SIZE, "t"), 0);
	seals = fcntl(r.memfd, F_GET_SEALS);
	assert_int_equal(seals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_int_equal(fstat(r.memfd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	/* Even the owner cannot resize it. */
	assert_int_equal(ftruncate(r.memfd, 8 * PAGE_SIZE), -1);
	assert_int_equal(errno, EPERM);
	region_deinit(&r);
}

static void install_then_release_changes_residency(void **state)
{
	struct region r;
	size_t installed, resident;
	bool is_resident;

	(void)state;
	assert_int_equal(region_init(&r, 16 * PAGE_SIZE, "t"), 0);
	assert_int_equal(region_install(&r, 2, 3, &installed), 0);
	assert_int_equal(installed, 3);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 3);
	for (size_t p = 0; p < 16; p++) {
		assert_int_equal(region_page_is_resident(&r, p, &is_resident), 0);
		assert_int_equal(is_resident, p >= 2 && p < 5);
	}

	/* Installing resident pages again is fine and allocates nothing new. */
	assert_int_equal(region_install(&r, 2, 3, &installed), 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 3);

	assert_int_equal(region_release(&r, 3, 1), 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 2);
	assert_int_equal(region_page_is_resident(&r, 3, &is_resident), 0);
	assert_false(is_resident);

	/* Double release is idempotent. */
	assert_int_equal(region_release(&r, 3, 1), 0);
	assert_int_equal(region_release(&r, 0, 16), 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 0);
	region_deinit(&r);
}

static void release_removes_pages_from_client_mappings(void **state)
{
	struct region r;
	size_t installed, resident;
	const uint8_t *client;
	int fd;

	(void)state;
	assert_int_equal(region_init(&r, 4 * PAGE_SIZE, "t"), 0);
	fd = region_share_readonly(&r);
	assert_true(fd >= 0);
	client = mmap(NULL, r.size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(client != MAP_FAILED);

	assert_int_equal(region_install(&r, 1, 1, &installed), 0);
	memset(r.base + PAGE_SIZE, 0xab, PAGE_SIZE);
	assert_int_equal(client[PAGE_SIZE + 17], 0xab); /* the client sees the owner's write */

	assert_int_equal(region_release(&r, 1, 1), 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 0);

	/*
	 * The client reading a hole makes shmem allocate a zero page (the kernel
	 * driver would SIGBUS). It reads zeros, and the accounting sees the page.
	 */
	assert_int_equal(client[PAGE_SIZE + 17], 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 1);
	assert_int_equal(region_release(&r, 0, 4), 0);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 0);

	munmap((void *)client, r.size);
	close(fd);
	region_deinit(&r);
}

static void clear_zeroes_a_range(void **state)
{
	struct region r;
	size_t installed;

	(void)state;
	assert_int_equal(region_init(&r, 2 * PAGE_SIZE, "t"), 0);
	assert_int_equal(region_install(&r, 0, 2, &installed), 0);
	memset(r.base, 0x5a, r.size);
	assert_int_equal(region_clear(&r, 100, PAGE_SIZE), 0);
	assert_int_equal(r.base[99], 0x5a);
	assert_int_equal(r.base[100], 0);
	assert_int_equal(r.base[100 + PAGE_SIZE - 1], 0);
	assert_int_equal(r.base[100 + PAGE_SIZE], 0x5a);
	assert_int_equal(region_clear(&r, 0, 0), 0);
	assert_int_equal(region_clear(&r, r.size, 1), -ERANGE);
	assert_int_equal(region_clear(&r, 1, r.size), -ERANGE);
	assert_int_equal(region_clear(&r, SIZE_MAX, 2), -ERANGE);
	region_deinit(&r);
}

static void misuse_is_refused(void **state)
{
	struct region r;
	size_t installed = 7;
	bool resident;

	(void)state;
	assert_int_equal(region_init(&r, 8 * PAGE_SIZE, "t"), 0);
	assert_int_equal(region_install(&r, 0, 0, &installed), -EINVAL);
	assert_int_equal(installed, 0);
	assert_int_equal(region_install(&r, 8, 1, &installed), -ERANGE);
	assert_int_equal(region_install(&r, 7, 2, &installed), -ERANGE);
	assert_int_equal(region_install(&r, 1, SIZE_MAX, &installed), -ERANGE);
	assert_int_equal(region_release(&r, 0, 0), -EINVAL);
	assert_int_equal(region_release(&r, 5, 4), -ERANGE);
	assert_int_equal(region_release(&r, SIZE_MAX, 1), -ERANGE);
	assert_int_equal(region_page_is_resident(&r, 8, &resident), -ERANGE);
	region_deinit(&r);
	assert_int_equal(region_share_readonly(&r), -EBADF);
}

static void injected_install_fault_reports_partial_progress(void **state)
{
	struct region r;
	size_t installed, resident;

	(void)state;
	assert_int_equal(region_init(&r, 16 * PAGE_SIZE, "t"), 0);

	region_inject_install_faults(2, 1, 3, ENOMEM);
	assert_int_equal(region_install(&r, 0, 1, &installed), 0); /* first call passes */
	assert_int_equal(region_install(&r, 4, 8, &installed), -ENOMEM);
	assert_int_equal(installed, 3);
	assert_int_equal(region_resident_pages(&r, &resident), 0);
	assert_int_equal(resident, 4);
	/* The fault fires once; the next install succeeds. */
	assert_int_equal(region_install(&r, 4, 8, &installed), 0);
	assert_int_equal(installed, 8);

	region_inject_install_fault(1, 0, EHWPOISON);
	assert_int_equal(region_install(&r, 12, 2, &installed), -EHWPOISON);
	assert_int_equal(installed, 0);
	region_inject_install_fault(0, 0, 0);
	region_deinit(&r);
}

/* --- a client of another uid ------------------------------------------------ */

struct foreign_client {
	int sock;
	size_t size;
};

/* Exit codes name the first expectation that failed. */
static int foreign_client_main(void *arg)
{
	struct foreign_client *c = arg;
	char path[64];
	uint8_t *map, *priv;
	int fd;

	if (setgid(UNPRIVILEGED_UID) < 0 || setuid(UNPRIVILEGED_UID) < 0)
		return 2;
	fd = test_recv_fd(c->sock);
	if (fd < 0)
		return 3;

	/* No writable shared mapping. */
	if (mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED ||
	    errno != EACCES)
		return 10;
	map = mmap(NULL, c->size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 11;
	if (mprotect(map, c->size, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		return 12;
	/* No reopening read-write, and not even read-only: mode 0400, owner root. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (open(path, O_RDWR) >= 0 || errno != EACCES)
		return 13;
	/* No resizing, writing, punching, reseal or chmod. */
	if (ftruncate(fd, 0) == 0 || errno != EINVAL)
		return 14;
	if (pwrite(fd, "x", 1, 0) >= 0 || errno != EBADF)
		return 15;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0 ||
	    errno != EBADF)
		return 16;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 || errno != EPERM)
		return 17;
	if (fchmod(fd, 0600) == 0 || errno != EPERM)
		return 18;
	/*
	 * A private writable mapping succeeds (copy-on-write, invisible to
	 * others): the kernel driver refuses it, so the /dev/binder emulation
	 * must refuse it itself.
	 */
	priv = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED)
		return 19;
	priv[0] = 0x77;

	/* It sees what the owner wrote. */
	if (map[0] != 0x42 || map[c->size - 1] != 0x43)
		return 20;
	if (write(c->sock, "k", 1) != 1)
		return 21;
	return 0;
}

/*
 * Regions of 2 MiB and 64 KiB pages: the owner's mapping is aligned to a
 * page, installs and releases cover whole pages of the region's size
 * whatever pages the kernel gives (base pages where its policy says never),
 * and a region of huge pages refuses sizes that are not whole pages. The
 * probe reports a page size the kernel really gives.
 */
static void huge_page_regions_work_in_whole_pages(void **state)
{
	struct page_geometry geos[] = { { 21 }, { 16 } };
	size_t probed = 0;
	char policy[160];

	(void)state;
	for (size_t g = 0; g < 2; g++) {
		size_t page = geo_page_size(geos[g]), installed = 0, bytes = 1;
		struct region r;
		bool resident;

		assert_int_equal(region_init_pages(&r, 4 << 20, geos[g], "t"), 0);
		assert_int_equal(region_pages(&r), (4 << 20) / page);
		assert_int_equal((uintptr_t)r.base % page, 0);
		assert_int_equal(region_resident_bytes(&r, &bytes), 0);
		assert_int_equal(bytes, 0);
		assert_int_equal(region_install(&r, 1, 1, &installed), 0);
		assert_int_equal(installed, 1);
		assert_int_equal(region_resident_bytes(&r, &bytes), 0);
		assert_int_equal(bytes, page);
		assert_int_equal(region_page_is_resident(&r, 0, &resident), 0);
		assert_false(resident);
		assert_int_equal(region_page_is_resident(&r, 1, &resident), 0);
		assert_true(resident);
		r.base[page + page - 1] = 7; /* the whole page is there */
		assert_int_equal(region_release(&r, 1, 1), 0);
		assert_int_equal(region_resident_bytes(&r, &bytes), 0);
		assert_int_equal(bytes, 0);
		region_deinit(&r);
		assert_int_equal(region_init_pages(&r, (4 << 20) + PAGE_SIZE, geos[g], "t"),
				 -EINVAL);
	}
	assert_int_equal(region_init_pages(&(struct region){ 0 }, 4 << 20,
					   (struct page_geometry){ 11 }, "t"),
			 -EINVAL);
	assert_int_equal(region_probe_huge_pages(&probed), 0);
	region_huge_policy(2 << 20, policy, sizeof(policy));
	printf("# the kernel gives shmem %zu KiB pages (%s)\n", probed >> 10, policy);
	assert_true(probed == PAGE_SIZE || probed == (64 << 10) || probed == (2 << 20) ||
		    (probed > PAGE_SIZE && (probed & (probed - 1)) == 0));
}

static void foreign_uid_can_only_read(void **state)
{
	struct foreign_client c;
	struct region r;
	size_t installed;
	int sv[2], ro;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to become another uid; CI runs as root */
	assert_int_equal(region_init(&r, 4 * PAGE_SIZE, "t"), 0);
	assert_int_equal(region_install(&r, 0, 4, &installed), 0);
	r.base[0] = 0x42;
	r.base[r.size - 1] = 0x43;
	ro = region_share_readonly(&r);
	assert_true(ro >= 0);
	assert_int_equal(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	c.sock = sv[1];
	c.size = r.size;
	assert_int_equal(test_send_fd(sv[0], ro), 0);
	assert_int_equal(test_run_child(foreign_client_main, &c, 10000), 0);
	/* The child's private copy-on-write page changed nothing here. */
	assert_int_equal(r.base[0], 0x42);

	close(sv[0]);
	close(sv[1]);
	close(ro);
	region_deinit(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_sizes_are_refused),
		cmocka_unit_test(sizes_from_one_page_to_one_gib),
		cmocka_unit_test(region_is_sealed_and_mode_0400),
		cmocka_unit_test(install_then_release_changes_residency),
		cmocka_unit_test(release_removes_pages_from_client_mappings),
		cmocka_unit_test(clear_zeroes_a_range),
		cmocka_unit_test(misuse_is_refused),
		cmocka_unit_test(injected_install_fault_reports_partial_progress),
		cmocka_unit_test(huge_page_regions_work_in_whole_pages),
		cmocka_unit_test(foreign_uid_can_only_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
