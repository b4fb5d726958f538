/* SPDX-License-Identifier: MIT */
/*
 * libubinder status codes.
 *
 * Every libubinder function that can fail returns an int: UBINDER_OK (0) or
 * one of the negative codes below. The values are those of Android's
 * status_t where Android has the same condition, so a status that travels in
 * a reply (see ubinder_binder_transact) means the same on both sides. A
 * service's handler may return any negative value; ubinder_strerror() and
 * ubinder_status_name() describe unknown ones as such.
 */
#pragma once

#include <errno.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ubinder_status {
	UBINDER_OK = 0,
	/* Android status_t values. */
	UBINDER_ERR_UNKNOWN = INT32_MIN,		/* unspecified failure */
	UBINDER_ERR_NO_MEMORY = -ENOMEM,		/* out of memory */
	UBINDER_ERR_INVALID_OPERATION = -ENOSYS,	/* not allowed on this object or now */
	UBINDER_ERR_BAD_VALUE = -EINVAL,		/* bad argument or malformed value */
	UBINDER_ERR_BAD_TYPE = INT32_MIN + 1,		/* parcel: not the type asked for */
	UBINDER_ERR_NAME_NOT_FOUND = -ENOENT,		/* no such service */
	UBINDER_ERR_PERMISSION_DENIED = -EPERM,		/* refused by the peer */
	UBINDER_ERR_NO_INIT = -ENODEV,			/* not initialised */
	UBINDER_ERR_ALREADY_EXISTS = -EEXIST,		/* already there */
	UBINDER_ERR_DEAD_OBJECT = -EPIPE,		/* the remote object's process died */
	UBINDER_ERR_FAILED_TRANSACTION = INT32_MIN + 2, /* the driver refused the transaction */
	UBINDER_ERR_BAD_INDEX = -EOVERFLOW,		/* position or size out of range */
	UBINDER_ERR_NOT_ENOUGH_DATA = -ENODATA,		/* parcel: read past the end */
	UBINDER_ERR_WOULD_BLOCK = -EWOULDBLOCK,		/* nothing to do without blocking */
	UBINDER_ERR_TIMED_OUT = -ETIMEDOUT,		/* the wait timed out */
	UBINDER_ERR_UNKNOWN_TRANSACTION = -EBADMSG,	/* the object does not know the code */
	UBINDER_ERR_FDS_NOT_ALLOWED = INT32_MIN + 7,	/* descriptors refused by the receiver */
	UBINDER_ERR_UNEXPECTED_NULL = INT32_MIN + 8,	/* a null where a value was required */
	/* ubinder's own conditions. */
	UBINDER_ERR_NO_DAEMON = -ECONNREFUSED,	 /* no ubinderd serves the socket */
	UBINDER_ERR_DISCONNECTED = -ECONNRESET,	 /* the connection to ubinderd was lost */
	UBINDER_ERR_CLOSED = -ESHUTDOWN,	 /* the context was closed */
	UBINDER_ERR_PROTOCOL = -EPROTO,		 /* ubinderd or the peer broke the protocol */
	UBINDER_ERR_WRONG_CONTEXT = -EXDEV,	 /* object of another context */
	UBINDER_ERR_BAD_PARCEL = INT32_MIN + 16, /* parcel: its object table is malformed */
};

/* A one-line English description of @status ("dead object: ..."); never NULL. */
const char *ubinder_strerror(int status);

/* The code's name without prefix ("DEAD_OBJECT"), or "UNKNOWN_STATUS"; never NULL. */
const char *ubinder_status_name(int status);

#ifdef __cplusplus
}
#endif
