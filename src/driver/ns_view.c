/* SPDX-License-Identifier: MIT */
/* Identity translation between pid and user namespaces (driver.h: struct ns_view). */
#include "driver/driver.h"

#define OVERFLOW_UID 65534

pid_t ns_view_pid(const struct ns_view *sender, pid_t pid, const struct ns_view *reader)
{
	uint64_t reader_ns;

	if (reader->levels == 0)
		return pid; /* the reader lives in the daemon's namespace: pids as we see them */
	if (sender->levels == 0) {
		/* The sender is in the daemon's namespace: visible only to readers there too. */
		return reader->levels == 1 ? pid : 0;
	}
	reader_ns = reader->pidns[reader->levels - 1];
	for (int k = 0; k < sender->levels; k++) {
		if (sender->pidns[k] == reader_ns)
			return sender->nspid[k];
	}
	return 0;
}

uid_t ns_view_uid(const struct ns_view *reader, uid_t uid)
{
	if (reader->nuid_map == 0)
		return uid;
	for (int i = 0; i < reader->nuid_map; i++) {
		const struct uid_map_range *r = &reader->uid_map[i];

		if (uid >= r->outside && uid - r->outside < r->count)
			return r->inside + (uid - r->outside);
	}
	return OVERFLOW_UID;
}
