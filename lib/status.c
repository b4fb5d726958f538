/* SPDX-License-Identifier: MIT */
/* Status names and messages, statuses for transport errors, and the
 * library's optional diagnostics. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "status.h"

struct status_info {
	int code;
	const char *name;
	const char *text;
};

static const struct status_info statuses[] = {
	{ UBINDER_OK, "OK", "success" },
	{ UBINDER_ERR_UNKNOWN, "UNKNOWN", "unknown error" },
	{ UBINDER_ERR_NO_MEMORY, "NO_MEMORY", "out of memory" },
	{ UBINDER_ERR_INVALID_OPERATION, "INVALID_OPERATION",
	  "invalid operation for this object or state" },
	{ UBINDER_ERR_BAD_VALUE, "BAD_VALUE", "bad value" },
	{ UBINDER_ERR_BAD_TYPE, "BAD_TYPE", "parcel: not a value of the type asked for" },
	{ UBINDER_ERR_NAME_NOT_FOUND, "NAME_NOT_FOUND", "no such name" },
	{ UBINDER_ERR_PERMISSION_DENIED, "PERMISSION_DENIED", "permission denied" },
	{ UBINDER_ERR_NO_INIT, "NO_INIT", "not initialised" },
	{ UBINDER_ERR_ALREADY_EXISTS, "ALREADY_EXISTS", "already exists" },
	{ UBINDER_ERR_DEAD_OBJECT, "DEAD_OBJECT", "dead object: the remote process is gone" },
	{ UBINDER_ERR_FAILED_TRANSACTION, "FAILED_TRANSACTION",
	  "transaction failed: refused by the driver" },
	{ UBINDER_ERR_BAD_INDEX, "BAD_INDEX", "index or size out of range" },
	{ UBINDER_ERR_NOT_ENOUGH_DATA, "NOT_ENOUGH_DATA", "parcel: read past the end" },
	{ UBINDER_ERR_WOULD_BLOCK, "WOULD_BLOCK", "operation would block" },
	{ UBINDER_ERR_TIMED_OUT, "TIMED_OUT", "timed out" },
	{ UBINDER_ERR_UNKNOWN_TRANSACTION, "UNKNOWN_TRANSACTION",
	  "unknown transaction code for this object" },
	{ UBINDER_ERR_FDS_NOT_ALLOWED, "FDS_NOT_ALLOWED", "file descriptors not allowed" },
	{ UBINDER_ERR_UNEXPECTED_NULL, "UNEXPECTED_NULL", "unexpected null value" },
	{ UBINDER_ERR_NO_DAEMON, "NO_DAEMON", "no ubinderd listening on the socket" },
	{ UBINDER_ERR_DISCONNECTED, "DISCONNECTED", "connection to ubinderd lost" },
	{ UBINDER_ERR_CLOSED, "CLOSED", "the context is closed" },
	{ UBINDER_ERR_PROTOCOL, "PROTOCOL", "protocol error" },
	{ UBINDER_ERR_WRONG_CONTEXT, "WRONG_CONTEXT", "object belongs to another context" },
	{ UBINDER_ERR_BAD_PARCEL, "BAD_PARCEL", "parcel: malformed object table" },
};

static const struct status_info *find(int status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		if (statuses[i].code == status)
			return &statuses[i];
	}
	return NULL;
}

const char *ubinder_strerror(int status)
{
	const struct status_info *s = find(status);

	return s ? s->text : "unknown status";
}

const char *ubinder_status_name(int status)
{
	const struct status_info *s = find(status);

	return s ? s->name : "UNKNOWN_STATUS";
}

int status_from_errno(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
	case -ECONNREFUSED:
		return UBINDER_ERR_NO_DAEMON;
	case -EAGAIN:
		return UBINDER_ERR_WOULD_BLOCK;
	case -EBADF:
	case -ECONNRESET:
	case -EPIPE:
	case -ENOTCONN:
		return UBINDER_ERR_DISCONNECTED;
	case -ENOMEM:
	case -ENOBUFS:
		return UBINDER_ERR_NO_MEMORY;
	case -EACCES:
	case -EPERM:
		return UBINDER_ERR_PERMISSION_DENIED;
	case -ENAMETOOLONG:
		return UBINDER_ERR_BAD_VALUE;
	case -EMFILE:
	case -ENFILE:
		return UBINDER_ERR_NO_MEMORY;
	default:
		return UBINDER_ERR_PROTOCOL;
	}
}

void ub_log(const char *fmt, ...)
{
	static atomic_int enabled = -1;
	va_list ap;

	if (enabled < 0)
		enabled = getenv("UBINDER_DEBUG") != NULL;
	if (!enabled)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "libubinder: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
