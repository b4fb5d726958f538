/* SPDX-License-Identifier: MIT */
/*
 * Facts about the Binder ioctls every way into the daemon needs when it
 * reads a client's argument the way the kernel driver does
 * (kernel-facts.md 1): which requests the driver knows, which of them read
 * their argument, and the errno a bad argument pointer gives.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/android/binder.h>

/* The requests binder_ioctl serves besides BINDER_WRITE_READ (an X macro). */
#define BINDER_IOCTLS(X)                       \
	X(BINDER_SET_MAX_THREADS)              \
	X(BINDER_SET_CONTEXT_MGR)              \
	X(BINDER_THREAD_EXIT)                  \
	X(BINDER_VERSION)                      \
	X(BINDER_GET_NODE_DEBUG_INFO)          \
	X(BINDER_GET_NODE_INFO_FOR_REF)        \
	X(BINDER_SET_CONTEXT_MGR_EXT)          \
	X(BINDER_FREEZE)                       \
	X(BINDER_GET_FROZEN_INFO)              \
	X(BINDER_ENABLE_ONEWAY_SPAM_DETECTION) \
	X(BINDER_GET_EXTENDED_ERROR)

static inline bool binder_ioctl_known(uint32_t cmd)
{
	switch (cmd) {
#define BINDER_IOCTL_CASE(cmd) case cmd:
		BINDER_IOCTLS(BINDER_IOCTL_CASE)
#undef BINDER_IOCTL_CASE
		return true;
	default:
		return false;
	}
}

/* The @i-th of those requests, modulo their number: for tests and fuzzers that pick one. */
static inline uint32_t binder_ioctl_pick(unsigned int i)
{
	static const uint32_t all[] = {
#define BINDER_IOCTL_ENTRY(cmd) cmd,
		BINDER_IOCTLS(BINDER_IOCTL_ENTRY)
#undef BINDER_IOCTL_ENTRY
	};

	return all[i % (sizeof(all) / sizeof(all[0]))];
}

/* Whether the driver reads the ioctl's argument at all. */
static inline bool binder_ioctl_reads_arg(uint32_t cmd)
{
	return cmd != BINDER_SET_CONTEXT_MGR && cmd != BINDER_THREAD_EXIT &&
	       cmd != BINDER_VERSION && (_IOC_DIR(cmd) & _IOC_WRITE);
}

/* The errno a bad argument pointer gives: some are copied as EINVAL. */
static inline int binder_ioctl_fault_errno(uint32_t cmd)
{
	switch (cmd) {
	case BINDER_SET_MAX_THREADS:
	case BINDER_VERSION:
	case BINDER_SET_CONTEXT_MGR_EXT:
		return -EINVAL;
	default:
		return -EFAULT;
	}
}
