/* SPDX-License-Identifier: MIT */
/*
 * The guarded copy: a fault inside the copy in progress becomes -EFAULT
 * (SIGSEGV of a protected page, SIGBUS of a page beyond a memfd's end), a
 * copy inside a fault's handler nests, and a fault that is not the copy's
 * is left to the handler's caller.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/guarded_copy.h"
#include "test-util.h"

static volatile sig_atomic_t not_ours;
static volatile sig_atomic_t nest_once;
static char *nested_src;
static int nested_result = 1;

static void on_fault(int sig, siginfo_t *info, void *context)
{
	(void)context;
	if (nest_once) {
		char buf[8];

		/* A copy inside the handler of another copy's fault. */
		nest_once = 0;
		nested_result = guarded_memcpy(buf, nested_src, sizeof(buf));
	}
	guarded_copy_recover(sig, info);
	/* Not a copy's fault: resume after making the page readable. */
	not_ours++;
	mprotect((void *)((uintptr_t)info->si_addr & ~(uintptr_t)4095), 4096,
		 PROT_READ | PROT_WRITE);
}

static void handle_with(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

/* Two pages: the first readable and writable, the second inaccessible. */
static char *two_pages(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + 4096, 4096, PROT_NONE), 0);
	memset(p, 'a', 4096);
	return p;
}

static void segv_is_efault(void **state)
{
	char *p = two_pages(), dst[64];

	(void)state;
	handle_with(SIGSEGV, on_fault);
	assert_int_equal(guarded_memcpy(dst, p + 4096 - 32, 64), -EFAULT);
	assert_int_equal(guarded_memcpy(p + 4096 - 8, dst, 16), -EFAULT);
	assert_int_equal(guarded_memcpy(dst, p, 64), 0);
	assert_int_equal(guarded_memcpy(dst, (void *)8, 1), -EFAULT);
	assert_int_equal(not_ours, 0);
	/* A fault outside any copy is the handler's. */
	(void)*(volatile char *)(p + 4096);
	assert_int_equal(not_ours, 1);
	munmap(p, 8192);
}

static void sigbus_is_efault(void **state)
{
	int fd = memfd_create("guarded-copy-test", MFD_CLOEXEC);
	char *m, dst[16];

	(void)state;
	handle_with(SIGBUS, on_fault);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(ftruncate(fd, 4096), 0); /* the second page is gone */
	assert_int_equal(guarded_memcpy(dst, m, sizeof(dst)), 0);
	assert_int_equal(guarded_memcpy(dst, m + 4096, sizeof(dst)), -EFAULT);
	assert_int_equal(not_ours, 0);
	munmap(m, 8192);
	close(fd);
}

static void copies_nest(void **state)
{
	char *p = two_pages(), dst[16];

	(void)state;
	handle_with(SIGSEGV, on_fault);
	/* Each ends on its own: the inner one gives the outer one back. */
	nested_src = p + 4096 + 100;
	nest_once = 1;
	assert_int_equal(guarded_memcpy(dst, p + 4096, sizeof(dst)), -EFAULT);
	assert_int_equal(nested_result, -EFAULT);
	assert_int_equal(not_ours, 0);
	munmap(p, 8192);
}

static int reset(void **state)
{
	(void)state;
	not_ours = 0;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(segv_is_efault, reset),
		cmocka_unit_test_setup(sigbus_is_efault, reset),
		cmocka_unit_test_setup(copies_nest, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
