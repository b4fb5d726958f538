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

/* The requests binder_ioctl serves besides BINDER_WRITE_READ. */
static inline bool binder_ioctl_known(uint32_t cmd)
{
	switch (cmd) {
	case BINDER_SET_MAX_THREADS:
	case BINDER_SET_CONTEXT_MGR:
	case BINDER_THREAD_EXIT:
	case BINDER_VERSION:
	case BINDER_GET_NODE_DEBUG_INFO:
	case BINDER_GET_NODE_INFO_FOR_REF:
	case BINDER_SET_CONTEXT_MGR_EXT:
	case BINDER_FREEZE:
	case BINDER_GET_FROZEN_INFO:
	case BINDER_ENABLE_ONEWAY_SPAM_DETECTION:
	case BINDER_GET_EXTENDED_ERROR:
		return true;
	default:
		return false;
	}
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
