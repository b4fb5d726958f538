/* SPDX-License-Identifier: MIT */
/*
 * Writing a read: BR_ codes and their payloads go into the driver's read
 * buffer (driver->read_buf) at *pos, never past @end; each written BR_ code
 * is counted in the process's and the driver's stats (read_put_u32 writes a
 * bare word and leaves counting to the caller).
 */
#pragma once

#include <errno.h>
#include <string.h>

#include "driver/entities.h"

static inline void read_count_br(struct thread *thread, uint32_t cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (nr < STATS_BR_COUNT) {
		thread->proc->stats.br[nr]++;
		thread->proc->driver->stats.br[nr]++;
	}
}

static inline int read_put_u32(struct thread *thread, size_t *pos, size_t end, uint32_t value)
{
	if (end - *pos < sizeof(value))
		return -EFAULT;
	memcpy(thread->proc->driver->read_buf + *pos, &value, sizeof(value));
	*pos += sizeof(value);
	return 0;
}

static inline int read_put_cmd(struct thread *thread, size_t *pos, size_t end, uint32_t cmd,
			       const void *arg, size_t size)
{
	if (end - *pos < sizeof(cmd) + size)
		return -EFAULT;
	read_put_u32(thread, pos, end, cmd);
	memcpy(thread->proc->driver->read_buf + *pos, arg, size);
	*pos += size;
	read_count_br(thread, cmd);
	return 0;
}
