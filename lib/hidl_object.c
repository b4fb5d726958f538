/* SPDX-License-Identifier: MIT */
/*
 * HIDL objects: local objects that answer android.hidl.base@1.0::IBase as
 * hidl-gen's stubs do, and IBase calls on any HIDL object (ubinder/hidl.h).
 *
 * A HIDL object is an ordinary local object whose handler is hidl_dispatch:
 * IBase's reserved codes are answered here, every other code goes to the
 * interface's handler. Facts: IBase.hal and the generated stubs of libhidl
 * (codes, reply layouts: DebugInfo is 24 bytes, pid at 0, ptr at 8, arch at
 * 16; hashes are vec<uint8_t[32]>), docs/api.md.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubinder/ubinder.h"

/* SHA-256 of IBase.hal, as hidl-gen records it (libhidl's current.txt). */
static const uint8_t ibase_hash[32] = {
	0xec, 0x7f, 0xd7, 0x9e, 0xd0, 0x2d, 0xfa, 0x85, 0xbc, 0x49, 0x94,
	0x26, 0xad, 0xae, 0x3e, 0xbe, 0x23, 0xef, 0x05, 0x24, 0xf3, 0xcd,
	0x69, 0x57, 0x13, 0x93, 0x24, 0xb8, 0x3b, 0x18, 0xca, 0x4c,
};

struct hidl_object {
	char **chain; /* NULL-terminated, IBase last */
	size_t nchain;
	uint8_t (*hashes)[32]; /* nchain of them */
	ubinder_handler_fn handler;
	void (*debug)(ubinder_binder *self, const struct ubinder_hidl_debug_args *args,
		      void *userdata);
	void *userdata;
	void (*destroy)(void *userdata);
};

/* DebugInfo as it travels: int32 pid, pad, uint64 ptr, int32 arch, pad. */
struct debug_info_wire {
	int32_t pid;
	uint32_t pad0;
	uint64_t ptr;
	int32_t arch;
	uint32_t pad1;
};
_Static_assert(sizeof(struct debug_info_wire) == 24, "DebugInfo");

static void hidl_object_free(struct hidl_object *o)
{
	ubinder_hidl_free_strings(o->chain);
	free(o->hashes);
	free(o);
}

static void hidl_object_destroy(void *userdata)
{
	struct hidl_object *o = userdata;

	if (o->destroy)
		o->destroy(o->userdata);
	hidl_object_free(o);
}

static int answer_debug(ubinder_binder *self, struct hidl_object *o, ubinder_parcel *data)
{
	struct ubinder_hidl_debug_args args = { .fd = -1 };
	struct ubinder_hidl_native_handle h;
	int err = ubinder_hidl_read_native_handle(data, &h);

	if (!err)
		err = ubinder_hidl_read_string_vec(data, &args.options, &args.noptions);
	if (err)
		return err;
	if (!h.null && h.nfds > 0)
		args.fd = h.fds[0];
	if (o->debug)
		o->debug(self, &args, o->userdata);
	ubinder_hidl_free_strings(args.options);
	return 0;
}

/* IBase's methods; @reply is NULL for a oneway call. */
static int answer_base(ubinder_binder *self, struct hidl_object *o, uint32_t code,
		       ubinder_parcel *data, ubinder_parcel *reply)
{
	struct debug_info_wire info = {
		.pid = getpid(),
		.arch = sizeof(void *) == 8 ? UBINDER_HIDL_ARCH_64BIT : UBINDER_HIDL_ARCH_32BIT,
	};
	int err = ubinder_hidl_enforce_interface(data, UBINDER_HIDL_BASE_DESCRIPTOR);

	if (err)
		return err;
	if (code == UBINDER_HIDL_DEBUG_TRANSACTION) {
		err = answer_debug(self, o, data);
		if (err)
			return err;
	}
	/* notifySyspropsChanged and setHALInstrumentation: oneway, nothing to do here. */
	if (!reply || code == UBINDER_HIDL_SYSPROPS_CHANGED_TRANSACTION ||
	    code == UBINDER_HIDL_SET_HAL_INSTRUMENTATION_TRANSACTION)
		return 0;
	err = ubinder_hidl_write_status(reply, 0, NULL);
	if (err)
		return err;
	switch (code) {
	case UBINDER_HIDL_DESCRIPTOR_CHAIN_TRANSACTION:
		return ubinder_hidl_write_string_vec(reply, (const char *const *)o->chain,
						     o->nchain);
	case UBINDER_HIDL_GET_DESCRIPTOR_TRANSACTION:
		return ubinder_hidl_write_string(reply, o->chain[0]);
	case UBINDER_HIDL_GET_REF_INFO_TRANSACTION:
		return ubinder_parcel_write_buffer(reply, &info, sizeof(info), NULL);
	case UBINDER_HIDL_HASH_CHAIN_TRANSACTION:
		return ubinder_hidl_write_vec(reply, o->hashes, o->nchain, sizeof(o->hashes[0]),
					      NULL);
	default: /* ping, debug */
		return 0;
	}
}

static int hidl_dispatch(ubinder_binder *self, const struct ubinder_call *call,
			 ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct hidl_object *o = userdata;

	switch (call->code) {
	case UBINDER_HIDL_PING_TRANSACTION:
	case UBINDER_HIDL_DESCRIPTOR_CHAIN_TRANSACTION:
	case UBINDER_HIDL_GET_DESCRIPTOR_TRANSACTION:
	case UBINDER_HIDL_SYSPROPS_CHANGED_TRANSACTION:
	case UBINDER_HIDL_SET_HAL_INSTRUMENTATION_TRANSACTION:
	case UBINDER_HIDL_GET_REF_INFO_TRANSACTION:
	case UBINDER_HIDL_DEBUG_TRANSACTION:
	case UBINDER_HIDL_HASH_CHAIN_TRANSACTION:
		return answer_base(self, o, call->code, data, reply);
	default:
		/* linkToDeath/unlinkToDeath never travel; the rest of the range is unused. */
		if ((call->code >> 24) == 0x0f || !o->handler)
			return UBINDER_ERR_UNKNOWN_TRANSACTION;
		return o->handler(self, call, data, reply, o->userdata);
	}
}

static struct hidl_object *hidl_object_build(const struct ubinder_hidl_interface *iface)
{
	struct hidl_object *o = calloc(1, sizeof(*o));
	bool add_base;
	size_t n;

	if (!o)
		return NULL;
	n = iface->nchain;
	add_base = n == 0 || strcmp(iface->chain[n - 1], UBINDER_HIDL_BASE_DESCRIPTOR) != 0;
	o->nchain = n + (add_base ? 1 : 0);
	o->chain = calloc(o->nchain + 1, sizeof(*o->chain));
	o->hashes = calloc(o->nchain, sizeof(*o->hashes));
	if (!o->chain || !o->hashes)
		goto fail;
	for (size_t i = 0; i < o->nchain; i++) {
		const char *d = i < n ? iface->chain[i] : UBINDER_HIDL_BASE_DESCRIPTOR;

		o->chain[i] = strdup(d ? d : "");
		if (!o->chain[i])
			goto fail;
		if (i < n && iface->hashes)
			memcpy(o->hashes[i], iface->hashes[i], sizeof(o->hashes[i]));
		else if (strcmp(d, UBINDER_HIDL_BASE_DESCRIPTOR) == 0)
			memcpy(o->hashes[i], ibase_hash, sizeof(ibase_hash));
	}
	o->handler = iface->handler;
	o->debug = iface->debug;
	return o;
fail:
	hidl_object_free(o);
	return NULL;
}

int ubinder_hidl_object_new(ubinder_context *ctx, const struct ubinder_hidl_interface *iface,
			    void *userdata, void (*destroy)(void *userdata), ubinder_binder **out)
{
	struct hidl_object *o;
	int err;

	if (!ctx || !iface || !out || (iface->nchain && !iface->chain))
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	o = hidl_object_build(iface);
	if (!o)
		return UBINDER_ERR_NO_MEMORY;
	o->userdata = userdata;
	o->destroy = destroy;
	err = ubinder_binder_new(ctx, o->chain[0], hidl_dispatch, o, hidl_object_destroy, out);
	if (err)
		hidl_object_free(o);
	return err;
}

/* --- calling IBase ------------------------------------------------------------------ */

/* An IBase call with no arguments beyond @args (may be NULL); *reply past its status. */
static int base_call(ubinder_binder *b, uint32_t code, uint32_t flags, ubinder_parcel *args,
		     ubinder_parcel **reply)
{
	ubinder_parcel *data = args ? args : ubinder_parcel_new();
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (reply)
		*reply = NULL;
	if (!err && !args)
		err = ubinder_hidl_write_interface_token(data, UBINDER_HIDL_BASE_DESCRIPTOR);
	if (!err)
		err = ubinder_binder_transact(b, code, data, flags, reply);
	if (!err && reply)
		err = ubinder_hidl_read_status(*reply, NULL);
	if (err && reply) {
		ubinder_parcel_free(*reply);
		*reply = NULL;
	}
	ubinder_parcel_free(data);
	return err;
}

int ubinder_hidl_ping(ubinder_binder *b)
{
	ubinder_parcel *reply;
	int err = base_call(b, UBINDER_HIDL_PING_TRANSACTION, 0, NULL, &reply);

	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_interface_chain(ubinder_binder *b, char ***chain, size_t *count)
{
	ubinder_parcel *reply;
	int err = base_call(b, UBINDER_HIDL_DESCRIPTOR_CHAIN_TRANSACTION, 0, NULL, &reply);

	if (!err)
		err = ubinder_hidl_read_string_vec(reply, chain, count);
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_interface_descriptor(ubinder_binder *b, char **descriptor)
{
	ubinder_parcel *reply;
	const char *s;
	int err = base_call(b, UBINDER_HIDL_GET_DESCRIPTOR_TRANSACTION, 0, NULL, &reply);

	if (!err)
		err = ubinder_hidl_read_string(reply, &s, NULL);
	if (!err && !(*descriptor = strdup(s)))
		err = UBINDER_ERR_NO_MEMORY;
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_get_debug_info(ubinder_binder *b, struct ubinder_hidl_debug_info *info)
{
	struct debug_info_wire w;
	ubinder_parcel *reply;
	const void *buf;
	int err = base_call(b, UBINDER_HIDL_GET_REF_INFO_TRANSACTION, 0, NULL, &reply);

	if (!err)
		err = ubinder_parcel_read_buffer(reply, sizeof(w), NULL, &buf);
	if (!err && !buf)
		err = UBINDER_ERR_BAD_VALUE;
	if (!err) {
		memcpy(&w, buf, sizeof(w));
		*info = (struct ubinder_hidl_debug_info){ w.pid, w.ptr, w.arch };
	}
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_get_hash_chain(ubinder_binder *b, uint8_t (**hashes)[32], size_t *count)
{
	ubinder_parcel *reply;
	const void *elems;
	size_t n;
	int err = base_call(b, UBINDER_HIDL_HASH_CHAIN_TRANSACTION, 0, NULL, &reply);

	if (!err)
		err = ubinder_hidl_read_vec(reply, 32, &elems, &n, NULL);
	if (!err) {
		*hashes = malloc(n ? n * 32 : 1);
		if (!*hashes)
			err = UBINDER_ERR_NO_MEMORY;
		else if (n)
			memcpy(*hashes, elems, n * 32);
		*count = n;
	}
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_hidl_notify_syspropschanged(ubinder_binder *b)
{
	return base_call(b, UBINDER_HIDL_SYSPROPS_CHANGED_TRANSACTION, UBINDER_FLAG_ONEWAY, NULL,
			 NULL);
}

int ubinder_hidl_set_hal_instrumentation(ubinder_binder *b)
{
	return base_call(b, UBINDER_HIDL_SET_HAL_INSTRUMENTATION_TRANSACTION, UBINDER_FLAG_ONEWAY,
			 NULL, NULL);
}

int ubinder_hidl_debug(ubinder_binder *b, int fd, const char *const *options, size_t noptions)
{
	struct ubinder_hidl_native_handle h = { .null = fd < 0, .fds = &fd, .nfds = 1 };
	ubinder_parcel *data = ubinder_parcel_new(), *reply;
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err)
		err = ubinder_hidl_write_interface_token(data, UBINDER_HIDL_BASE_DESCRIPTOR);
	if (!err)
		err = ubinder_hidl_write_native_handle(data, &h);
	if (!err)
		err = ubinder_hidl_write_string_vec(data, options, noptions);
	if (err) {
		ubinder_parcel_free(data);
		return err;
	}
	err = base_call(b, UBINDER_HIDL_DEBUG_TRANSACTION, 0, data, &reply);
	ubinder_parcel_free(reply);
	return err;
}
