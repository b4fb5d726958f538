/* SPDX-License-Identifier: MIT */
/*
 * A remote object's node counts, as the context manager may ask the driver
 * (BINDER_GET_NODE_INFO_FOR_REF): how a service manager learns whether a
 * service still has clients (HIDL's IClientCallback, tryUnregister).
 */
#include <errno.h>
#include <linux/android/binder.h>

#include "context.h"
#include "object.h"
#include "thread.h"
#include "ubinder/ubinder.h"

int ubinder_binder_get_node_counts(ubinder_binder *b, uint32_t *strong, uint32_t *weak)
{
	struct binder_node_info_for_ref info = { 0 };
	struct ubinder_thread *ts;
	int err;

	if (!b || b->local)
		return UBINDER_ERR_INVALID_OPERATION;
	if (atomic_load(&b->ctx->closed))
		return UBINDER_ERR_CLOSED;
	err = thread_get(b->ctx, &ts);
	if (err)
		return err;
	/* Our own counts on the handle, if still queued, go first. */
	err = thread_flush(ts);
	if (err)
		return err;
	info.handle = b->handle;
	err = ubt_ioctl(&ts->conn, &b->ctx->session, BINDER_GET_NODE_INFO_FOR_REF, &info);
	if (err == -EPERM)
		return UBINDER_ERR_PERMISSION_DENIED;
	if (err)
		return err == -EINVAL ? UBINDER_ERR_BAD_VALUE : UBINDER_ERR_DISCONNECTED;
	if (strong)
		*strong = info.strong_count;
	if (weak)
		*weak = info.weak_count;
	return 0;
}
