/* SPDX-License-Identifier: MIT */
/*
 * The HIDL service manager client (ubinder/hidl.h): add, get and list on
 * android.hidl.manager@1.0::IServiceManager, the object at handle 0 of a
 * hwbinder context (hwsm_protocol.h).
 */
#include <stdlib.h>
#include <string.h>

#include "managers/hwsm_protocol.h"
#include "ubinder/ubinder.h"

/* A 1.0 call: the token, then @a and @b as strings if given, then @binder if @with_binder. */
static int sm_call(ubinder_context *ctx, uint32_t code, const char *a, const char *b,
		   bool with_binder, ubinder_binder *binder, ubinder_parcel **reply)
{
	ubinder_binder *sm = NULL;
	ubinder_parcel *data = ubinder_parcel_new();
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	*reply = NULL;
	if (!err)
		err = ubinder_hidl_write_interface_token(data, HWSM_DESCRIPTOR_1_0);
	if (!err && a)
		err = ubinder_hidl_write_string(data, a);
	if (!err && b)
		err = ubinder_hidl_write_string(data, b);
	if (!err && with_binder)
		err = ubinder_hidl_write_binder(data, binder);
	if (!err)
		err = ubinder_sm_get(ctx, &sm);
	if (!err)
		err = ubinder_binder_transact(sm, code, data, 0, reply);
	if (!err)
		err = ubinder_hidl_read_status(*reply, NULL);
	if (err) {
		ubinder_parcel_free(*reply);
		*reply = NULL;
	}
	ubinder_binder_unref(sm);
	ubinder_parcel_free(data);
	return err;
}

int ubinder_hidl_sm_add(ubinder_context *ctx, const char *name, ubinder_binder *service)
{
	ubinder_parcel *reply;
	bool ok = false;
	int err;

	if (!name || !service)
		return UBINDER_ERR_BAD_VALUE;
	err = sm_call(ctx, HWSM_ADD, name, NULL, true, service, &reply);
	if (!err)
		err = ubinder_parcel_read_bool(reply, &ok);
	ubinder_parcel_free(reply);
	return err ? err : ok ? 0 : UBINDER_ERR_PERMISSION_DENIED;
}

int ubinder_hidl_sm_get(ubinder_context *ctx, const char *fqname, const char *name,
			ubinder_binder **out)
{
	ubinder_parcel *reply;
	int err;

	*out = NULL;
	if (!fqname || !name)
		return UBINDER_ERR_BAD_VALUE;
	err = sm_call(ctx, HWSM_GET, fqname, name, false, NULL, &reply);
	if (!err)
		err = ubinder_hidl_read_binder(reply, out);
	if (!err && !*out)
		err = UBINDER_ERR_NAME_NOT_FOUND;
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_sm_list(ubinder_context *ctx, char ***names, size_t *count)
{
	ubinder_parcel *reply;
	int err = sm_call(ctx, HWSM_LIST, NULL, NULL, false, NULL, &reply);

	if (!err)
		err = ubinder_hidl_read_string_vec(reply, names, count);
	ubinder_parcel_free(reply);
	return err;
}
